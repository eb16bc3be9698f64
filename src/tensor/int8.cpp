#include "tensor/int8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "tensor/cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
// The VNNI kernel is compiled for AVX512-VNNI whatever the build's -march, and used only where
// cpu() finds it (run-time selection: the same binary is right on every x86-64 CPU).
#define NMT_INT8_VNNI 1
// GCC 12's AVX-512 headers start from _mm512_undefined_*() and warn about it when inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#ifdef NMT_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace nmt::ops {

#ifdef NMT_HAVE_DNNL

namespace {

// Per-row symmetric quantization of W into q and scale.
void quantize_rows(const float* W, int rows, int cols, int ld, std::vector<std::int8_t>& q,
                   std::vector<float>& scale) {
  q.resize((std::size_t)rows * cols);
  scale.resize(rows);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const float* w = W + (std::size_t)r * ld;
    float mx = 0.0f;
    for (int k = 0; k < cols; ++k) mx = std::max(mx, std::fabs(w[k]));
    const float s = mx > 0.0f ? mx / 127.0f : 1.0f;
    scale[r] = s;
    for (int k = 0; k < cols; ++k)
      q[(std::size_t)r * cols + k] = (std::int8_t)std::lrint(std::clamp(w[k] / s, -127.0f, 127.0f));
  }
}

}  // namespace

bool int8_gemm_available() { return true; }

namespace {
dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
}  // namespace

// One matmul for any number of rows (a runtime M), u8 x s8 -> exact s32, and W's int8 copy
// reordered once into the layout it wants.
struct Int8Matrix::Packed {
  dnnl::matmul mm;
  dnnl::memory weights;
};

Int8Matrix::Int8Matrix(const float* W, int rows, int cols, int ld) : rows_(rows), cols_(cols) {
  quantize_rows(W, rows, cols, ld, q_, scale_);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc src({DNNL_RUNTIME_DIM_VAL, cols}, dt::u8, tag::ab);
  const dnnl::memory::desc wei({cols, rows}, dt::s8, tag::any);
  const dnnl::memory::desc dst({DNNL_RUNTIME_DIM_VAL, rows}, dt::s32, tag::ab);
  dnnl::primitive_attr attr;
  rowsum_.resize(rows);
  for (int r = 0; r < rows; ++r) {
    int sum = 0;
    for (int k = 0; k < cols; ++k) sum += q_[(std::size_t)r * cols + k];
    rowsum_[r] = sum;
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), attr, engine());
  packed_ = std::make_unique<Packed>();
  packed_->mm = dnnl::matmul(pd);
  // W^T [cols, rows] is q_ read column-major: strides {1, cols}.
  dnnl::memory plain({{cols, rows}, dt::s8, dnnl::memory::dims{1, cols}}, engine(), q_.data());
  packed_->weights = dnnl::memory(pd.weights_desc(), engine());
  dnnl::stream s(engine());
  dnnl::reorder(plain, packed_->weights).execute(s, plain, packed_->weights);
  s.wait();
}

namespace {

// Row i of x quantized to int8 with its own scale (max |x_i| / 127), so that a row's result does
// not depend on the other rows of the call (batch invariance), stored offset by 128 as uint8
// (VNNI multiplies unsigned by signed bytes); returns the scale.
float quantize_row(const float* x, int cols, std::uint8_t* out) {
  float mx = 0.0f;
  for (int k = 0; k < cols; ++k) mx = std::max(mx, std::fabs(x[k]));
  const float s = mx > 0.0f ? mx / 127.0f : 1.0f, inv = 1.0f / s;
  // nearbyint rounds as lrint does (to nearest, ties to even) and vectorizes; lrint is a call.
#pragma omp simd
  for (int k = 0; k < cols; ++k) out[k] = (std::uint8_t)((int)std::nearbyint(x[k] * inv) + 128);
  return s;
}

#ifdef NMT_INT8_VNNI
// acc[i][r] = sum_k (xu[i][k] - 128) q[r][k] exactly, for n rows of xu and R <= 8 rows of q
// (cols % 64 == 0).
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void dot_vnni(int n, int cols,
                                                                     const std::uint8_t* xu,
                                                                     const std::int8_t* q,
                                                                     const int* rowsum,
                                                                     std::int32_t* acc) {
  for (int i = 0; i < n; ++i) {
    __m512i a[R];
    for (int r = 0; r < R; ++r) a[r] = _mm512_setzero_si512();
    for (int k = 0; k < cols; k += 64) {
      const __m512i x = _mm512_loadu_si512((const void*)(xu + (std::size_t)i * cols + k));
      for (int r = 0; r < R; ++r)
        a[r] = _mm512_dpbusd_epi32(
            a[r], x, _mm512_loadu_si512((const void*)(q + (std::size_t)r * cols + k)));
    }
    for (int r = 0; r < R; ++r) acc[i * 8 + r] = _mm512_reduce_add_epi32(a[r]) - 128 * rowsum[r];
  }
}
#endif

}  // namespace

