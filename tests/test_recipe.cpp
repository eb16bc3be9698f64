// The recipe options beyond the seed (label smoothing, learning-rate schedule, early stopping),
// the option table and presets.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "common/error.h"
#include "common/rng.h"
#include "model/layers.h"
#include "train/presets.h"
#include "tensor/gemm_bf16.h"
#include "test_util.h"
#include "train/options.h"
#include "train/schedule.h"
#include "train/updater.h"

using namespace nmt;
using namespace nmt::testing;
using nlohmann::json;

TEST(LabelSmoothing, LossAndGradientMatchADoubleReference) {
  const int n = 5, V = 9;
  Rng rng(31);
  std::vector<float> logits((std::size_t)n * V);
  for (auto& x : logits) x = (float)(3.0 * rng.normal());
  logits[7] = 25.0f;
  const std::vector<int> targets{0, 8, 3, 3, 1};
  for (float ls : {0.1f, 0.3f}) {
    SCOPED_TRACE(ls);
    std::vector<float> lse(n);
    const double loss =
        layers::softmax_ce_forward(n, V, logits.data(), targets.data(), lse.data(), ls);
    const float scale = 0.7f;
    std::vector<float> d((std::size_t)n * V);
    layers::softmax_ce_backward(n, V, logits.data(), targets.data(), lse.data(), scale, d.data(),
                                ls);
    double ref = 0;
    for (int i = 0; i < n; ++i) {
      const float* x = logits.data() + (std::size_t)i * V;
      double mx = -1e300, s = 0, sum = 0;
      for (int k = 0; k < V; ++k) mx = std::max(mx, (double)x[k]);
      for (int k = 0; k < V; ++k) s += std::exp(x[k] - mx), sum += x[k];
      const double l = mx + std::log(s);
      // PyTorch: (1 - ls) * CE(onehot) + ls * mean_k CE(k)
      ref += (1 - ls) * (l - x[targets[i]]) + ls * (l - sum / V);
      for (int k = 0; k < V; ++k) {
        const double want =
            scale * (std::exp(x[k] - l) - (1 - ls) * (k == targets[i]) - (double)ls / V);
        EXPECT_NEAR(d[(std::size_t)i * V + k], want, 1e-6) << "row " << i << " col " << k;
      }
    }
    EXPECT_NEAR(loss, ref, 1e-5 * ref);
  }
}

TEST(LabelSmoothing, ZeroIsThePlainLossBitForBit) {
  const int n = 4, V = 1000;  // above the OpenMP threshold too
  Rng rng(5);
  std::vector<float> logits((std::size_t)n * V);
  for (auto& x : logits) x = (float)rng.normal();
  const std::vector<int> t{1, 2, 999, 0};
  std::vector<float> lse_a(n), lse_b(n), da(logits.size()), db(logits.size());
  const double a = layers::softmax_ce_forward(n, V, logits.data(), t.data(), lse_a.data());
  const double b = layers::softmax_ce_forward(n, V, logits.data(), t.data(), lse_b.data(), 0.0f);
  EXPECT_EQ(a, b);
  layers::softmax_ce_backward(n, V, logits.data(), t.data(), lse_a.data(), 0.5f, da.data());
  layers::softmax_ce_backward(n, V, logits.data(), t.data(), lse_a.data(), 0.5f, db.data(), 0.0f);
  EXPECT_EQ(da, db);
}

TEST(Schedule, WarmupThenPlateauDecayThenEarlyStop) {
  train::TrainOptions o;
  o.lr = 1e-3f;
  train::ScheduleState s;
  EXPECT_EQ(train::scheduled_lr(o, s, 1), o.lr) << "seed preset: exactly --lr";
  o.warmup = 4;
  EXPECT_FLOAT_EQ(train::scheduled_lr(o, s, 1), 0.25e-3f);
  EXPECT_FLOAT_EQ(train::scheduled_lr(o, s, 3), 0.75e-3f);
  EXPECT_EQ(train::scheduled_lr(o, s, 4), o.lr);
  o.lr_decay = 0.5f;
  o.lr_patience = 2;
  o.early_stop = 5;
  bool stop = false;
  EXPECT_EQ(train::after_validation(o, s, true, stop), "");
  EXPECT_EQ(train::after_validation(o, s, false, stop), "");  // 1 bad epoch: patience 2
  EXPECT_NE(train::after_validation(o, s, false, stop).find("decayed to 0.0005"),
            std::string::npos);
  EXPECT_FLOAT_EQ(train::scheduled_lr(o, s, 100), 0.5e-3f);
  EXPECT_EQ(train::after_validation(o, s, true, stop), "");  // improvement resets the count
  EXPECT_EQ(s.bad_epochs, 0);
  EXPECT_FLOAT_EQ(train::scheduled_lr(o, s, 100), 0.5e-3f) << "a decay is kept";
  for (int i = 0; i < 4; ++i) {
    train::after_validation(o, s, false, stop);
    EXPECT_FALSE(stop);
  }
  EXPECT_NE(train::after_validation(o, s, false, stop).find("early stop"), std::string::npos);
  EXPECT_TRUE(stop);
}

