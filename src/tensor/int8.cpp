#include "tensor/int8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

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

// One matmul for any number of rows (a runtime M), s8 x s8 -> f32 with per-column output
// scales given at run time, and W's int8 copy reordered once into the layout it wants.
struct Int8Matrix::Packed {
  dnnl::matmul mm;
  dnnl::memory weights;
};

Int8Matrix::Int8Matrix(const float* W, int rows, int cols, int ld) : rows_(rows), cols_(cols) {
  quantize_rows(W, rows, cols, ld, q_, scale_);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::memory::desc src({DNNL_RUNTIME_DIM_VAL, cols}, dt::s8, tag::ab);
  const dnnl::memory::desc wei({cols, rows}, dt::s8, tag::any);
  const dnnl::memory::desc dst({DNNL_RUNTIME_DIM_VAL, rows}, dt::f32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
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

void Int8Matrix::linear_forward(int n, const float* x, int ldx, const float* b, float* y,
                                int ldy) const {
  if (n <= 0) return;
  thread_local std::vector<std::int8_t> xq;
  thread_local std::vector<float> scales;
  float mx = 0.0f;
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < cols_; ++k) mx = std::max(mx, std::fabs(x[(std::size_t)i * ldx + k]));
  const float sx = mx > 0.0f ? mx / 127.0f : 1.0f, inv = 1.0f / sx;
  xq.resize((std::size_t)n * cols_);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < cols_; ++k)
      xq[(std::size_t)i * cols_ + k] = (std::int8_t)std::lrint(x[(std::size_t)i * ldx + k] * inv);
  scales.resize(rows_);
  for (int r = 0; r < rows_; ++r) scales[r] = sx * scale_[r];
  using dt = dnnl::memory::data_type;
  dnnl::memory src({{n, cols_}, dt::s8, dnnl::memory::dims{cols_, 1}}, engine(), xq.data());
  dnnl::memory dst({{n, rows_}, dt::f32, dnnl::memory::dims{ldy, 1}}, engine(), y);
  dnnl::memory sc({{rows_}, dt::f32, dnnl::memory::dims{1}}, engine(), scales.data());
  thread_local dnnl::stream stream(engine());
  packed_->mm.execute(stream, {{DNNL_ARG_SRC, src},
                               {DNNL_ARG_WEIGHTS, packed_->weights},
                               {DNNL_ARG_DST, dst},
                               {DNNL_ARG_ATTR_OUTPUT_SCALES, sc}});
  stream.wait();
  if (b)
    for (int i = 0; i < n; ++i)
      for (int r = 0; r < rows_; ++r) y[(std::size_t)i * ldy + r] += b[r];
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
