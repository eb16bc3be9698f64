#include "tensor/weight.h"

#include "common/error.h"
#include "tensor/ops.h"

namespace nmt::ops {

WeightMatrix::WeightMatrix(const float* W, int rows, int cols, int ld, Precision p)
    : p_(p), rows_(rows), cols_(cols), ld_(ld) {
  switch (p) {
    case Precision::Fp32:
      fp32_ = W;
      break;
    case Precision::Bf16:
      bf16_ = std::make_shared<const Bf16Matrix>(W, rows, cols, ld);
      break;
    case Precision::Int8:
      int8_ = std::make_shared<const Int8Matrix>(W, rows, cols, ld);
      break;
    case Precision::Auto:
      throw Error("a weight matrix needs a resolved precision, not auto (ops::resolve)");
  }
}

void WeightMatrix::linear(int n, const float* x, int ldx, const float* b, float* y, int ldy) const {
  switch (p_) {
    case Precision::Fp32:
      linear_forward(n, cols_, rows_, x, fp32_, b, y, ldx, ldy, ld_);
      break;
    case Precision::Bf16:
      bf16_->linear_forward(n, x, ldx, b, y, ldy);
      break;
    case Precision::Int8:
      int8_->linear_forward(n, x, ldx, b, y, ldy);
      break;
    case Precision::Auto:
      break;  // never made (the constructor refuses it)
  }
}

void WeightMatrix::round_in_place(float* W, int rows, int cols, int ld, Precision p) {
  if (p == Precision::Auto) throw Error("rounding needs a resolved precision, not auto");
  if (p == Precision::Fp32) return;
  if (p == Precision::Bf16) {
    for (int r = 0; r < rows; ++r)
      for (int k = 0; k < cols; ++k)
        W[(std::size_t)r * ld + k] = round_bf16(W[(std::size_t)r * ld + k]);
    return;
  }
  const Int8Matrix q(W, rows, cols, ld);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < cols; ++k) W[(std::size_t)r * ld + k] = q.dequantized(r, k);
}

}  // namespace nmt::ops
