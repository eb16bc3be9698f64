// nmt bench: training and translation speed on the real bundled data (design §5, §6).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/rng.h"
#include "model/checkpoint.h"
#include "tensor/ops.h"
#include "train/data.h"
#include "train/trainer.h"

namespace nmt::cli {

namespace {

struct BenchOptions {
  std::string data_dir = default_data_dir();
  int threads = 2;
  int batch = 128;
  int warmup = 3;
  int steps = 20;
  std::string model;  // trained weights for translation (random init otherwise)
  bool train = true;
};

long peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return -1;
}

void run_bench(const BenchOptions& o) {
  using clock = std::chrono::steady_clock;
  ops::set_threads(o.threads);
  const auto pc = train::read_split(o.data_dir, "train");
  const auto tok = train::tokenize_corpus(pc, text::Lang::De, text::Lang::En, true);
  auto src_vocab = text::Vocab::build(tok.src, 2);
  auto trg_vocab = text::Vocab::build(tok.trg, 2);
  const auto data = train::encode_corpus(tok, src_vocab, trg_vocab, 100);
  auto cfg = model::ModelConfig::seed(src_vocab.size(), trg_vocab.size());
  auto m = model::Model::create(cfg, std::move(src_vocab), std::move(trg_vocab), 1234);
  if (o.train) {
    std::vector<int> lengths(data.src.size());
    for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (int)data.src[i].size();
    const auto batches = text::plan_batches(lengths, {o.batch, true, false, 1234}, 0);
    train::TrainOptions topt;
    train::Updater up(m);
    Rng rng(1);
    long tokens = 0;
    double seconds = 0;
    for (int i = 0; i < o.warmup + o.steps; ++i) {
      const auto batch = text::make_batch(data.src, data.trg, batches[i % batches.size()]);
      const auto t0 = clock::now();
      up.step(batch, rng, topt);
      const double dt = std::chrono::duration<double>(clock::now() - t0).count();
      if (i >= o.warmup) {
        tokens += up.tokens();
        seconds += dt;
      }
    }
    nlohmann::json j = {{"what", "train"},          {"impl", "nmt"},
                        {"threads", ops::threads()}, {"batch", o.batch},
                        {"steps", o.steps},          {"tokens", tokens},
                        {"seconds", seconds},        {"tokens_per_s", tokens / seconds},
                        {"epoch_minutes_est", 0.0},  {"peak_rss_mb", peak_rss_mb()},
                        {"blas_core", ops::blas_core_name()}};
    // One epoch of the bundled train set has about this many target tokens.
    long epoch_tokens = 0;
    for (const auto& t : data.trg) epoch_tokens += (long)t.size() - 1;
    j["epoch_minutes_est"] = epoch_tokens / (tokens / seconds) / 60.0;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Training and translation speed on the bundled data (JSON lines)");
  cmd->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Untimed training steps first")->capture_default_str();
  cmd->add_option("--steps", o->steps, "Timed training steps")->capture_default_str();
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace nmt::cli
