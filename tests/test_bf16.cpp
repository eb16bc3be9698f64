// bfloat16 weights (--precision bf16): rounding to nearest even, and the product kernel (AVX-512
// and scalar paths, tail rows, strides, bias) against a double reference on the rounded values;
// both paths of Bf16Matrix (own kernel for few rows, BLAS for many) compute the same math.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tensor/bf16.h"
#include "tensor/ops.h"
#include "test_util.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

std::uint32_t bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
float from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

}  // namespace

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(ops::to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(ops::to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(ops::to_bf16(0.0f), 0x0000);
  EXPECT_EQ(ops::to_bf16(-0.0f), 0x8000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(ops::to_bf16(from_bits(0x3f808000)), 0x3f80);
  // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up.
  EXPECT_EQ(ops::to_bf16(from_bits(0x3f818000)), 0x3f82);
  // Just above / below the halfway point.
  EXPECT_EQ(ops::to_bf16(from_bits(0x3f808001)), 0x3f81);
  EXPECT_EQ(ops::to_bf16(from_bits(0x3f807fff)), 0x3f80);
  // Infinities stay, NaN stays NaN, values beyond bf16's largest finite round to infinity.
  EXPECT_EQ(ops::to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(ops::to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_TRUE(std::isnan(ops::from_bf16(ops::to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(ops::from_bf16(ops::to_bf16(from_bits(0x7f800001)))));  // low-bit NaN
  EXPECT_EQ(ops::to_bf16(std::numeric_limits<float>::max()), 0x7f80);
  // Relative error at most 2^-8 (half a unit in the 8th bit) over a range of values.
  Rng rng(3);
  for (int i = 0; i < 10000; ++i) {
    const float x = uniform_vec(rng, 1, -1.0f, 1.0f)[0] * std::ldexp(1.0f, (int)rng.below(60) - 30);
    const float r = ops::round_bf16(x);
    EXPECT_LE(std::fabs(r - x), std::ldexp(std::fabs(x), -8)) << x;
    EXPECT_EQ(bits(r) & 0xffffu, 0u);
  }
}

namespace {

// y = x W^T + b for a rows x cols matrix stored with row stride ld, both Bf16Matrix paths,
// against a double reference on the rounded weights.
void check_product(int n, int rows, int cols, bool bias, std::uint64_t seed) {
  Rng rng(seed);
  const int ld = cols + 3, ldx = cols + 5, ldy = rows + 2;
  const auto W = uniform_vec(rng, (std::size_t)rows * ld, -1.0f, 1.0f);
  const auto x = uniform_vec(rng, (std::size_t)n * ldx, -1.0f, 1.0f);
  const auto b = uniform_vec(rng, rows, -1.0f, 1.0f);
  const ops::Bf16Matrix M(W.data(), rows, cols, ld);
  ASSERT_EQ(M.rows(), rows);
  ASSERT_EQ(M.cols(), cols);
  std::vector<float> y((std::size_t)n * ldy, 12345.0f);
  M.linear_forward(n, x.data(), ldx, bias ? b.data() : nullptr, y.data(), ldy);
  for (int i = 0; i < n; ++i) {
    for (int r = 0; r < rows; ++r) {
      double ref = bias ? b[r] : 0.0, mag = std::fabs(ref);
      for (int k = 0; k < cols; ++k) {
        const double w = ops::round_bf16(W[(std::size_t)r * ld + k]);
        EXPECT_EQ(M.rounded()[(std::size_t)r * cols + k], (float)w);
        ref += w * x[(std::size_t)i * ldx + k];
        mag += std::fabs(w * x[(std::size_t)i * ldx + k]);
      }
      EXPECT_NEAR(y[(std::size_t)i * ldy + r], ref, 1e-6 * mag + 1e-7)
          << "n " << n << " row " << i << " out " << r;
    }
    for (int r = rows; r < ldy; ++r) EXPECT_EQ(y[(std::size_t)i * ldy + r], 12345.0f);
  }
}

}  // namespace

TEST(Bf16, ProductMatchesReferenceOnRoundedWeights) {
  // cols a multiple of 16 (vector kernel) and not (scalar path); rows with and without a tail
  // beyond the 8-row blocks; 1..8 rows (own kernel) and more (BLAS on the rounded copy).
  for (int n : {1, 3, 8, 9, 20})
    for (int rows : {8, 29, 64})
      for (int cols : {16, 48, 30}) check_product(n, rows, cols, n % 2 == 1, 100 + n * rows + cols);
}

TEST(Bf16, KernelAndBlasPathsAgree) {
  // The same rows alone (own kernel) and inside a batch of 16 (BLAS) give the same values to
  // rounding: a sentence's result does not depend on its batch beyond summation order.
  Rng rng(7);
  const int rows = 40, cols = 64, n = 16;
  const auto W = uniform_vec(rng, (std::size_t)rows * cols, -1.0f, 1.0f);
  const auto x = uniform_vec(rng, (std::size_t)n * cols, -1.0f, 1.0f);
  const ops::Bf16Matrix M(W.data(), rows, cols, cols);
  std::vector<float> all((std::size_t)n * rows), one(rows);
  M.linear_forward(n, x.data(), cols, nullptr, all.data(), rows);
  for (int i = 0; i < n; ++i) {
    M.linear_forward(1, x.data() + (std::size_t)i * cols, cols, nullptr, one.data(), rows);
    for (int r = 0; r < rows; ++r)
      EXPECT_NEAR(one[r], all[(std::size_t)i * rows + r], 1e-6 * (1 + std::fabs(one[r])));
  }
}

TEST(Bf16, ThreadCountDoesNotChangeTheResult) {
  Rng rng(8);
  const int rows = 1000, cols = 256;
  const auto W = uniform_vec(rng, (std::size_t)rows * cols);
  const auto x = uniform_vec(rng, cols);
  const ops::Bf16Matrix M(W.data(), rows, cols, cols);
  const int saved = ops::threads();
  std::vector<float> y1(rows), y2(rows);
  ops::set_threads(1);
  M.linear_forward(1, x.data(), cols, nullptr, y1.data(), rows);
  ops::set_threads(2);
  M.linear_forward(1, x.data(), cols, nullptr, y2.data(), rows);
  ops::set_threads(saved);
  EXPECT_EQ(y1, y2);
}
