#pragma once
// Presets: the one place where recipe defaults are written (the seed model's sizes are
// model::ModelConfig::seed's). A preset is a JSON object over the training options' keys
// (train/options.h, beside it); `nmt train` starts from "seed" and overlays the preset it is
// given on the options left at their defaults.
//   seed    design §2 and §4 exactly: the PyTorch tutorial's model and recipe (word tokens,
//           lowercased, teacher forcing 0.5, embedding dropout 0.5, best checkpoint by ppl_free).
//   strong  subwords, cased, label smoothing, full teacher forcing, a learning-rate schedule,
//           early stopping and the checkpoint with the best validation BLEU (docs/results.md).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "text/corpus.h"

namespace nmt::train {

// Throws nmt::Error naming the known presets when `name` is not one.
const nlohmann::json& preset(const std::string& name);
std::vector<std::string> preset_names();

// The seed preset (sizes, word codecs, min_freq) freshly initialised with `seed` on the
// vocabularies of pc (what `nmt bench` and `nmt explain` use without --model).
model::Model seed_model(const text::ParallelCorpus& pc, std::uint64_t seed);

}  // namespace nmt::train
