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
  // Batches as the tutorial's evaluation iterator makes them (torchtext BucketIterator with
  // sort=True for evaluation: the set sorted by source length, then cut into batches). This
  // matters only for ppl_free, a mean of per-batch means; ppl weights every token alike.
  std::vector<std::size_t> order(src.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return src[a].size() < src[b].size(); });
  for (std::size_t start = 0; start < src.size(); start += batch_size) {
    const std::vector<std::size_t> idx(order.begin() + start,
                                       order.begin() + std::min(src.size(), start + batch_size));
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
