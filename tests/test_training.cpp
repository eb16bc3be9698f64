// Training (design §4, §5): tiny runs on the first 300 Multi30k pairs. Output files, log.jsonl,
// decreasing loss, determinism, resume (at an epoch end and after --max-steps mid-epoch) giving
// bit-identical weights, refusal of unsafe starts, and the Updater's clip + Adam semantics.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "model/seq2seq.h"
#include "tensor/ops.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace nmt;
using namespace nmt::testing;
using nlohmann::json;

namespace {

train::TrainOptions tiny_options(const std::string& out, int epochs) {
  train::TrainOptions o;
  o.data_dir = repo_path("data/multi30k");
  o.out_dir = out;
  o.epochs = epochs;
  o.batch = 32;
  o.threads = 1;
  o.seed = 77;
  o.train_limit = 300;
  o.valid_limit = 50;
  o.emb_dim = o.enc_hid_dim = o.dec_hid_dim = 16;
  o.progress = false;
  return o;
}

// Runs training and puts the thread count back (train() sets it for the whole process).
void run_train(const train::TrainOptions& o) {
  const int saved = ops::threads();
  struct Restore {
    int n;
    ~Restore() { ops::set_threads(n); }
  } restore{saved};
  train::train(o);
}

std::vector<json> read_log(const std::string& dir) {
  std::vector<json> r;
  for (const auto& line : split_lines(read_file(dir + "/log.jsonl")))
    r.push_back(json::parse(line));
  return r;
}

// The last weights and Adam moments of a run (train_state.safetensors).
struct LastState {
  std::vector<float> params, m, v;
};
LastState last_state(const std::string& dir) {
  const auto st = model::SafeTensors::load(dir + "/train_state.safetensors");
  return {st.f32("params"), st.f32("adam.m"), st.f32("adam.v")};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs shared by several tests, made once: an uninterrupted 3-epoch run and its variants.
class Training : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    run_train(tiny_options(*tmp_ / "full", 3));
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  static std::string full() { return *tmp_ / "full"; }
  static TempDir* tmp_;
};
TempDir* Training::tmp_ = nullptr;

}  // namespace

TEST_F(Training, WritesTheRunFiles) {
  for (const std::string f : {"model.safetensors", "config.json", "vocab.src.txt", "vocab.trg.txt",
                              "log.jsonl", "train_state.safetensors"})
    EXPECT_TRUE(fs::is_regular_file(full() + "/" + f)) << f;
  EXPECT_TRUE(files_ending(full(), ".tmp").empty());
  const auto m = model::load_model(full());
  EXPECT_EQ(m.config.emb_dim, 16);
  EXPECT_EQ(m.config.enc_hid_dim, 16);
  EXPECT_EQ(m.config.dec_hid_dim, 16);
  EXPECT_GT(m.src_vocab.size(), 100);
  EXPECT_GT(m.trg_vocab.size(), 100);
  const auto cfg = model::read_json_file(full() + "/config.json");
  ASSERT_TRUE(cfg.contains("training"));
  EXPECT_EQ(cfg["training"]["epoch"], 3);
}

TEST_F(Training, LogHasOneLinePerEpochWithTheFields) {
  const auto log = read_log(full());
  ASSERT_EQ(log.size(), 3u);
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto& l = log[i];
    EXPECT_EQ(l.value("epoch", -1), (int)i + 1);
    for (const char* f :
         {"train_loss", "valid_loss", "valid_ppl", "valid_ppl_free", "tokens_per_s"}) {
      ASSERT_TRUE(l.contains(f) && l[f].is_number()) << "line " << i << " lacks " << f;
      EXPECT_TRUE(std::isfinite(l[f].get<double>()));
      EXPECT_GT(l[f].get<double>(), 0.0) << f;
    }
    EXPECT_NEAR(l["valid_ppl"].get<double>(), std::exp(l["valid_loss"].get<double>()),
                1e-6 * l["valid_ppl"].get<double>());
  }
}

