#include "tensor/ops.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tensor/gemm_bf16.h"

namespace nmt::ops {

void gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) C[(std::size_t)i * ldc + j] *= beta;
    return;
  }
  if (M == 1) {
    // A matrix-vector product: OpenBLAS 0.3.21's sgemm would pack all of B first (for the
    // output layer that is 42 MB per decoder step), sgemv streams it once.
    const int inc_a = trans_a ? lda : 1;
    if (trans_b)  // C[1,N] = B[N,K] a
      cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, alpha, B, ldb, A, inc_a, beta, C, 1);
    else  // C[1,N] = B[K,N]^T a
      cblas_sgemv(CblasRowMajor, CblasTrans, K, N, alpha, B, ldb, A, inc_a, beta, C, 1);
    return;
  }
  // Mixed precision (a Bf16GemmScope on this thread, `nmt train --precision bf16`) for GEMMs
  // big enough to gain from it; weights come from the scope's bf16 copy.
  if (Bf16Weights* bf16 = active_bf16_weights(); bf16 && (double)M * N * K >= 262144.0) {
    gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bf16->shadow(A),
              bf16->shadow(B));
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void linear_forward(int N, int in, int out, const float* x, const float* W, const float* b,
                    float* y, int ldx, int ldy, int ldw) {
  if (ldx < 0) ldx = in;
  if (ldy < 0) ldy = out;
  if (ldw < 0) ldw = in;
  if (b) {
    for (int i = 0; i < N; ++i) std::memcpy(y + (std::size_t)i * ldy, b, sizeof(float) * out);
  }
  gemm(false, true, N, out, in, 1.0f, x, ldx, W, ldw, b ? 1.0f : 0.0f, y, ldy);
}

void linear_backward(int N, int in, int out, const float* dy, const float* x, const float* W,
                     float* dx, float* dW, float* db, bool accumulate_dx, int ldx, int lddy,
                     int lddx) {
  if (ldx < 0) ldx = in;
  if (lddy < 0) lddy = out;
  if (lddx < 0) lddx = in;
  if (dx)
    gemm(false, false, N, in, out, 1.0f, dy, lddy, W, in, accumulate_dx ? 1.0f : 0.0f, dx, lddx);
  if (dW) gemm(true, false, out, in, N, 1.0f, dy, lddy, x, ldx, 1.0f, dW, in);
  if (db) add_colsum(N, out, dy, lddy, db);
}

void add_colsum(int N, int C, const float* dy, int ld, float* db) {
  for (int i = 0; i < N; ++i) {
    const float* row = dy + (std::size_t)i * ld;
#pragma omp simd
    for (int j = 0; j < C; ++j) db[j] += row[j];
  }
}

double sum_squares(const float* x, std::size_t n) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (std::size_t i = 0; i < n; ++i) total += (double)x[i] * x[i];
  return total;
}

void scale(float* x, std::size_t n, float s) {
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) x[i] *= s;
}

bool all_finite(const float* x, std::size_t n) {
  int bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static)
  for (std::size_t i = 0; i < n; ++i) bad |= !std::isfinite(x[i]);
  return !bad;
}

void adam_update(float* w, const float* g, float* m, float* v, std::size_t n, float lr, float beta1,
                 float beta2, float eps, long step) {
  const double bc1 = 1.0 - std::pow((double)beta1, (double)step);
  const double bc2 = 1.0 - std::pow((double)beta2, (double)step);
  const float step_size = (float)(lr / bc1);
  const float bc2_sqrt = (float)std::sqrt(bc2);
#pragma omp parallel for simd schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
    v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    w[i] -= step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  }
}

const char* blas_core_name() { return openblas_get_corename(); }

void ensure_fast_blas(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user (or our re-exec) chose already
  const std::string core = openblas_get_corename();
  const bool generic = core == "Prescott" || core == "Core2" || core == "Nehalem" ||
                       core == "prescott" || core == "core2" || core == "nehalem";
  if (!generic) return;
  const char* want = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
    want = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    want = "Haswell";
  if (!want) return;
  setenv("OPENBLAS_CORETYPE", want, 1);
  execv("/proc/self/exe", argv);  // only returns on failure: carry on with the slow kernels
}

void set_threads(int threads) {
  if (threads <= 0) return;
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int threads() { return omp_get_max_threads(); }

}  // namespace nmt::ops
