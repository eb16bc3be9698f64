#pragma once
// int8 weight storage for decoding (`--precision int8`): each row of W quantized symmetrically
// to int8 with its own scale (max |w| / 127), packed once for oneDNN's int8 GEMM (AVX512-VNNI
// or AMX where the CPU has them); the activations are quantized to int8 with one scale
// per row (max |x_i| / 127), products summed exactly in int32, then scaled back to fp32: a row's
// result is the same whatever other rows share the call, and on every code path.
#include <cstdint>
#include <memory>
#include <vector>

namespace nmt::ops {

// True when this build has oneDNN (libdnnl-dev); --precision int8 is refused otherwise.
bool int8_gemm_available();

class Int8Matrix {
 public:
  // W[rows, cols] with row stride ld. Throws nmt::Error without oneDNN.
  Int8Matrix(const float* W, int rows, int cols, int ld);
  ~Int8Matrix();
  Int8Matrix(const Int8Matrix&) = delete;
  Int8Matrix& operator=(const Int8Matrix&) = delete;
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  // y[n, rows] = x[n, cols] W^T (+ b[rows] when b is not null); ldx/ldy row strides.
  void linear_forward(int n, const float* x, int ldx, const float* b, float* y, int ldy) const;
  // w's value as this matrix stores it: q[r][k] * scale[r].
  float dequantized(int r, int k) const { return q_[(std::size_t)r * cols_ + k] * scale_[r]; }

 private:
  struct Packed;  // oneDNN primitive and the packed weights
  int rows_ = 0, cols_ = 0;
  std::vector<std::int8_t> q_;  // [rows, cols]
  std::vector<float> scale_;    // [rows]
  std::vector<int> rowsum_;     // [rows] sum of q's row (the VNNI kernel's offset correction)
  std::unique_ptr<Packed> packed_;
};

}  // namespace nmt::ops