TEST_F(Training, LossDecreases) {
  const auto log = read_log(full());
  ASSERT_EQ(log.size(), 3u);
  for (int i = 1; i < 3; ++i) {
    EXPECT_LT(log[i]["train_loss"].get<double>(), log[i - 1]["train_loss"].get<double>());
    EXPECT_LT(log[i]["valid_loss"].get<double>(), log[i - 1]["valid_loss"].get<double>());
  }
  // From about ln(V) (uniform) in the first epoch, measurably down after three.
  const auto m = model::load_model(full());
  const double first = log[0]["train_loss"].get<double>(),
               last = log[2]["train_loss"].get<double>();
  EXPECT_LT(first, std::log((double)m.trg_vocab.size()) + 0.1);
  EXPECT_LT(last, first - 0.05);
}

TEST_F(Training, SameSeedGivesBitIdenticalWeights) {
  TempDir tmp;
  run_train(tiny_options(tmp / "again", 3));
  EXPECT_EQ(read_file(tmp / "again/model.safetensors"), read_file(full() + "/model.safetensors"));
  const auto a = last_state(tmp / "again"), b = last_state(full());
  EXPECT_TRUE(same_bits(a.params, b.params));
  EXPECT_TRUE(same_bits(a.m, b.m));
  EXPECT_TRUE(same_bits(a.v, b.v));
  // A different seed gives different weights (the comparison has teeth).
  auto o = tiny_options(tmp / "other", 1);
  o.seed = 78;
  run_train(o);
  EXPECT_NE(read_file(tmp / "other/model.safetensors"), read_file(full() + "/model.safetensors"));
}

TEST(TrainingThreads, SlowSameSeedAtTwoThreadsGivesBitIdenticalWeights) {
  // The thread count people train with: parallel reductions must not depend on timing.
  TempDir tmp;
  auto o = tiny_options(tmp / "a", 2);
  o.threads = 2;
  o.clip = 0.1f;  // clipping at every step: the parallel gradient-norm reduction feeds each update
  run_train(o);
  o.out_dir = tmp / "b";
  run_train(o);
  EXPECT_EQ(read_file(tmp / "a/model.safetensors"), read_file(tmp / "b/model.safetensors"));
  const auto a = last_state(tmp / "a"), b = last_state(tmp / "b");
  EXPECT_TRUE(same_bits(a.params, b.params));
  EXPECT_TRUE(same_bits(a.m, b.m));
  EXPECT_TRUE(same_bits(a.v, b.v));
}

TEST_F(Training, KeepEpochsSavesEachEpochsWeightsAsAModel) {
  TempDir tmp;
  auto o = tiny_options(tmp / "keep", 2);
  o.keep_epochs = true;
  run_train(o);
  EXPECT_FALSE(fs::exists(full() + "/epochs"));  // only when asked
  const auto log = read_log(tmp / "keep");
  ASSERT_EQ(log.size(), 2u);
  int best = 0;
  for (const auto& l : log)
    if (l["best"].get<bool>()) best = l["epoch"].get<int>();
  ASSERT_GT(best, 0);
  for (int e = 1; e <= 2; ++e) {
    const std::string dir = tmp / ("keep/epochs/" + std::to_string(e));
    const auto m = model::load_model(dir);
    EXPECT_EQ(model::read_json_file(dir + "/config.json")["training"]["epoch"], e);
    if (e == 2) {  // the last epoch's model holds the last weights
      const auto last = last_state(tmp / "keep");
      EXPECT_TRUE(same_bits(std::vector<float>(m.params.data(), m.params.data() + m.params.size()),
                            last.params));
    }
    if (e == best) {
      EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(tmp / "keep/model.safetensors"));
    }
  }
  EXPECT_NE(read_file(tmp / "keep/epochs/1/model.safetensors"),
            read_file(tmp / "keep/epochs/2/model.safetensors"));
  // The flag changes no math: the first two epochs of the 3-epoch run without it agree.
  const auto plain = read_log(full());
  for (int i = 0; i < 2; ++i) EXPECT_EQ(plain[i]["valid_loss"], log[i]["valid_loss"]);
}

TEST_F(Training, ResumeAfterTwoEpochsEqualsUninterrupted) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  run_train(tiny_options(dir, 2));
  ASSERT_EQ(read_log(dir).size(), 2u);
  auto o = tiny_options(dir, 3);
  o.resume = true;
  run_train(o);
  EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(full() + "/model.safetensors"));
  const auto a = last_state(dir), b = last_state(full());
  EXPECT_TRUE(same_bits(a.params, b.params)) << "last weights differ after resume";
  EXPECT_TRUE(same_bits(a.m, b.m));
  EXPECT_TRUE(same_bits(a.v, b.v));
  const auto la = read_log(dir), lb = read_log(full());
  ASSERT_EQ(la.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(la[i]["train_loss"], lb[i]["train_loss"]) << "epoch " << i + 1;
    EXPECT_EQ(la[i]["valid_loss"], lb[i]["valid_loss"]) << "epoch " << i + 1;
    EXPECT_EQ(la[i]["step"], lb[i]["step"]);
  }
}