void Int8Matrix::linear_forward(int n, const float* x, int ldx, const float* b, float* y,
                                int ldy) const {
  if (n <= 0) return;
  thread_local std::vector<std::uint8_t> xq;
  thread_local std::vector<std::int32_t> acc32;
  thread_local std::vector<float> sx;
  xq.resize((std::size_t)n * cols_);
  sx.resize(n);
  // The thread_local buffers by pointer: OpenMP's worker threads have their own (empty) ones.
  std::uint8_t* xqp = xq.data();
  float* sxp = sx.data();
#pragma omp parallel for schedule(static) if ((long)n * cols_ >= 32768)
  for (int i = 0; i < n; ++i)
    sxp[i] = quantize_row(x + (std::size_t)i * ldx, cols_, xqp + (std::size_t)i * cols_);
  bool done = false;
#ifdef NMT_INT8_VNNI
  // Few rows: memory-bound, a streaming kernel over the weight rows (oneDNN's call overhead
  // would dominate). The same exact int32 sums and the same float steps as the GEMM below.
  if (n <= 8 && cols_ % 64 == 0 && cpu().avx512_vnni) {
    const int blocks = (rows_ + 7) / 8;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; ++blk) {
      std::int32_t acc[8 * 8];
      const int r0 = blk * 8, R = std::min(8, rows_ - r0);
      const std::int8_t* q = q_.data() + (std::size_t)r0 * cols_;
      if (R == 8)
        dot_vnni<8>(n, cols_, xqp, q, rowsum_.data() + r0, acc);
      else
        for (int r = 0; r < R; ++r)  // the last rows, one at a time
          dot_vnni<1>(n, cols_, xqp, q + (std::size_t)r * cols_, rowsum_.data() + r0 + r, acc + r);
      for (int i = 0; i < n; ++i)
        for (int r = 0; r < R; ++r)
          y[(std::size_t)i * ldy + r0 + r] = (float)acc[i * 8 + r] * scale_[r0 + r];
    }
    done = true;
  }
#endif
  if (!done) {  // oneDNN's u8 x s8 -> s32 GEMM (VNNI/AMX), then the same float steps
    using dt = dnnl::memory::data_type;
    acc32.resize((std::size_t)n * rows_);
    std::int32_t* acc = acc32.data();
    dnnl::memory src({{n, cols_}, dt::u8, dnnl::memory::dims{cols_, 1}}, engine(), xqp);
    dnnl::memory dst({{n, rows_}, dt::s32, dnnl::memory::dims{rows_, 1}}, engine(), acc);
    thread_local dnnl::stream stream(engine());
    packed_->mm.execute(
        stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, packed_->weights}, {DNNL_ARG_DST, dst}});
    stream.wait();
#pragma omp parallel for schedule(static) if ((long)n * rows_ >= 65536)
    for (int i = 0; i < n; ++i)
      for (int r = 0; r < rows_; ++r)
        y[(std::size_t)i * ldy + r] =
            (float)(acc[(std::size_t)i * rows_ + r] - 128 * rowsum_[r]) * scale_[r];
  }
  // y = (acc * w_scale) * x_scale + b, in this order on every path.
#pragma omp parallel for schedule(static) if ((long)n * rows_ >= 65536)
  for (int i = 0; i < n; ++i) {
    float* yi = y + (std::size_t)i * ldy;
    for (int r = 0; r < rows_; ++r) yi[r] = yi[r] * sxp[i] + (b ? b[r] : 0.0f);
  }
}

#else

bool int8_gemm_available() { return false; }
struct Int8Matrix::Packed {};
Int8Matrix::Int8Matrix(const float*, int, int, int) {
  throw Error("--precision int8: this nmt was built without oneDNN (install libdnnl-dev)");
}
void Int8Matrix::linear_forward(int, const float*, int, const float*, float*, int) const {}

#endif

Int8Matrix::~Int8Matrix() = default;

}  // namespace nmt::ops
