#pragma once
// `nmt bench`'s measurements as library functions: training speed of the seed model on real
// shuffled batches at one precision, and translation speed on test sentences; each prints one
// JSON line and returns its main figure.
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "tensor/precision.h"
#include "text/corpus.h"

namespace nmt::train {

struct SpeedSettings {
  int batch = 128;  // training batch
  int warmup = 3;   // untimed training steps first
  int steps = 20;   // timed training steps
  bool trained_model = false;  // reported with the translation figures
};

// Target tokens/s of the seed model training on pc (a resolved precision: fp32 or bf16).
double training_speed(const SpeedSettings& s, const text::ParallelCorpus& pc, ops::Precision p);
// Sentences/s translating the first `count` of lines in batches of `batch`.
double translation_speed(const SpeedSettings& s, const model::Model& m,
                         const std::vector<std::string>& lines, const char* what, int beam,
                         int batch, std::size_t count, ops::Precision p = ops::Precision::Fp32);

}  // namespace nmt::train
