#pragma once
// Mixed-precision GEMM for training (`nmt train --precision bf16`): while a Bf16GemmScope is
// alive on a thread, ops::gemm on that thread multiplies bfloat16-rounded inputs with fp32
// accumulation (oneDNN's matmul, AVX512-BF16 / AMX kernels where the CPU has them) instead of
// OpenBLAS SGEMM. Everything else stays fp32: master weights, Adam, the loss, the outputs.
//
// Weights are converted once per optimizer step, not per GEMM: the scope holds a bf16 copy of
// the whole flat parameter buffer, made on first use and remade after weights_changed(); a GEMM
// operand that lies inside the parameter buffer is read from that copy, any other operand
// (activations, gradients of activations) is converted when it is used.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nmt::ops {

// True when this build has oneDNN (libdnnl-dev) and the CPU has AVX512-BF16 or AMX-BF16;
// where it is false, --precision bf16 training is refused with a clear error.
bool bf16_gemm_available();
// Why bf16_gemm_available() is false ("" when it is true).
const char* bf16_gemm_unavailable_reason();

// The bf16 copy of a flat parameter buffer, remade lazily after each update.
class Bf16Weights {
 public:
  // Throws nmt::Error when bf16 GEMMs are unavailable (bf16_gemm_unavailable_reason()).
  Bf16Weights(const float* params, std::size_t n);
  // The parameters were updated: the copy is remade before the next GEMM that reads them.
  void weights_changed() { stale_ = true; }
  // The bf16 bits of p's value when p lies in the parameter buffer, else nullptr.
  const std::uint16_t* shadow(const float* p);

 private:
  const float* params_;
  std::size_t n_;
  bool stale_ = true;
  std::vector<std::uint16_t> bits_;
};

// While alive, ops::gemm on this thread runs in mixed precision with `weights` as the weights'
// bf16 copy (the forward and backward of a training step; validation stays outside, in fp32).
class Bf16GemmScope {
 public:
  explicit Bf16GemmScope(Bf16Weights& weights);
  ~Bf16GemmScope();
  Bf16GemmScope(const Bf16GemmScope&) = delete;
  Bf16GemmScope& operator=(const Bf16GemmScope&) = delete;

 private:
  Bf16Weights* outer_;
};

// The weights of the scope active on this thread, or nullptr (ops::gemm is then fp32 SGEMM).
Bf16Weights* active_bf16_weights();

// C = alpha op(A) op(B) + beta C with A and B rounded to bf16 and fp32 accumulation; the same
// arguments as ops::gemm. A_bits/B_bits: the operands' bf16 bits already made (or nullptr).
void gemm_bf16(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A,
               int lda, const float* B, int ldb, float beta, float* C, int ldc,
               const std::uint16_t* A_bits = nullptr, const std::uint16_t* B_bits = nullptr);

// Converts n floats to bf16 bits (round to nearest even), in parallel.
void to_bf16(const float* x, std::size_t n, std::uint16_t* out);

}  // namespace nmt::ops