TEST_F(Training, ResumeAfterMaxStepsMidEpochEqualsUninterrupted) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  auto o = tiny_options(dir, 3);
  o.max_steps = 14;  // 10 batches an epoch: stops in the middle of epoch 2
  run_train(o);
  {
    const auto log = read_log(dir);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1]["step"], 14);
    EXPECT_EQ(log[1]["complete"], false);
    EXPECT_TRUE(fs::exists(dir + "/model.safetensors"));
  }
  o.max_steps = 0;
  o.resume = true;
  run_train(o);
  const auto a = last_state(dir), b = last_state(full());
  EXPECT_TRUE(same_bits(a.params, b.params)) << "last weights differ after a max-steps resume";
  EXPECT_TRUE(same_bits(a.m, b.m));
  EXPECT_TRUE(same_bits(a.v, b.v));
  EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(full() + "/model.safetensors"));
  const auto log = read_log(dir);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log.back()["epoch"], 3);
  EXPECT_EQ(log.back()["step"], read_log(full()).back()["step"]);
}

TEST_F(Training, MaxStepsAtAnEpochBoundaryThenResume) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  auto o = tiny_options(dir, 3);
  o.max_steps = 10;  // exactly the first epoch: no extra validation, nothing half-done
  run_train(o);
  ASSERT_EQ(read_log(dir).size(), 1u);
  EXPECT_EQ(read_log(dir)[0]["complete"], true);
  o.max_steps = 0;
  o.resume = true;
  run_train(o);
  const auto a = last_state(dir), b = last_state(full());
  EXPECT_TRUE(same_bits(a.params, b.params));
  EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(full() + "/model.safetensors"));
  const auto la = read_log(dir), lb = read_log(full());
  ASSERT_EQ(la.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(la[i]["train_loss"], lb[i]["train_loss"]);
  // Resuming a finished run does nothing and still succeeds.
  run_train(o);
  EXPECT_TRUE(same_bits(last_state(dir).params, b.params));
  EXPECT_EQ(read_log(dir).size(), 3u);
}

TEST_F(Training, StartingIntoAnExistingRunFails) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  run_train(tiny_options(dir, 1));
  const std::string before = read_file(dir + "/model.safetensors");
  expect_error([&] { run_train(tiny_options(dir, 1)); }, {dir, "--resume"});
  EXPECT_EQ(read_file(dir + "/model.safetensors"), before) << "the old run must stay untouched";
  // Only a best checkpoint (no resumable state) also counts as a run.
  fs::remove(dir + "/train_state.safetensors");
  expect_error([&] { run_train(tiny_options(dir, 1)); }, {dir});
}

TEST_F(Training, ResumeWithNothingToResumeFails) {
  TempDir tmp;
  expect_error(
      [&] {
        auto o = tiny_options(tmp / "empty", 1);
        o.resume = true;
        run_train(o);
      },
      {tmp / "empty", "resume"});
  EXPECT_FALSE(fs::exists(tmp / "empty/model.safetensors"));
}

TEST_F(Training, OutputPathThatCannotBeCreatedFails) {
  TempDir tmp;
  // A path under a regular file can never be created (even by root).
  write_file(tmp / "file", "x");
  expect_error([&] { run_train(tiny_options(tmp / "file/run", 1)); }, {tmp / "file/run"});
}

