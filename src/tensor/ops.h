#pragma once
// The numeric kernels the model needs, behind one narrow interface (row-major, fp32): a GPU
// backend would re-implement exactly these. GEMMs go to OpenBLAS; the rest are tight loops.
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace nmt::ops {

// C[M,N] = alpha * op(A) op(B) + beta * C, op(X) = X or X^T; lda/ldb/ldc are row strides.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);

// y[N,out] = x[N,in] W[out,in]^T + b (PyTorch Linear); b may be null. ldx/ldy/ldw: row strides
// of x, y and W (-1: dense).
void linear_forward(int N, int in, int out, const float* x, const float* W, const float* b,
                    float* y, int ldx = -1, int ldy = -1, int ldw = -1);
// dx[N,in] (+)= dy W; dW[out,in] += dy^T x; db[out] += colsum(dy). Any of dx/dW/db may be null.
void linear_backward(int N, int in, int out, const float* dy, const float* x, const float* W,
                     float* dx, float* dW, float* db, bool accumulate_dx, int ldx = -1,
                     int lddy = -1, int lddx = -1);

// db[C] += column sums of dy[N,C] (row stride ld).
void add_colsum(int N, int C, const float* dy, int ld, float* db);

// Vectorizable exp/tanh/sigmoid (max rel. error ~2e-7 for exp over [-87, 88]).
inline float fast_exp(float x) {
  // Comparisons (not fmin/fmax) so that NaN stays NaN; the arithmetic runs on a finite stand-in.
  const float xc = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const bool nan = xc != xc;
  x = nan ? 0.0f : xc;
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return nan ? xc : p * scale;
}
// Largest of x[0..n), n >= 1, as a vectorized reduction (std::fmax is a libm call per element);
// a NaN among the values is not chosen but surfaces in the exp() sums that follow.
inline float max_of(const float* x, int n) {
  float mx = x[0];
#pragma omp simd reduction(max : mx)
  for (int k = 1; k < n; ++k) mx = x[k] > mx ? x[k] : mx;
  return mx;
}
inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
inline float fast_tanh(float x) {
  // tanh(x) = 2 sigmoid(2x) - 1, written so that small |x| keeps its absolute accuracy.
  const float e = fast_exp(-2.0f * std::fabs(x));
  const float t = (1.0f - e) / (1.0f + e);
  return std::copysign(t, x);
}

// Sum of squares of x[n] in double (for the global gradient norm).
double sum_squares(const float* x, std::size_t n);
void scale(float* x, std::size_t n, float s);
// True when every value is finite.
bool all_finite(const float* x, std::size_t n);

// Adam step (PyTorch semantics, no weight decay) over n values; step is 1-based.
void adam_update(float* w, const float* g, float* m, float* v, std::size_t n, float lr, float beta1,
                 float beta2, float eps, long step);

// OpenBLAS picks its kernels when it loads; on CPUs it does not know (e.g. a virtualised
// Sapphire Rapids) it falls back to SSE3 "Prescott" kernels, 5x slower. When that happened and
// the CPU has AVX-512 (or AVX2), this sets OPENBLAS_CORETYPE and re-executes the program once.
// Returns only when no re-exec was needed (or it failed).
void ensure_fast_blas(char** argv);
const char* blas_core_name();

// Threads used by BLAS and our parallel loops.
void set_threads(int threads);
int threads();

}  // namespace nmt::ops
