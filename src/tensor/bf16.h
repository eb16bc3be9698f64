#pragma once
// bfloat16 weight storage for memory-bound decoding (`--precision bf16`): a weight matrix kept
// as the top 16 bits of each fp32 value (round to nearest even), multiplied with fp32
// activations and summed in fp32. Decoding one sentence reads every decoder matrix once per
// step, so halving their bytes roughly halves its time; the rounding is the only change.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nmt::ops {

// fp32 -> bf16 bits, round to nearest even (NaN stays NaN).
std::uint16_t to_bf16(float x);
inline float from_bf16(std::uint16_t b) {
  const std::uint32_t u = (std::uint32_t)b << 16;
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}
// x rounded to the nearest bf16 value, as fp32.
inline float round_bf16(float x) { return from_bf16(to_bf16(x)); }

// W[rows, cols] (row stride ld) in both forms: bf16 bits for the memory-bound kernel and the
// same rounded values as fp32 for the BLAS path of larger batches, so both compute one math.
class Bf16Matrix {
 public:
  Bf16Matrix() = default;
  Bf16Matrix(const float* W, int rows, int cols, int ld);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  const float* rounded() const { return rounded_.data(); }  // [rows, cols], row stride cols

  // y[n,rows] = x[n,cols] W^T (+ b[rows] when b is not null); ldx/ldy row strides.
  void linear_forward(int n, const float* x, int ldx, const float* b, float* y, int ldy) const;

 private:
  int rows_ = 0, cols_ = 0;
  std::vector<std::uint16_t> bits_;  // [rows, cols]
  std::vector<float> rounded_;       // [rows, cols]
};

}  // namespace nmt::ops