TEST_F(Training, ReadOnlyOutputDirectoryFails) {
  TempDir tmp;
  const std::string ro = tmp / "ro";
  fs::create_directories(ro);
  ReadOnlyDir unwritable(ro);  // chmod 0500, or a read-only bind mount as root
  if (!unwritable.why().empty()) GTEST_SKIP() << unwritable.why();
  expect_error([&] { run_train(tiny_options(ro, 1)); }, {ro});
  unwritable.release();
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_F(Training, BadOptionsAndDataFail) {
  TempDir tmp;
  auto o = tiny_options(tmp / "a", 1);
  o.data_dir = tmp / "no_such_data";
  expect_error([&] { run_train(o); }, {"no_such_data"});
  o = tiny_options(tmp / "b", 1);
  o.batch = 0;
  expect_error([&] { run_train(o); }, {"batch"});
  o = tiny_options(tmp / "c", 0);
  expect_error([&] { run_train(o); }, {"epochs"});
}

// ---------------------------------------------------------------------------------------------
// One update: global-norm clipping (torch.nn.utils.clip_grad_norm_) then Adam.

namespace {

struct StepCase {
  model::ModelConfig cfg = tiny_config();
  Pairs pairs;
  text::Batch batch;
  StepCase() {
    Rng rng(401);
    pairs = random_pairs(rng, cfg, {{6, 5}, {4, 7}, {5, 3}});
    batch = pairs.all();
  }
};

}  // namespace

TEST(TrainingStep, ClipsTheGlobalNormThenTakesAnAdamStep) {
  StepCase sc;
  for (float clip : {1e9f, 0.5f, 1e-9f}) {
    SCOPED_TRACE("clip " + std::to_string(clip));
    train::TrainOptions opt;
    opt.clip = clip;
    opt.lr = 1e-3f;
    // Expected: the gradient of the mean loss with the same coins and dropout masks.
    auto ref = tiny_model(sc.cfg, 402);
    Rng rref(403);
    std::vector<unsigned char> coins(sc.batch.trg_len);
    for (auto& c : coins) c = rref.uniform() < opt.teacher_forcing;
    model::TrainingGraph g;
    const double loss = g.forward(sc.cfg, ref.w, sc.batch, coins, opt.dropout, &rref);
    model::ParamBuffer grads(ref.params.size());
    auto gw = model::bind_weights(grads.data(), sc.cfg);
    g.backward(sc.cfg, ref.w, gw, 1.0f / g.tokens());
    double norm = 0;
    for (std::size_t i = 0; i < grads.size(); ++i)
      norm += (double)grads.data()[i] * grads.data()[i];
    norm = std::sqrt(norm);
    const double coef = std::min(1.0, clip / (norm + 1e-6));

    auto m = tiny_model(sc.cfg, 402);
    train::Updater up(m);
    Rng rng(403);
    const double got_loss = up.step(sc.batch, rng, opt);
    EXPECT_NEAR(got_loss, loss, 1e-6 * loss);
    EXPECT_EQ(up.steps, 1);
    EXPECT_EQ(rng.state(), rref.state()) << "the step draws coins and dropout from the rng";
    // Adam's first step from zero moments: w -= lr * g / (|g| + eps), g the clipped gradient.
    int bad = 0;
    double moved = 0;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      const double gc = grads.data()[i] * coef;
      const double want = opt.lr * gc / (std::fabs(gc) + 1e-8);
      const double got = (double)ref.params.data()[i] - m.params.data()[i];
      bad += std::fabs(got - want) > 2e-3 * std::fabs(want) + 2e-7;
      moved = std::max(moved, std::fabs(got));
    }
    EXPECT_EQ(bad, 0);
    if (clip == 1e-9f) {
      EXPECT_LT(moved, 0.15 * opt.lr) << "a tiny clip norm must shrink Adam's first step";
    } else {
      EXPECT_NEAR(moved, opt.lr, 1e-4 * opt.lr);
    }
  }
}

TEST(TrainingStep, RefusesNonFiniteLossOrGradientAndLeavesWeightsIntact) {
  StepCase sc;
  for (int where = 0; where < 3; ++where) {
    SCOPED_TRACE(where);
    auto m = tiny_model(sc.cfg, 404);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    if (where == 0) m.w.enc_fc_b[0] = nan;  // every decoder state: the loss is NaN
    if (where == 1) m.w.dec_w_ih[3] = nan;
    if (where == 2) m.w.att_v[1] = nan;
    std::vector<float> before(m.params.data(), m.params.data() + m.params.size());
    train::Updater up(m);
    Rng rng(1);
    train::TrainOptions opt;
    expect_error([&] { up.step(sc.batch, rng, opt); }, {"step 1"});
    EXPECT_EQ(up.steps, 0);
    EXPECT_EQ(std::memcmp(before.data(), m.params.data(), before.size() * sizeof(float)), 0)
        << "weights changed by a refused step";
  }
}