TEST(Options, EachOptionOnceAndPresetsOnlyNameOptions) {
  std::set<std::string> keys, flags;
  for (const auto& spec : train::option_table()) {
    EXPECT_TRUE(keys.insert(spec.key).second) << spec.key;
    EXPECT_TRUE(flags.insert(train::flag_of(spec.key)).second) << spec.key;
  }
  for (const auto& name : train::preset_names())
    for (const auto& [key, value] : train::preset(name).items())
      EXPECT_TRUE(keys.count(key)) << "preset " << name << " sets unknown option " << key;
  // The seed preset is design §2/§4, and what a default TrainOptions trains.
  const train::TrainOptions o;
  EXPECT_EQ(o.emb_dim, 256);
  EXPECT_EQ(o.enc_hid_dim, 512);
  EXPECT_EQ(o.dec_hid_dim, 512);
  EXPECT_EQ(o.lr, 1e-3f);
  EXPECT_EQ(o.clip, 1.0f);
  EXPECT_EQ(o.teacher_forcing, 0.5f);
  EXPECT_EQ(o.dropout, 0.5f);
  EXPECT_EQ(o.batch, 128);
  EXPECT_EQ(o.epochs, 10);
  EXPECT_EQ(o.tokenizer, "word");
  EXPECT_TRUE(o.lowercase);
  EXPECT_EQ(o.min_freq, 2);
  EXPECT_EQ(o.label_smoothing, 0.0f);
  EXPECT_EQ(o.select_by, "ppl_free");
  EXPECT_EQ(o.seed, 1234u);
  const auto seed = model::ModelConfig::seed(7853, 5893);
  EXPECT_EQ(seed.emb_dim, o.emb_dim);
  EXPECT_EQ(seed.dropout, o.dropout);
}

TEST(Options, PresetFillsOnlyDefaultedOptions) {
  train::TrainOptions o;
  o.dropout = 0.2f;
  o.defaulted = {"tokenizer", "label_smoothing", "preset"};
  train::apply_preset(o, "strong", &o.defaulted);
  EXPECT_EQ(o.tokenizer, "spm");
  EXPECT_GT(o.label_smoothing, 0.0f);
  EXPECT_EQ(o.dropout, 0.2f) << "given on the command line";
  expect_error(
      [] {
        train::TrainOptions x;
        train::apply_preset(x, "nope", nullptr);
      },
      {"unknown preset 'nope'", "seed", "strong"});
}

TEST(Options, ResumeTakesDefaultedRefusesFixedNotesChangeable) {
  train::TrainOptions run;
  run.batch = 64;
  run.lr = 2e-3f;
  const auto saved = train::recorded_options(run);
  EXPECT_FALSE(saved.contains("threads")) << "per-process options are not recorded";
  train::TrainOptions o;  // everything defaulted: the run's values
  for (const auto& spec : train::option_table()) o.defaulted.insert(spec.key);
  EXPECT_EQ(train::merge_saved_options(o, saved), "");
  EXPECT_EQ(o.batch, 64);
  EXPECT_EQ(o.lr, 2e-3f);
  train::TrainOptions changed = o;
  changed.defaulted.erase("lr");
  changed.lr = 5e-4f;
  EXPECT_EQ(train::merge_saved_options(changed, saved),
            "note: --lr 0.0005 replaces this run's 0.002\n");
  train::TrainOptions fixed = o;
  fixed.defaulted.erase("batch");
  fixed.batch = 32;
  expect_error([&] { train::merge_saved_options(fixed, saved); }, {"--batch 32", "64"});
  // A run saved before an option existed keeps today's default for it.
  train::TrainOptions old = o;
  json legacy = saved;
  legacy.erase("label_smoothing");
  old.label_smoothing = 0.0f;
  train::merge_saved_options(old, legacy);
  EXPECT_EQ(old.label_smoothing, 0.0f);
}

