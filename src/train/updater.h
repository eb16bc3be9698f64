#pragma once
// One optimisation step of the recipe, in three phases so that a caller can act between them:
//   backward   forward with teacher-forcing coins and dropout, then the gradient of the mean
//              loss over the batch's target tokens into grads(); in a data-parallel run, of
//              this rank's shard of the batch only (set_shard), still divided by the whole
//              batch's target tokens, so that the sum over the ranks is the whole gradient;
//   (hook)     gradient_hook(grads, n), e.g. where a distributed run sums the gradients;
//   apply      global-norm clip, then Adam at the learning rate of this step.
#include <functional>
#include <optional>

#include "model/checkpoint.h"
#include "model/seq2seq.h"
#include "tensor/gemm_bf16.h"
#include "text/batch.h"
#include "train/options.h"

namespace nmt {
class Rng;
}

namespace nmt::train {

class Updater {
 public:
  explicit Updater(model::Model& m);
  // Returns the summed loss over the batch's target tokens; throws nmt::Error naming the step
  // when the loss or the gradient is not finite (the weights are then left untouched).
  double backward(const text::Batch& batch, Rng& rng, const TrainOptions& opt);
  // Clips the gradient's global norm to `clip` and takes an Adam step at `lr`; throws when the
  // weights are not finite afterwards (the saved checkpoint is then the one to go back to).
  void apply(float lr, float clip);
  // backward, gradient_hook, apply(opt.lr, opt.clip).
  double step(const text::Batch& batch, Rng& rng, const TrainOptions& opt);

  // Makes backward() work on shard `rank` of `size` equal column ranges of each batch. The
  // teacher-forcing coins and dropout masks are drawn for the whole batch on every rank, as
  // one process draws them, so the split changes nothing but the rounding of the sums.
  void set_shard(int rank, int size);

  // The batch's target tokens (the whole batch's, also when this rank computes a shard).
  long tokens() const { return tokens_; }
  model::ParamBuffer& grads() { return grads_; }
  std::function<void(float* grads, std::size_t n)> gradient_hook;
  long steps = 0;  // updates so far (Adam's step count)
  model::ParamBuffer adam_m, adam_v;

 private:
  std::string where() const;
  model::Model& m_;
  model::ParamBuffer grads_;
  model::Weights g_;
  model::TrainingGraph graph_;
  std::optional<ops::Bf16Weights> bf16_;  // --precision bf16: the weights' bf16 copy
  int shard_ = 0, shards_ = 1;
  long tokens_ = 0;
  std::vector<float> src_drop_, trg_drop_, out_drop_;
  double forward_shard(const text::Batch& batch, const std::vector<unsigned char>& coins, Rng& rng,
                       float dropout, float out_dropout);
};

}  // namespace nmt::train
