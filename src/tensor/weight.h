#pragma once
// One weight-matrix type for every precision, and one linear(): a layer holds a WeightMatrix and
// calls linear(); whether the matrix is fp32 (a view of the model's weights: the exact model),
// bf16 (a bfloat16 copy, fp32 arithmetic) or int8 (per-row int8 with scales, packed once for
// oneDNN's VNNI GEMM) is decided once, when it is made, so model code does not change per
// precision.
#include <memory>
#include <string>

#include "tensor/bf16.h"
#include "tensor/int8.h"
#include "tensor/precision.h"

namespace nmt::ops {


class WeightMatrix {
 public:
  WeightMatrix() = default;
  // W[rows, cols] with row stride ld, used as y = x W^T + b. Fp32 keeps a view of W (which must
  // outlive it); Bf16 and Int8 make their own copy, once. p is a resolved precision (not Auto).
  WeightMatrix(const float* W, int rows, int cols, int ld, Precision p = Precision::Fp32);
  Precision precision() const { return p_; }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  // y[n, rows] = x[n, cols] W^T (+ b[rows] when b is not null); ldx/ldy row strides.
  void linear(int n, const float* x, int ldx, const float* b, float* y, int ldy) const;
  // Overwrites W[rows, cols] (row stride ld) with the values precision p computes with (bf16
  // rounding, int8 per-row quantization), so that fp32 scoring sees the model p decodes with.
  static void round_in_place(float* W, int rows, int cols, int ld, Precision p);

 private:
  Precision p_ = Precision::Fp32;
  int rows_ = 0, cols_ = 0, ld_ = 0;
  const float* fp32_ = nullptr;
  std::shared_ptr<const Bf16Matrix> bf16_;
  std::shared_ptr<const Int8Matrix> int8_;
};

}  // namespace nmt::ops
