// int8 decoding (--precision int8): the int8 product against a double-precision reference on the
// quantized values (tails, strides, odd sizes), the VNNI kernel for few rows against oneDNN's GEMM
// for many (the same bits), thread invariance, and a translation that is the same alone and in
// a batch; WeightMatrix's three precisions behind one linear(); the kernels chosen at run time
// from the CPU's features against their portable fallbacks.
#include <gtest/gtest.h>

#include <cmath>

#include "decode/translator.h"
#include "tensor/bf16.h"
#include "tensor/cpu.h"
#include "tensor/int8.h"
#include "tensor/ops.h"
#include "tensor/weight.h"
#include "test_util.h"

namespace nmt::testing {
namespace {

// Reference: per-row symmetric quantization of W and of each x row, exact integer dot products.
std::vector<double> reference(const std::vector<float>& W, int rows, int cols, int ld,
                              const std::vector<float>& x, int n, int ldx,
                              const std::vector<float>& b) {
  auto quantize = [](const float* v, int len, std::vector<double>& q) {
    double mx = 0;
    for (int k = 0; k < len; ++k) mx = std::max(mx, (double)std::fabs(v[k]));
    const float s = mx > 0 ? (float)mx / 127.0f : 1.0f;
    q.resize(len);
    for (int k = 0; k < len; ++k) q[k] = std::lrint(std::clamp(v[k] / s, -127.0f, 127.0f));
    return (double)s;
  };
  std::vector<double> y((std::size_t)n * rows), qx, qw;
  for (int i = 0; i < n; ++i) {
    const double sx = quantize(x.data() + (std::size_t)i * ldx, cols, qx);
    for (int r = 0; r < rows; ++r) {
      const double sw = quantize(W.data() + (std::size_t)r * ld, cols, qw);
      double dot = 0;
      for (int k = 0; k < cols; ++k) dot += qx[k] * qw[k];
      y[(std::size_t)i * rows + r] = dot * sw * sx + b[r];
    }
  }
  return y;
}

TEST(Int8, ProductMatchesReferenceOnQuantizedValues) {
  if (!ops::int8_gemm_available()) {
    expect_error([] { ops::WeightMatrix(nullptr, 1, 1, 1, ops::Precision::Int8); },
                 {"--precision int8"});
    return;
  }
  Rng rng(3);
  struct Case {
    int rows, cols, ld, n, ldx;
  };
  // cols % 64 == 0 with n <= 8 takes the VNNI kernel (rows not a multiple of 8: its tail);
  // the others oneDNN's GEMM.
  for (const auto c :
       {Case{37, 128, 130, 1, 128}, Case{64, 192, 192, 8, 200}, Case{29, 100, 100, 3, 101},
        Case{300, 1792, 1792, 20, 1792}, Case{5894 % 61, 64, 64, 130, 64}}) {
    const auto W = uniform_vec(rng, (std::size_t)c.rows * c.ld, -0.3f, 0.3f);
    const auto x = uniform_vec(rng, (std::size_t)c.n * c.ldx, -2.0f, 2.0f);
    const auto b = uniform_vec(rng, c.rows);
    const ops::Int8Matrix M(W.data(), c.rows, c.cols, c.ld);
    std::vector<float> y((std::size_t)c.n * (c.rows + 3), 9.0f);
    M.linear_forward(c.n, x.data(), c.ldx, b.data(), y.data(), c.rows + 3);
    const auto ref = reference(W, c.rows, c.cols, c.ld, x, c.n, c.ldx, b);
    for (int i = 0; i < c.n; ++i) {
      for (int r = 0; r < c.rows; ++r)
        ASSERT_NEAR(y[(std::size_t)i * (c.rows + 3) + r], ref[(std::size_t)i * c.rows + r],
                    1e-5 * (1 + std::fabs(ref[(std::size_t)i * c.rows + r])))
            << "rows " << c.rows << " cols " << c.cols << " n " << c.n << " at " << i << "," << r;
      for (int r = c.rows; r < c.rows + 3; ++r)
        EXPECT_EQ(y[(std::size_t)i * (c.rows + 3) + r], 9.0f);
    }
  }
}

TEST(Int8, FewRowsKernelGivesTheGemmsBitsAndThreadsDoNotMatter) {
  if (!ops::int8_gemm_available()) return;  // the refusal is tested above
  Rng rng(4);
  const int rows = 203, cols = 256, n = 24;
  const auto W = uniform_vec(rng, (std::size_t)rows * cols),
             x = uniform_vec(rng, (std::size_t)n * cols);
  const ops::Int8Matrix M(W.data(), rows, cols, cols);
  auto run = [&](int threads, int per_call) {
    ops::set_threads(threads);
    std::vector<float> y((std::size_t)n * rows);
    for (int i = 0; i < n; i += per_call)
      M.linear_forward(std::min(per_call, n - i), x.data() + (std::size_t)i * cols, cols, nullptr,
                       y.data() + (std::size_t)i * rows, rows);
    return y;
  };
  const auto gemm = run(2, n), kernel = run(2, 1), kernel8 = run(2, 8), one = run(1, n);
  ops::set_threads(2);
  EXPECT_EQ(gemm, kernel);
  EXPECT_EQ(gemm, kernel8);
  EXPECT_EQ(gemm, one);
}

// Restricts the CPU features seen by the kernels for the life of the object.
struct PortableKernels {
  PortableKernels() { ops::restrict_cpu_features({}); }
  ~PortableKernels() { ops::restrict_cpu_features({true, true}); }
};

TEST(RunTimeKernels, PortableFallbacksAgreeWithTheAvx512Kernels) {
  Rng rng(8);
  const int rows = 45, cols = 128, n = 3;  // few rows, cols % 64 == 0: the hand-written kernels
  const auto W = uniform_vec(rng, (std::size_t)rows * cols),
             x = uniform_vec(rng, (std::size_t)n * cols), b = uniform_vec(rng, rows);
  const ops::Bf16Matrix bf(W.data(), rows, cols, cols);
  auto bf16 = [&] {
    std::vector<float> y((std::size_t)n * rows);
    bf.linear_forward(n, x.data(), cols, b.data(), y.data(), rows);
    return y;
  };
  std::vector<double> ref((std::size_t)n * rows);  // on the bf16-rounded weights, in double
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < rows; ++r) {
      double s = b[r];
      for (int k = 0; k < cols; ++k)
        s += (double)ops::round_bf16(W[(std::size_t)r * cols + k]) * x[(std::size_t)i * cols + k];
      ref[(std::size_t)i * rows + r] = s;
    }
  const auto fast_bf16 = bf16();
  std::vector<float> fast_int8((std::size_t)n * rows), portable_int8(fast_int8.size());
  std::unique_ptr<ops::Int8Matrix> q;
  if (ops::int8_gemm_available()) {
    q = std::make_unique<ops::Int8Matrix>(W.data(), rows, cols, cols);
    q->linear_forward(n, x.data(), cols, b.data(), fast_int8.data(), rows);
  }
  std::vector<float> portable_bf16;
  {
    const PortableKernels portable;
    EXPECT_FALSE(ops::cpu().avx512 || ops::cpu().avx512_vnni);
    portable_bf16 = bf16();
    if (q) q->linear_forward(n, x.data(), cols, b.data(), portable_int8.data(), rows);
  }
  for (std::size_t i = 0; i < ref.size(); ++i) {
    EXPECT_NEAR(fast_bf16[i], ref[i], 1e-5 * (1 + std::fabs(ref[i]))) << i;
    EXPECT_NEAR(portable_bf16[i], ref[i], 1e-5 * (1 + std::fabs(ref[i]))) << i;
  }
  EXPECT_EQ(fast_int8, portable_int8);  // the VNNI kernel and oneDNN's GEMM: the same bits
}

TEST(Int8, WeightMatrixPrecisionsShareOneLinear) {
  Rng rng(6);
  const int rows = 40, cols = 64, ld = 70, n = 3;
  const auto W = uniform_vec(rng, (std::size_t)rows * ld),
             x = uniform_vec(rng, (std::size_t)n * cols);
  const auto b = uniform_vec(rng, rows);
  std::vector<double> exact((std::size_t)n * rows);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < rows; ++r) {
      double s = b[r];
      for (int k = 0; k < cols; ++k)
        s += (double)x[(std::size_t)i * cols + k] * W[(std::size_t)r * ld + k];
      exact[(std::size_t)i * rows + r] = s;
    }
  for (auto p : {ops::Precision::Fp32, ops::Precision::Bf16, ops::Precision::Int8}) {
    if (p == ops::Precision::Int8 && !ops::int8_gemm_available()) continue;
    const ops::WeightMatrix M(W.data(), rows, cols, ld, p);
    std::vector<float> y((std::size_t)n * rows);
    M.linear(n, x.data(), cols, b.data(), y.data(), rows);
    const double tol = p == ops::Precision::Fp32 ? 1e-5 : p == ops::Precision::Bf16 ? 2e-2 : 6e-2;
    for (std::size_t i = 0; i < y.size(); ++i)
      EXPECT_NEAR(y[i], exact[i], tol * (1 + std::fabs(exact[i]))) << ops::precision_name(p);
  }
}

TEST(Int8, TranslationIsTheSameAloneAndInABatch) {
  if (!ops::int8_gemm_available()) return;
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  Rng rng(12);
  std::vector<std::vector<int>> src;
  for (int i = 0; i < 12; ++i)
    src.push_back(random_sentence(rng, 3 + (int)rng.below(9), m.config.src_vocab_size));
  decode::DecodeOptions opt;
  opt.max_len = 12;
  for (int beam : {1, 3}) {
    opt.beam = beam;
    decode::Translator batched(m, ops::Precision::Int8), alone(m, ops::Precision::Int8);
    const auto all = batched.translate(src, opt);
    for (std::size_t i = 0; i < src.size(); ++i) {
      const auto one = alone.translate({src[i]}, opt);
      EXPECT_EQ(one[0].ids, all[i].ids) << "sentence " << i << " beam " << beam;
      // The int8 products are batch-invariant to the bit (encoder and decoder); the tolerance
      // is test_decode's for fp32 decoding.
      EXPECT_NEAR(one[0].log_prob, all[i].log_prob,
                  1e-5 * std::max(1.0f, std::fabs(all[i].log_prob)))
          << "sentence " << i << " beam " << beam;
    }
  }
}

}  // namespace
}  // namespace nmt::testing
