#include "train/updater.h"

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
  const double loss_sum = graph_.forward(m_.config, m_.w, batch, coins, opt.dropout, &rng);
  if (!std::isfinite(loss_sum))
    throw Error(where() + "loss is " + (std::isnan(loss_sum) ? "NaN" : "Inf") + kIntact);
  graph_.backward(m_.config, m_.w, g_, 1.0f / graph_.tokens());
  return loss_sum;
}

void Updater::apply(float lr, float clip) {
  const double norm = std::sqrt(ops::sum_squares(grads_.data(), grads_.size()));
  if (!std::isfinite(norm)) throw Error(where() + "gradient is not finite" + kIntact);
  // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
  const double clip_coef = clip / (norm + 1e-6);
  if (clip_coef < 1.0) ops::scale(grads_.data(), grads_.size(), (float)clip_coef);
  ++steps;
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
