#include "tensor/gemm_bf16.h"

#include <cblas.h>

#include <cstring>
#include <unordered_map>

#include "common/error.h"
#include "tensor/cpu.h"
#include "tensor/ops.h"

#ifdef NMT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace nmt::ops {

namespace {
thread_local Bf16Weights* g_weights = nullptr;
}

void to_bf16(const float* x, std::size_t n, std::uint16_t* out) {
#pragma omp parallel for simd schedule(static) if (n >= 65536)
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t u;
    std::memcpy(&u, x + i, sizeof u);
    const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    const std::uint32_t r = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    out[i] = (std::uint16_t)(nan ? ((u >> 16) | 0x40u) : r);
  }
}

Bf16Weights::Bf16Weights(const float* params, std::size_t n) : params_(params), n_(n) {
  if (!bf16_gemm_available())
    throw Error(std::string("--precision bf16: ") + bf16_gemm_unavailable_reason());
}

const std::uint16_t* Bf16Weights::shadow(const float* p) {
  if (p < params_ || p >= params_ + n_) return nullptr;
  if (stale_) {
    bits_.resize(n_);
    to_bf16(params_, n_, bits_.data());
    stale_ = false;
  }
  return bits_.data() + (p - params_);
}

Bf16GemmScope::Bf16GemmScope(Bf16Weights& weights) : outer_(g_weights) { g_weights = &weights; }
Bf16GemmScope::~Bf16GemmScope() { g_weights = outer_; }
Bf16Weights* active_bf16_weights() { return g_weights; }

#ifdef NMT_HAVE_DNNL

bool bf16_gemm_available() {
  static const bool ok = [] {
    // NMT_CPU=generic (tensor/cpu.h) stands for a CPU without them too.
    const auto isa = dnnl::get_effective_cpu_isa();
    return cpu().avx512 &&
           (isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx);
  }();
  return ok;
}

const char* bf16_gemm_unavailable_reason() {
  return bf16_gemm_available() ? ""
                               : "this CPU has neither AVX512-BF16 nor AMX (oneDNN would "
                                 "emulate bfloat16, slower than fp32); train in fp32";
}

namespace {

struct Key {
  bool ta, tb;
  int N, lda, ldb, ldc;
  std::uint32_t alpha;
  bool accumulate;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  std::size_t operator()(const Key& k) const {
    std::size_t h = k.ta * 2 + k.tb + k.accumulate * 4;
    for (long v : {(long)k.N, (long)k.lda, (long)k.ldb, (long)k.ldc, (long)k.alpha})
      h = h * 1000003u ^ (std::size_t)v;
    return h;
  }
};

// Primitives kept (a bound: strides and N take few values, but nothing should grow forever).
constexpr std::size_t kCachedPrimitives = 512;

dnnl::engine& engine() {
  static dnnl::engine e = [] {
    dnnl::set_primitive_cache_capacity((int)kCachedPrimitives);
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return e;
}

// A [M, K] or B [K, N] (bf16) or C [M, N] (f32) with row stride ld, transposed storage when t.
dnnl::memory::desc operand(dnnl::memory::dim rows, dnnl::memory::dim cols, bool t, int ld,
                           dnnl::memory::data_type type) {
  using dims = dnnl::memory::dims;
  return {{rows, cols}, type, t ? dims{1, ld} : dims{ld, 1}};
}

// One matmul per N, strides, alpha and accumulation, with M and K given at run time: the row
// counts of a batch (M in the forward and input gradients, K in the weight gradients) differ
// from batch to batch and would each need their own JIT-compiled primitive otherwise (oneDNN
// then picks its gemm:jit kernel, measured as fast as brgemm on the model's shapes). Kept while
// at most kCachedPrimitives are (then all are dropped and made again as needed).
const dnnl::matmul& primitive(const Key& k) {
  thread_local std::unordered_map<Key, dnnl::matmul, KeyHash> cache;
  auto it = cache.find(k);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kCachedPrimitives) cache.clear();
  using dt = dnnl::memory::data_type;
  constexpr dnnl::memory::dim any = DNNL_RUNTIME_DIM_VAL;
  const auto a = operand(any, any, k.ta, k.lda, dt::bf16),
             b = operand(any, k.N, k.tb, k.ldb, dt::bf16),
             c = operand(any, k.N, false, k.ldc, dt::f32);
  dnnl::primitive_attr attr;
  float alpha;
  std::memcpy(&alpha, &k.alpha, sizeof alpha);
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (k.accumulate) {
    dnnl::post_ops po;
    po.append_sum(1.0f);
    attr.set_post_ops(po);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine());
  return cache.emplace(k, dnnl::matmul(pd)).first->second;
}

// The stored matrix rows x cols (row stride ld) as dense bf16 bits in buf; returns its stride.
int convert(const float* x, int rows, int cols, int ld, std::vector<std::uint16_t>& buf) {
  buf.resize((std::size_t)rows * cols);
  if (ld == cols) {
    to_bf16(x, (std::size_t)rows * cols, buf.data());
  } else {
#pragma omp parallel for schedule(static) if ((std::size_t)rows * cols >= 65536)
    for (int r = 0; r < rows; ++r)
      to_bf16(x + (std::size_t)r * ld, cols, buf.data() + (std::size_t)r * cols);
  }
  return cols;
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc,
               const std::uint16_t* A_bits, const std::uint16_t* B_bits) {
  thread_local std::vector<std::uint16_t> a_buf, b_buf;
  if (!A_bits) {
    lda = trans_a ? convert(A, K, M, lda, a_buf) : convert(A, M, K, lda, a_buf);
    A_bits = a_buf.data();
  }
  if (!B_bits) {
    ldb = trans_b ? convert(B, N, K, ldb, b_buf) : convert(B, K, N, ldb, b_buf);
    B_bits = b_buf.data();
  }
  if (beta != 0.0f && beta != 1.0f)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[(std::size_t)i * ldc + j] *= beta;
  Key k{trans_a, trans_b, N, lda, ldb, ldc, 0, beta != 0.0f};
  std::memcpy(&k.alpha, &alpha, sizeof alpha);
  const dnnl::matmul& mm = primitive(k);
  using dt = dnnl::memory::data_type;
  thread_local dnnl::stream stream(engine());
  dnnl::memory am(operand(M, K, trans_a, lda, dt::bf16), engine(),
                  const_cast<std::uint16_t*>(A_bits));
  dnnl::memory bm(operand(K, N, trans_b, ldb, dt::bf16), engine(),
                  const_cast<std::uint16_t*>(B_bits));
  dnnl::memory cm(operand(M, N, false, ldc, dt::f32), engine(), C);
  mm.execute(stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  stream.wait();
}

#else  // no oneDNN

bool bf16_gemm_available() { return false; }
const char* bf16_gemm_unavailable_reason() {
  return "this nmt was built without oneDNN (install libdnnl-dev and rebuild)";
}
void gemm_bf16(bool, bool, int, int, int, float, const float*, int, const float*, int, float,
               float*, int, const std::uint16_t*, const std::uint16_t*) {
  throw Error(std::string("bf16 GEMM: ") + bf16_gemm_unavailable_reason());
}

#endif

}  // namespace nmt::ops