TEST(Options, ValidateNamesTheFlag) {
  auto bad = [](auto set, const std::string& flag) {
    train::TrainOptions o;
    set(o);
    expect_error([&] { train::validate(o); }, {flag});
  };
  bad([](auto& o) { o.label_smoothing = -0.1f; }, "--label-smoothing");
  bad([](auto& o) { o.lr_decay = 0.0f; }, "--lr-decay");
  bad([](auto& o) { o.warmup = -1; }, "--warmup");
  bad([](auto& o) { o.tokenizer = "bytes"; }, "--tokenizer");
  bad([](auto& o) { o.min_freq = 0; }, "--min-freq");
  bad([](auto& o) { o.emb_dim = 0; }, "--emb");
  bad([](auto& o) { o.select_by = "wer"; }, "--select-by");
  bad([](auto& o) { o.out_dropout = 1.0f; }, "--out-dropout");
  bad([](auto& o) { o.precision = ops::Precision::Int8; }, "--precision");
  train::TrainOptions ok;
  EXPECT_NO_THROW(train::validate(ok));
  ok.precision = ops::Precision::Auto;
  EXPECT_NO_THROW(train::validate(ok));
}

TEST(Options, AutoPrecisionIsBf16WhereTheCpuHasIt) {
  train::TrainOptions o;
  EXPECT_EQ(train::resolve_precision(o), "");  // fp32 stays
  EXPECT_EQ(o.precision, ops::Precision::Fp32);
  o.precision = ops::Precision::Auto;
  const std::string line = train::resolve_precision(o);
  EXPECT_EQ(o.precision, ops::bf16_gemm_available() ? ops::Precision::Bf16 : ops::Precision::Fp32);
  EXPECT_NE(line.find(std::string("precision: ") + ops::precision_name(o.precision) + " (auto"),
            std::string::npos)
      << line;
  // The strong preset asks for it; the seed preset stays exact; a run records the name.
  train::TrainOptions strong;
  train::apply_preset(strong, "strong", nullptr);
  EXPECT_EQ(strong.precision, ops::Precision::Auto);
  EXPECT_EQ(train::recorded_options(strong)["precision"], "auto");
  EXPECT_EQ(train::TrainOptions().precision, ops::Precision::Fp32);
}

// Clipping seen on the gradient itself (Adam's first step depends only on the gradient's
// sign, so the weights cannot show it): after apply(), grads() holds the clipped gradient.
TEST(UpdaterClip, ScalesTheGradientToTheClipNormAndKeepsItsDirection) {
  const auto cfg = tiny_config();
  Rng data_rng(401);
  const auto pairs = random_pairs(data_rng, cfg, {{6, 5}, {4, 7}, {5, 3}});
  const auto batch = pairs.all();
  train::TrainOptions opt;
  opt.dropout = 0.0f;
  opt.teacher_forcing = 1.0f;
  for (float clip : {1e9f, 0.05f}) {
    SCOPED_TRACE(clip);
    auto m = tiny_model(cfg, 402);
    train::Updater up(m);
    Rng rng(1);
    up.backward(batch, rng, opt);
    const std::vector<float> raw(up.grads().data(), up.grads().data() + up.grads().size());
    double norm = 0;
    for (float g : raw) norm += (double)g * g;
    norm = std::sqrt(norm);
    ASSERT_GT(norm, 0.1) << "the case must be able to clip";
    up.apply(1e-3f, clip);
    double clipped = 0, off_direction = 0;
    const double coef = std::min(1.0, clip / (norm + 1e-6));
    for (std::size_t i = 0; i < raw.size(); ++i) {
      clipped += (double)up.grads().data()[i] * up.grads().data()[i];
      off_direction = std::max(off_direction, std::fabs(up.grads().data()[i] - raw[i] * coef));
    }
    EXPECT_NEAR(std::sqrt(clipped), std::min((double)clip, norm),
                1e-5 * std::min((double)clip, norm));
    EXPECT_LT(off_direction, 1e-6 * norm);
  }
}
