#pragma once
// Corpus loss/perplexity of a model (design §4): `ppl` teacher-forced (reference prefix fed,
// token-weighted mean) and `ppl_free` (the tutorial's figure: own argmax fed, mean of per-batch
// mean losses over batches of sentences sorted by source length, as its iterator makes them).
#include <vector>

#include "model/checkpoint.h"

namespace nmt::eval {

struct LossResult {
  double loss = 0, ppl = 0;            // teacher forcing 1.0
  double loss_free = 0, ppl_free = 0;  // teacher forcing 0
  long tokens = 0;
};

LossResult corpus_loss(const model::ModelConfig& c, const model::Weights& w,
                       const std::vector<std::vector<int>>& src,
                       const std::vector<std::vector<int>>& trg, int batch_size = 128);

}  // namespace nmt::eval
