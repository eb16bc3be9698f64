// Mixed-precision training (--precision bf16): the oneDNN bf16 GEMM against a double-precision
// reference (odd sizes, transposes, strides, alpha/beta), its thread and batch invariance, the
// once-per-update weight copy, bf16 gradients against fp32's, and a short run whose loss tracks
// fp32's. On a CPU (or build) without bf16 GEMMs the option must refuse with a clear error.
#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "tensor/bf16.h"
#include "tensor/gemm_bf16.h"
#include "tensor/ops.h"
#include "test_util.h"
#include "text/batch.h"
#include "data/corpus.h"
#include "train/presets.h"
#include "train/updater.h"

namespace nmt::testing {
namespace {

// Stored matrix rows x cols with row stride ld (ld >= cols), filled with U(-1, 1).
std::vector<float> matrix(Rng& rng, int rows, int cols, int ld) {
  std::vector<float> m((std::size_t)rows * ld, 7.0f);  // padding that must not be read
  for (int r = 0; r < rows; ++r) fill_uniform(rng, m.data() + (std::size_t)r * ld, cols, -1, 1);
  return m;
}

struct Case {
  bool ta, tb;
  int M, N, K, pad;
  float alpha, beta;
};

// The refusal where bf16 GEMMs are unavailable is the behaviour to test there.
bool available_or_refuses() {
  if (ops::bf16_gemm_available()) return true;
  std::vector<float> p(4);
  const std::string msg =
      expect_error([&] { ops::Bf16Weights w(p.data(), p.size()); }, {"--precision bf16"});
  std::printf("bf16 GEMM unavailable here, refused with: %s\n", msg.c_str());
  return false;
}

TEST(GemmBf16, MatchesDoubleReferenceOnRoundedInputs) {
  if (!available_or_refuses()) return;
  Rng rng(5);
  const Case cases[] = {
      {false, false, 37, 53, 29, 0, 1.0f, 0.0f},  {false, true, 64, 100, 96, 3, 1.0f, 1.0f},
      {true, false, 17, 300, 130, 5, 1.0f, 1.0f}, {true, true, 129, 31, 257, 1, 0.5f, 0.5f},
      {false, true, 1, 513, 64, 0, 1.0f, 0.0f},   {false, false, 200, 1, 77, 2, -2.0f, 1.0f},
      {false, false, 3, 5, 1, 0, 1.0f, 1.0f}};
  for (const auto& c : cases) {
    const int ar = c.ta ? c.K : c.M, ac = c.ta ? c.M : c.K;
    const int br = c.tb ? c.N : c.K, bc = c.tb ? c.K : c.N;
    const int lda = ac + c.pad, ldb = bc + c.pad, ldc = c.N + c.pad;
    const auto A = matrix(rng, ar, ac, lda), B = matrix(rng, br, bc, ldb);
    auto C = matrix(rng, c.M, c.N, ldc);
    const auto C0 = C;
    ops::gemm_bf16(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                   C.data(), ldc);
    double worst = 0;
    for (int i = 0; i < c.M; ++i)
      for (int j = 0; j < c.N; ++j) {
        double ref = 0, mag = 0;
        for (int k = 0; k < c.K; ++k) {
          const double a =
              ops::round_bf16(c.ta ? A[(std::size_t)k * lda + i] : A[(std::size_t)i * lda + k]);
          const double b =
              ops::round_bf16(c.tb ? B[(std::size_t)j * ldb + k] : B[(std::size_t)k * ldb + j]);
          ref += a * b;
          mag += std::fabs(a * b);
        }
        const double c0 = C0[(std::size_t)i * ldc + j];
        ref = c.alpha * ref + (c.beta != 0.0f ? c.beta * c0 : 0.0);
        // fp32 accumulation of exact bf16 products: error ~ K * 2^-24 of the magnitudes.
        const double tol = 1e-6 * (std::fabs(c.alpha) * mag + std::fabs(c.beta * c0)) + 1e-30;
        worst = std::max(worst, std::fabs(C[(std::size_t)i * ldc + j] - ref) / tol);
      }
    EXPECT_LT(worst, 1.0) << "ta " << c.ta << " tb " << c.tb << " M " << c.M << " N " << c.N
                          << " K " << c.K;
    for (int i = 0; i < c.M; ++i)  // the padding of C is untouched
      for (int j = c.N; j < ldc; ++j)
        EXPECT_EQ(C[(std::size_t)i * ldc + j], C0[(std::size_t)i * ldc + j]);
  }
}

TEST(GemmBf16, ThreadCountAndRowBatchingDoNotChangeTheResult) {
  if (!available_or_refuses()) return;
  Rng rng(8);
  const int M = 96, N = 700, K = 300;
  const auto A = matrix(rng, M, K, K), B = matrix(rng, N, K, K);
  auto run = [&](int threads, int rows_per_call) {
    ops::set_threads(threads);
    std::vector<float> C((std::size_t)M * N);
    for (int r = 0; r < M; r += rows_per_call)
      ops::gemm_bf16(false, true, std::min(rows_per_call, M - r), N, K, 1.0f,
                     A.data() + (std::size_t)r * K, K, B.data(), K, 0.0f,
                     C.data() + (std::size_t)r * N, N);
    return C;
  };
  const auto one = run(1, M), two = run(2, M), rows = run(2, 7);
  ops::set_threads(2);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, rows);  // a row's result does not depend on which rows share the call
}

TEST(GemmBf16, WeightsAreConvertedOncePerUpdate) {
  if (!available_or_refuses()) return;
  Rng rng(9);
  const int M = 64, N = 128, K = 96;  // big enough for ops::gemm to take the bf16 path
  auto params = uniform_vec(rng, (std::size_t)N * K + 10);
  const auto x = uniform_vec(rng, (std::size_t)M * K);
  ops::Bf16Weights weights(params.data(), params.size());
  std::vector<float> y((std::size_t)M * N), expect((std::size_t)M * N);
  auto check = [&] {
    ops::Bf16GemmScope scope(weights);
    ops::gemm(false, true, M, N, K, 1.0f, x.data(), K, params.data() + 10, K, 0.0f, y.data(), N);
    ops::gemm_bf16(false, true, M, N, K, 1.0f, x.data(), K, params.data() + 10, K, 0.0f,
                   expect.data(), N);
    EXPECT_EQ(y, expect);
  };
  check();
  for (auto& p : params) p *= -2.0f;  // an update
  weights.weights_changed();
  check();
  // Outside a scope ops::gemm is fp32 SGEMM again.
  ops::gemm(false, true, M, N, K, 1.0f, x.data(), K, params.data() + 10, K, 0.0f, y.data(), N);
  EXPECT_NE(y, expect);
}

// A small real model and 64 Multi30k pairs; sizes large enough for the bf16 path.
struct SmallRun {
  model::Model m;
  data::EncodedCorpus data;
  std::vector<std::vector<std::size_t>> batches;
};

SmallRun small_run() {
  const auto pc = data::read_split(repo_path("data/multi30k"), "train", 2000);
  SmallRun s;
  model::ModelConfig c;
  s.m = train::seed_model(pc, 42);
  c = s.m.config;
  c.emb_dim = 64;
  c.enc_hid_dim = 96;
  c.dec_hid_dim = 128;
  s.m = model::Model::create(c, s.m.src_vocab, s.m.trg_vocab, 42);
  s.data =
      data::encode_corpus(pc, *s.m.src_codec, *s.m.trg_codec, s.m.src_vocab, s.m.trg_vocab, 100);
  std::vector<int> lengths(s.data.src.size());
  for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (int)s.data.src[i].size();
  s.batches = text::plan_batches(lengths, {64, true, false, 7}, 0);
  return s;
}

TEST(Bf16Training, GradientsMatchFp32WithinBf16Tolerance) {
  if (!available_or_refuses()) return;
  SmallRun s = small_run();
  const auto batch = text::make_batch(s.data.src, s.data.trg, s.batches[0]);
  auto grads = [&](const std::string& precision) {
    train::TrainOptions opt;
    opt.precision = ops::parse_precision(precision);
    opt.teacher_forcing = 1.0f;  // the same inputs to every step in both precisions
    opt.dropout = 0.0f;
    train::Updater up(s.m);
    Rng rng(3);
    up.backward(batch, rng, opt);
    return std::vector<float>(up.grads().data(), up.grads().data() + up.grads().size());
  };
  const auto g32 = grads("fp32"), g16 = grads("bf16");
  double diff = 0, norm = 0, dot = 0, norm16 = 0;
  for (std::size_t i = 0; i < g32.size(); ++i) {
    diff += ((double)g16[i] - g32[i]) * ((double)g16[i] - g32[i]);
    norm += (double)g32[i] * g32[i];
    norm16 += (double)g16[i] * g16[i];
    dot += (double)g16[i] * g32[i];
  }
  const double rel = std::sqrt(diff / norm), cosine = dot / std::sqrt(norm * norm16);
  std::printf("bf16 vs fp32 gradient: relative error %.3g, cosine %.6f\n", rel, cosine);
  EXPECT_GT(rel, 0.0);   // bf16 really was used
  EXPECT_LT(rel, 2e-2);  // bf16 keeps 8 bits of mantissa: ~0.4% per input
  EXPECT_GT(cosine, 0.9998);
}

TEST(Bf16Training, LossTracksFp32) {
  if (!available_or_refuses()) return;
  auto run = [&](const std::string& precision) {
    SmallRun s = small_run();
    train::TrainOptions opt;
    opt.precision = ops::parse_precision(precision);
    train::Updater up(s.m);
    Rng rng(11);
    std::vector<double> losses;
    for (std::size_t i = 0; i < 25; ++i) {
      const auto batch = text::make_batch(s.data.src, s.data.trg, s.batches[i]);
      losses.push_back(up.step(batch, rng, opt) / up.tokens());
    }
    return losses;
  };
  const auto l32 = run("fp32"), l16 = run("bf16");
  std::printf("loss after 25 steps: fp32 %.4f, bf16 %.4f (first %.4f)\n", l32.back(), l16.back(),
              l32.front());
  EXPECT_LT(l32.back(), l32.front() - 0.5);  // it learns
  for (std::size_t i = 0; i < l32.size(); ++i)
    EXPECT_NEAR(l16[i], l32[i], 0.02 * l32[i]) << "step " << i + 1;
}

}  // namespace
}  // namespace nmt::testing
