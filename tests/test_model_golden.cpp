// The whole model against PyTorch (tools/pytorch_reference.py golden): logits, loss, encoder
// outputs, s0, attention weights and every parameter gradient, for teacher forcing 1.0 and a
// fixed mixed coin sequence; plus a checkpoint written by PyTorch.
#include <gtest/gtest.h>

#include <cmath>

#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "model/seq2seq.h"
#include "text/batch.h"

using namespace nmt;

namespace {

struct Golden {
  model::SafeTensors st;
  model::ModelConfig cfg;
  model::ParamBuffer params;
  model::Weights w{};
  text::Batch batch;
  std::vector<unsigned char> coins;
  std::vector<float> src_drop, trg_drop;  // explicit dropout masks (the dropout case)
};

Golden load_golden(const std::string& path) {
  Golden g{model::SafeTensors::load(path), {}, {}, {}, {}, {}, {}, {}};
  const auto& md = g.st.metadata();
  g.cfg.src_vocab_size = std::stoi(md.at("src_vocab_size"));
  g.cfg.trg_vocab_size = std::stoi(md.at("trg_vocab_size"));
  g.cfg.emb_dim = std::stoi(md.at("emb_dim"));
  g.cfg.enc_hid_dim = std::stoi(md.at("enc_hid_dim"));
  g.cfg.dec_hid_dim = std::stoi(md.at("dec_hid_dim"));
  std::size_t total = 0;
  const auto table = model::param_table(g.cfg, &total);
  g.params = model::ParamBuffer(total);
  g.w = model::bind_weights(g.params.data(), g.cfg);
  for (const auto& p : table) g.st.read_f32(p.name, p.shape, g.params.data() + p.offset);
  const auto src_shape = g.st.info("input.src").shape;
  const auto trg_shape = g.st.info("input.trg").shape;
  auto& b = g.batch;
  b.src_len = (int)src_shape[0];
  b.batch = (int)src_shape[1];
  b.trg_len = (int)trg_shape[0];
  b.src = g.st.i32("input.src");
  b.trg = g.st.i32("input.trg");
  b.src_lengths = g.st.i32("input.src_len");
  b.trg_lengths.assign(b.batch, 0);
  for (int col = 0; col < b.batch; ++col)
    for (int t = 0; t < b.trg_len; ++t)
      if (b.trg[(std::size_t)t * b.batch + col] != 1) b.trg_lengths[col] = t + 1;
  for (int v : g.st.i32("input.coins")) g.coins.push_back((unsigned char)v);
  if (g.st.has("input.src_drop")) {
    g.src_drop = g.st.f32("input.src_drop");
    g.trg_drop = g.st.f32("input.trg_drop");
  }
  return g;
}

// max |a - b| / max |b|: the tensor-level relative error.
double rel_err(const float* a, const std::vector<float>& ref, std::size_t n) {
  double diff = 0, scale = 1e-12;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, (double)std::fabs(a[i] - ref[i]));
    scale = std::max(scale, (double)std::fabs(ref[i]));
  }
  return diff / scale;
}

// Runs forward+backward and checks everything; returns the worst gradient error.
void check_case(const std::string& path, float grad_perturbation = 0.0f, bool expect_fail = false) {
  Golden g = load_golden(path);
  model::TrainingGraph graph;
  const bool dropout = !g.src_drop.empty();
  if (dropout) graph.set_dropout_masks(g.src_drop, g.trg_drop);
  const double loss_sum =
      graph.forward(g.cfg, g.w, g.batch, g.coins, dropout ? 0.5f : 0.0f, nullptr);
  const double loss = loss_sum / graph.tokens();
  const float ref_loss = g.st.f32("output.loss")[0];
  EXPECT_NEAR(loss, ref_loss, 1e-4 * std::fabs(ref_loss)) << path;

  const int B = g.batch.batch, T = g.batch.trg_len, S = g.batch.src_len, V = g.cfg.trg_vocab_size;
  const auto ref_logits = g.st.f32("output.logits");
  const auto ref_attn = g.st.f32("output.attention");
  double logit_err = 0, logit_scale = 0, attn_err = 0;
  for (int t = 1; t < T; ++t)
    for (int b = 0; b < B; ++b) {
      if (t >= g.batch.trg_lengths[b]) continue;
      const float* l = graph.logits(t, b);
      const float* a = graph.attention(t, b);
      ASSERT_NE(l, nullptr);
      for (int k = 0; k < V; ++k) {
        const float r = ref_logits[((std::size_t)t * B + b) * V + k];
        logit_err = std::max(logit_err, (double)std::fabs(l[k] - r));
        logit_scale = std::max(logit_scale, (double)std::fabs(r));
      }
      for (int j = 0; j < S; ++j)
        attn_err = std::max(attn_err,
                            (double)std::fabs(a[j] - ref_attn[((std::size_t)t * B + b) * S + j]));
    }
  EXPECT_LT(logit_err / logit_scale, 1e-4) << path;
  EXPECT_LT(attn_err, 1e-5) << path;

  const int C = 2 * g.cfg.enc_hid_dim, D = g.cfg.dec_hid_dim;
  const auto ref_enc = g.st.f32("output.encoder_outputs");
  std::vector<float> enc((std::size_t)S * B * C);
  for (int j = 0; j < S; ++j)
    for (int b = 0; b < B; ++b)
      std::copy_n(graph.encoder_output(j, b), C, enc.begin() + ((std::size_t)j * B + b) * C);
  EXPECT_LT(rel_err(enc.data(), ref_enc, enc.size()), 1e-5) << path;
  const auto ref_s0 = g.st.f32("output.s0");
  std::vector<float> s0((std::size_t)B * D);
  for (int b = 0; b < B; ++b) std::copy_n(graph.s0(b), D, s0.begin() + (std::size_t)b * D);
  EXPECT_LT(rel_err(s0.data(), ref_s0, s0.size()), 1e-5) << path;

  model::ParamBuffer grads(g.params.size());
  model::Weights gw = model::bind_weights(grads.data(), g.cfg);
  graph.backward(g.cfg, g.w, gw, 1.0f / graph.tokens());
  // The perturbed entry, and the tensor that holds it: the only one that may fail.
  const std::size_t poked = grads.size() / 3;
  std::string poked_tensor;
  for (const auto& p : model::param_table(g.cfg))
    if (poked >= p.offset && poked < p.offset + p.size) poked_tensor = p.name;
  if (grad_perturbation != 0.0f) grads.data()[poked] += grad_perturbation;
  std::vector<std::string> failed;
  double worst = 0;
  for (const auto& p : model::param_table(g.cfg)) {
    const auto ref = g.st.f32("grad." + p.name);
    const double err = rel_err(grads.data() + p.offset, ref, p.size);
    worst = std::max(worst, err);
    if (expect_fail) {
      if (err > 1e-4) failed.push_back(p.name);
    } else {
      EXPECT_LT(err, 1e-4) << path << ": gradient of " << p.name;
    }
  }
  if (!expect_fail)
    std::printf("%s: loss %.7f (ref %.7f), logits rel err %.2e, worst gradient rel err %.2e\n",
                path.c_str(), loss, ref_loss, logit_err / logit_scale, worst);
  if (expect_fail) {
    ASSERT_FALSE(poked_tensor.empty()) << "the perturbed entry lies in padding between tensors";
    EXPECT_EQ(failed, std::vector<std::string>{poked_tensor})
        << "exactly the perturbed tensor must fail";
  }
}

}  // namespace

