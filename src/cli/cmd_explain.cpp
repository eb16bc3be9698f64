// nmt explain: the seed document's walkthrough (design §2, §5) as a command. Takes the first 8
// training pairs as one real batch and prints every tensor of the encoder, the first attention
// step and the first decoder step in the seed's order, each with its shape and a few real values
// traced from the translator's own forward pass (viz/explain.h); --json prints the shapes.
#include <filesystem>

#include "cli/commands.h"
#include "common/error.h"
#include "decode/options.h"
#include "model/checkpoint.h"
#include "tensor/ops.h"
#include "text/batch.h"
#include "data/corpus.h"
#include "train/presets.h"
#include "viz/explain.h"

namespace nmt::cli {

namespace {

constexpr int kBatch = 8;  // the seed's batch size

struct ExplainOptions {
  std::string model, data;
  std::uint64_t seed = 1234;
  int threads = decode::DecodingOptions{}.threads;
  bool json = false;
};

void run_explain(const ExplainOptions& o) {
  ops::set_threads(o.threads);
  const std::string data = o.data.empty() ? data::default_data_dir() : o.data;
  if (!o.model.empty() && !std::filesystem::is_directory(o.model))
    throw Error(o.model + ": not a model directory");
  // The model: a checkpoint, or the seed preset freshly initialised on the train vocabulary.
  viz::ExplainInput in;
  in.data = data;
  model::Model m;
  if (!o.model.empty()) {
    m = model::load_model(o.model);
    in.origin = "checkpoint " + o.model;
  }
  const auto pc = data::read_split(data, "train", 0, o.model.empty() ? data::kDefaultSrcLang : m.config.src_lang,
                                    o.model.empty() ? data::kDefaultTrgLang : m.config.trg_lang);
  if ((int)pc.src.size() < kBatch)
    throw Error(data + ": the train split has fewer than " + std::to_string(kBatch) + " pairs");
  if (o.model.empty()) {
    m = train::seed_model(pc, o.seed);
    in.untrained = true;
    in.origin = "seed preset, random init N(0, 0.01) with --seed " + std::to_string(o.seed) +
                " (vocabularies from the train split, min_freq 2)";
  }
  // The batch: the first 8 training pairs, time-major [len, 8], padded with <pad> = 1.
  text::ParallelCorpus first;
  first.src.assign(pc.src.begin(), pc.src.begin() + kBatch);
  first.trg.assign(pc.trg.begin(), pc.trg.begin() + kBatch);
  const auto ids =
      data::encode_corpus(first, *m.src_codec, *m.trg_codec, m.src_vocab, m.trg_vocab, 0);
  std::vector<std::size_t> idx(kBatch);
  for (int b = 0; b < kBatch; ++b) idx[b] = b;
  in.batch = text::make_batch(ids.src, ids.trg, idx);
  in.src_text = first.src;
  in.trg_text = first.trg;
  viz::explain_batch(m, in, o.json);
}

}  // namespace

void add_explain(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain", "The seed walkthrough on a real batch of 8: every tensor's shape and values");
  cmd->add_option("--model", o->model,
                  "Model directory (default: the seed preset, randomly initialised)");
  cmd->add_option("--data", o->data, "Multi30k directory (default: the bundled copy)");
  cmd->add_option("--seed", o->seed, "Random init seed when no --model is given")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the tensors' names and shapes as one JSON object");
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace nmt::cli
