// nmt bench: training and translation speed on the real bundled data (design §5, §6).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/peak_memory.h"
#include "common/rng.h"
#include "decode/translator.h"
#include "model/checkpoint.h"
#include "tensor/cpu.h"
#include "tensor/gemm_bf16.h"
#include "tensor/ops.h"
#include "data/corpus.h"
#include "train/presets.h"
#include "train/benchmark.h"

namespace nmt::cli {

namespace {

struct BenchOptions {
  std::string data_dir = data::default_data_dir();
  int threads = decode::DecodingOptions{}.threads;
  int batch = 128;
  int warmup = 3;
  int steps = 20;
  std::string model;  // trained weights for translation (random init otherwise)
  bool train = true, translate = true;
  // Training precisions measured side by side (bf16 only where the CPU and build have it).
  // (Each is resolved before anything runs: bf16 where this CPU lacks it is refused.)
  std::vector<std::string> precisions = ops::bf16_gemm_available()
                                            ? std::vector<std::string>{"fp32", "bf16"}
                                            : std::vector<std::string>{"fp32"};
  int sentences = 1000;  // test2016 sentences translated per measurement
  int single = 100;      // sentences translated one at a time
};

void run_bench(const BenchOptions& o) {
  std::vector<ops::Precision> train_precisions;
  for (const auto& name : o.precisions)
    train_precisions.push_back(
        ops::resolve(ops::parse_precision(name), ops::Workload::Training).used);
  ops::set_threads(o.threads);
  if (o.train) {
    const auto pc = data::read_split(o.data_dir, "train");
    std::map<std::string, double> speed;
    const train::SpeedSettings st{o.batch, o.warmup, o.steps, false};
    for (auto p : train_precisions) speed[ops::precision_name(p)] = train::training_speed(st, pc, p);
    if (speed.count("fp32") && speed.count("bf16"))
      std::printf("{\"what\":\"train_speedup\",\"bf16_over_fp32\":%.3f}\n",
                  speed["bf16"] / speed["fp32"]);
  }
  // The seed model on the bundled train set's vocabularies translates when no --model is given.
  model::Model m;
  if (o.translate && o.model.empty())
    m = train::seed_model(data::read_split(o.data_dir, "train"), 1234);
  if (o.translate) {
    const model::Model trained = o.model.empty() ? model::Model{} : model::load_model(o.model);
    const model::Model& tm = o.model.empty() ? m : trained;
    auto test = data::read_split(o.data_dir, "test", o.sentences);
    train::SpeedSettings st{o.batch, o.warmup, o.steps, !o.model.empty()};
    auto measure = [&](const char* what, int beam, int batch, std::size_t count,
                       decode::Precision precision = decode::Precision::Fp32) {
      train::translation_speed(st, tm, test.src, what, beam, batch, count, precision);
    };
    measure("translate_greedy_batched", 1, 128, test.src.size());
    measure("translate_greedy_single", 1, 1, (std::size_t)o.single);
    measure("translate_greedy_single", 1, 1, (std::size_t)o.single, decode::Precision::Bf16);
    if (ops::int8_gemm_available()) {
      measure("translate_greedy_batched", 1, 128, test.src.size(), decode::Precision::Int8);
      measure("translate_greedy_single", 1, 1, (std::size_t)o.single, decode::Precision::Int8);
      measure("translate_beam5_batched", 5, 128, test.src.size(), decode::Precision::Int8);
    }
    measure("translate_beam5_batched", 5, 128, test.src.size());
  }
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench",
                                 "Training and translation speed on the bundled data (JSON lines)");
  cmd->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Untimed training steps first")->capture_default_str();
  cmd->add_option("--steps", o->steps, "Timed training steps")->capture_default_str();
  cmd->add_option("--model", o->model,
                  "Trained model for the translation figures (else random init)");
  cmd->add_option("--sentences", o->sentences, "test2016 sentences per translation measurement")
      ->capture_default_str();
  cmd->add_option("--single", o->single, "Sentences translated one at a time")
      ->capture_default_str();
  cmd->add_option("--train-precision", o->precisions,
                  "Training precisions to measure, in one run (fp32 bf16)")
      ->capture_default_str();
  cmd->add_flag("!--no-train", o->train, "Skip the training measurement");
  cmd->add_flag("!--no-translate", o->translate, "Skip the translation measurements");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace nmt::cli
