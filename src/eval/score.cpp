#include "eval/score.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "model/seq2seq.h"
#include "text/batch.h"

namespace nmt::eval {

LossResult corpus_loss(const model::ModelConfig& c, const model::Weights& w,
                       const std::vector<std::vector<int>>& src,
                       const std::vector<std::vector<int>>& trg, int batch_size) {
  LossResult r;
  model::TrainingGraph graph;
  double sum_tf = 0, sum_batch_means = 0;
  long batches = 0;
  for (std::size_t start = 0; start < src.size(); start += batch_size) {
    std::vector<std::size_t> idx(std::min<std::size_t>(batch_size, src.size() - start));
    std::iota(idx.begin(), idx.end(), start);
    const auto batch = text::make_batch(src, trg, idx);
    std::vector<unsigned char> coins(batch.trg_len, 1);
    sum_tf += graph.forward(c, w, batch, coins, 0.0f, nullptr);
    r.tokens += graph.tokens();
    std::fill(coins.begin(), coins.end(), 0);
    sum_batch_means += graph.forward(c, w, batch, coins, 0.0f, nullptr) / graph.tokens();
    ++batches;
  }
  if (r.tokens > 0) {
    r.loss = sum_tf / r.tokens;
    r.loss_free = sum_batch_means / batches;
    r.ppl = std::exp(r.loss);
    r.ppl_free = std::exp(r.loss_free);
  }
  return r;
}

}  // namespace nmt::eval
