#include "train/updater.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/rng.h"
#include "tensor/ops.h"

namespace nmt::train {

namespace {
const char* kIntact = "; stopped, the last saved checkpoint is intact";
}

Updater::Updater(model::Model& m)
    : adam_m(m.params.size()),
      adam_v(m.params.size()),
      m_(m),
      grads_(m.params.size()),
      g_(model::bind_weights(grads_.data(), m.config)) {}

std::string Updater::where() const { return "step " + std::to_string(steps + 1) + ": "; }

double Updater::backward(const text::Batch& batch, Rng& rng, const TrainOptions& opt) {
  std::vector<unsigned char> coins(batch.trg_len);
  for (auto& c : coins) c = rng.uniform() < opt.teacher_forcing;
  grads_.zero();
  graph_.set_label_smoothing(opt.label_smoothing);
  graph_.set_output_dropout(opt.out_dropout);
  // Mixed precision for this forward and backward only (validation stays fp32).
  std::optional<ops::Bf16GemmScope> bf16;
  if (opt.precision == ops::Precision::Bf16) {
    if (!bf16_) bf16_.emplace(m_.params.data(), m_.params.size());
    bf16.emplace(*bf16_);
  }
  if (shards_ > 1) return forward_shard(batch, coins, rng, opt.dropout, opt.out_dropout);
  const double loss_sum = graph_.forward(m_.config, m_.w, batch, coins, opt.dropout, &rng);
  if (!std::isfinite(loss_sum))
    throw Error(where() + "loss is " + (std::isnan(loss_sum) ? "NaN" : "Inf") + kIntact);
  tokens_ = graph_.tokens();
  graph_.backward(m_.config, m_.w, g_, 1.0f / tokens_);
  return loss_sum;
}

void Updater::set_shard(int rank, int size) {
  shard_ = rank;
  shards_ = size;
}

double Updater::forward_shard(const text::Batch& batch, const std::vector<unsigned char>& coins,
                              Rng& rng, float dropout, float out_dropout) {
  tokens_ = 0;
  for (int l : batch.trg_lengths) tokens_ += l - 1;
  const bool masks = dropout > 0.0f || out_dropout > 0.0f;
  if (masks)
    model::TrainingGraph::draw_dropout_masks(m_.config, batch, dropout, out_dropout, rng, src_drop_,
                                             trg_drop_, out_drop_);
  const int begin = (int)((long)batch.batch * shard_ / shards_);
  const int end = (int)((long)batch.batch * (shard_ + 1) / shards_);
  if (begin == end) return 0.0;  // fewer sentences than ranks: this one adds nothing
  const text::Batch part = text::columns(batch, begin, end);
  if (masks) {
    const int B = batch.batch, n = end - begin;
    const auto& cfg = m_.config;
    // This shard's columns of a [len, B, W] mask (empty stays empty).
    auto slice = [&](const std::vector<float>& whole, int len, int W) {
      std::vector<float> out;
      if (whole.empty()) return out;
      out.resize((std::size_t)len * n * W);
      for (int t = 0; t < len; ++t)
        std::copy_n(whole.begin() + ((std::size_t)t * B + begin) * W, (std::size_t)n * W,
                    out.begin() + (std::size_t)t * n * W);
      return out;
    };
    const int E = cfg.emb_dim, LO = cfg.dec_hid_dim + 2 * cfg.enc_hid_dim + E;
    graph_.set_dropout_masks(slice(src_drop_, part.src_len, E), slice(trg_drop_, part.trg_len, E),
                             slice(out_drop_, part.trg_len, LO));
  }
  const double loss_sum = graph_.forward(m_.config, m_.w, part, coins, dropout, nullptr);
  graph_.set_dropout_masks({}, {});
  if (!std::isfinite(loss_sum))
    throw Error(where() + "loss is " + (std::isnan(loss_sum) ? "NaN" : "Inf") + kIntact);
  graph_.backward(m_.config, m_.w, g_, 1.0f / tokens_);
  return loss_sum;
}

void Updater::apply(float lr, float clip) {
  const double norm = std::sqrt(ops::sum_squares(grads_.data(), grads_.size()));
  if (!std::isfinite(norm)) throw Error(where() + "gradient is not finite" + kIntact);
  // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
  const double clip_coef = clip / (norm + 1e-6);
  if (clip_coef < 1.0) ops::scale(grads_.data(), grads_.size(), (float)clip_coef);
  ++steps;
  if (bf16_) bf16_->weights_changed();
  ops::adam_update(m_.params.data(), grads_.data(), adam_m.data(), adam_v.data(), m_.params.size(),
                   lr, 0.9f, 0.999f, 1e-8f, steps);
  if (!ops::all_finite(m_.params.data(), m_.params.size())) {
    --steps;  // names the step that failed
    throw Error(where() + "weights are not finite after the update (learning rate too high?)" +
                kIntact);
  }
}

double Updater::step(const text::Batch& batch, Rng& rng, const TrainOptions& opt) {
  const double loss_sum = backward(batch, rng, opt);
  if (gradient_hook) gradient_hook(grads_.data(), grads_.size());
  apply(opt.lr, opt.clip);
  return loss_sum;
}

}  // namespace nmt::train
