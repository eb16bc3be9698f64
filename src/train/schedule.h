#pragma once
// Learning-rate schedule and early stopping, driven by the validation figure of each epoch:
// linear warm-up over the first `warmup` updates; after every `lr_patience` epochs without a
// better figure the rate is multiplied by `lr_decay`; `early_stop` such epochs end the run.
// With the seed preset (no warm-up, decay 1, no early stop) lr() is exactly --lr.
#include <string>

#include "train/options.h"

namespace nmt::train {

struct ScheduleState {
  double lr_scale = 1.0;  // product of the decays so far
  int bad_epochs = 0;     // epochs since the best validation figure
};

float scheduled_lr(const TrainOptions& o, const ScheduleState& s, long step);  // step: 1-based
// Updates the state after an epoch's validation; returns a message when the rate decays or
// the run should stop (stop set), else "".
std::string after_validation(const TrainOptions& o, ScheduleState& s, bool improved, bool& stop);

}  // namespace nmt::train