TEST(ModelGolden, TeacherForcedMatchesPyTorch) { check_case("tests/golden/tiny_tf1.safetensors"); }

TEST(ModelGolden, MixedCoinsMatchesPyTorch) { check_case("tests/golden/tiny_coins.safetensors"); }

TEST(ModelGolden, DropoutWithExplicitMasksMatchesPyTorch) {
  check_case("tests/golden/tiny_dropout.safetensors");
}

TEST(ModelGolden, SizesAreAllDistinct) {
  // A swapped enc_hid/dec_hid/emb somewhere would pass a golden whose sizes coincide.
  for (const char* f : {"tests/golden/tiny_tf1.safetensors", "tests/golden/tiny_coins.safetensors",
                        "tests/golden/tiny_dropout.safetensors"}) {
    const Golden g = load_golden(f);
    const int E = g.cfg.emb_dim, H = g.cfg.enc_hid_dim, D = g.cfg.dec_hid_dim;
    EXPECT_TRUE(E != H && E != D && H != D && 2 * H != D && E != 2 * H) << f;
  }
}

TEST(ModelGolden, PerturbedGradientIsCaught) {
  check_case("tests/golden/tiny_tf1.safetensors", 1e-3f, true);
}

TEST(ModelGolden, PyTorchCheckpointGivesPyTorchLogits) {
  auto m = model::load_model("tests/golden/tiny_ckpt");
  EXPECT_EQ(m.src_vocab.size(), 40);
  EXPECT_EQ(m.trg_vocab.size(), 30);
  const auto st = model::SafeTensors::load("tests/golden/tiny_ckpt_expected.safetensors");
  text::Batch b;
  const auto shape = st.info("input.src").shape;
  b.src_len = (int)shape[0];
  b.batch = (int)shape[1];
  b.trg_len = (int)st.info("input.trg").shape[0];
  b.src = st.i32("input.src");
  b.trg = st.i32("input.trg");
  b.src_lengths = st.i32("input.src_len");
  b.trg_lengths.assign(b.batch, 0);
  for (int col = 0; col < b.batch; ++col)
    for (int t = 0; t < b.trg_len; ++t)
      if (b.trg[(std::size_t)t * b.batch + col] != 1) b.trg_lengths[col] = t + 1;
  std::vector<unsigned char> coins(b.trg_len, 1);
  model::TrainingGraph graph;
  graph.forward(m.config, m.w, b, coins, 0.0f, nullptr);
  const auto ref = st.f32("output.logits");
  const int V = m.config.trg_vocab_size;
  double err = 0, scale = 0;
  for (int t = 1; t < b.trg_len; ++t)
    for (int col = 0; col < b.batch; ++col) {
      if (t >= b.trg_lengths[col]) continue;
      const float* l = graph.logits(t, col);
      for (int k = 0; k < V; ++k) {
        const float r = ref[((std::size_t)t * b.batch + col) * V + k];
        err = std::max(err, (double)std::fabs(l[k] - r));
        scale = std::max(scale, (double)std::fabs(r));
      }
    }
  EXPECT_LT(err / scale, 1e-4);
}

TEST(ModelGolden, SeedPresetHas20518405Parameters) {
  EXPECT_EQ(model::parameter_count(model::ModelConfig::seed(7853, 5893)), 20518405u);
}
