#pragma once
// `nmt explain`: the seed walkthrough (design §2) on a real batch, every number taken from a trace
// of the translator's own forward pass (decode/trace.h): the encoder, the first attention step
// and the first decoder step in the seed's order, each tensor with its shape and a few values.
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "text/batch.h"

namespace nmt::viz {

struct ExplainInput {
  std::string origin;  // what the model is ("checkpoint runs/seed", or the seed preset's init)
  std::string data;    // where the pairs come from
  bool untrained = false;
  std::vector<std::string> src_text, trg_text;  // the pairs, one per column
  text::Batch batch;                            // their ids, time-major
};

// Prints the walkthrough on stdout (json: only one JSON object with the tensors' names and
// shapes, the parameters and the checks).
void explain_batch(const model::Model& m, const ExplainInput& in, bool json);

}  // namespace nmt::viz
