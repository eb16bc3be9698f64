#pragma once
// The seed walkthrough (`nmt explain`) for one typed sentence, as JSON for the web page: every
// tensor of the model in the seed's order — source ids, embeddings, encoder outputs, final
// states, s0 — then each greedy decoder step's attention query and weights, context, new state
// and the top predictions, with shapes and real values computed by the model's own code.
#include <nlohmann/json.hpp>
#include <string>

#include "model/checkpoint.h"

namespace nmt::viz {

// Throws nmt::Error when the sentence has no tokens. At most max_len decoder steps.
nlohmann::json walkthrough(const model::Model& m, const std::string& sentence, int max_len);

}  // namespace nmt::viz
