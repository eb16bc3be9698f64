#pragma once
// The training run (design §4, plus the recipe options of train/options.h): data, a new or
// resumed model, epochs of updates, per-epoch validation, best + last checkpoints, resume.
#include "train/options.h"
#include "train/updater.h"

namespace nmt::train {

// Runs (or resumes) training; throws nmt::Error on bad input or a non-finite loss. Returns
// false when SIGINT/SIGTERM stopped it (after saving the resumable state), true when done.
bool train(const TrainOptions& opt);

}  // namespace nmt::train
