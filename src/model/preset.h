#pragma once
// Presets: the one place where model sizes and recipe defaults are written. A preset is a JSON
// object over the training options' keys (train/options.h); `nmt train` starts from "seed" and
// overlays the preset it is given on the options left at their defaults.
//   seed    design §2 and §4 exactly: the PyTorch tutorial's model and recipe (word tokens,
//           lowercased, teacher forcing 0.5, embedding dropout 0.5, best checkpoint by ppl_free).
//   strong  subwords, cased, label smoothing, full teacher forcing, a learning-rate schedule,
//           early stopping and the checkpoint with the best validation BLEU (docs/results.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nmt::model {

// Throws nmt::Error naming the known presets when `name` is not one.
const nlohmann::json& preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace nmt::model
