#include "tensor/bf16.h"

#include <cstring>

#include "tensor/cpu.h"
#include "tensor/ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
// The AVX-512 kernel is compiled for AVX-512 whatever the build's -march, and used only where
// cpu() finds it (run-time selection).
#define NMT_BF16_AVX512 1
// GCC 12's AVX-512 headers start from _mm512_undefined_*() and warn about it when inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace nmt::ops {

std::uint16_t to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (std::uint16_t)((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return (std::uint16_t)(u >> 16);
}

Bf16Matrix::Bf16Matrix(const float* W, int rows, int cols, int ld)
    : rows_(rows),
      cols_(cols),
      bits_((std::size_t)rows * cols),
      rounded_((std::size_t)rows * cols) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const std::size_t i = (std::size_t)r * cols + c;
      bits_[i] = to_bf16(W[(std::size_t)r * ld + c]);
      rounded_[i] = from_bf16(bits_[i]);
    }
}

namespace {

constexpr int kRowBlock = 8;  // W rows per block: 8 accumulators, 8 streams, fits in L1

// y[i, r0 + r) for x rows i < n and W rows r < rows (the scalar path).
void rows_scalar(int n, int rows, int K, const std::uint16_t* w, const float* x, int ldx, float* y,
                 int ldy) {
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < rows; ++r) {
      const std::uint16_t* wr = w + (std::size_t)r * K;
      const float* xi = x + (std::size_t)i * ldx;
      float s = 0.0f;
      for (int k = 0; k < K; ++k) s += from_bf16(wr[k]) * xi[k];
      y[(std::size_t)i * ldy + r] = s;
    }
}

#ifdef NMT_BF16_AVX512
// block8 on AVX-512 (K % 16 == 0).
__attribute__((target("avx512f,avx512bw"))) void block8_avx512(int n, int K, const std::uint16_t* w,
                                                               const float* x, int ldx, float* y,
                                                               int ldy) {
  for (int i = 0; i < n; ++i) {
    const float* xi = x + (std::size_t)i * ldx;
    __m512 acc[kRowBlock];
    for (int r = 0; r < kRowBlock; ++r) acc[r] = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 16) {
      const __m512 xv = _mm512_loadu_ps(xi + k);
      for (int r = 0; r < kRowBlock; ++r) {
        const __m256i wb = _mm256_loadu_si256((const __m256i*)(w + (std::size_t)r * K + k));
        const __m512 wf = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(wb), 16));
        acc[r] = _mm512_fmadd_ps(wf, xv, acc[r]);
      }
    }
    for (int r = 0; r < kRowBlock; ++r) y[(std::size_t)i * ldy + r] = _mm512_reduce_add_ps(acc[r]);
  }
}
#endif

// y[i, r0..r0+8) for the x rows i < n; W rows r0.. are full (no tail).
void block8(int n, int K, const std::uint16_t* w, const float* x, int ldx, float* y, int ldy) {
#ifdef NMT_BF16_AVX512
  if (K % 16 == 0 && cpu().avx512) {
    block8_avx512(n, K, w, x, ldx, y, ldy);
    return;
  }
#endif
  rows_scalar(n, kRowBlock, K, w, x, ldx, y, ldy);
}

}  // namespace

void Bf16Matrix::linear_forward(int n, const float* x, int ldx, const float* b, float* y,
                                int ldy) const {
  if (n <= 0) return;
  if (n > 8) {
    // Enough rows to make the product compute-bound: BLAS on the same rounded values.
    ops::linear_forward(n, cols_, rows_, x, rounded_.data(), b, y, ldx, ldy);
    return;
  }
  const int K = cols_, full = rows_ / kRowBlock;
#pragma omp parallel for schedule(static)
  for (int blk = 0; blk < full; ++blk)
    block8(n, K, bits_.data() + (std::size_t)blk * kRowBlock * K, x, ldx, y + blk * kRowBlock, ldy);
  const int tail = full * kRowBlock;
  rows_scalar(n, rows_ - tail, K, bits_.data() + (std::size_t)tail * K, x, ldx, y + tail, ldy);
  if (b)
    for (int i = 0; i < n; ++i)
      for (int r = 0; r < rows_; ++r) y[(std::size_t)i * ldy + r] += b[r];
}

}  // namespace nmt::ops
