#pragma once
// The training recipe of design §4: Adam, global-norm clipping, teacher forcing 0.5 (one coin
// per step for the batch), dropout 0.5, per-epoch validation, best + last checkpoints, resume.
#include <cstdint>
#include <set>
#include <string>

#include "model/checkpoint.h"
#include "model/seq2seq.h"
#include "text/batch.h"

namespace nmt {
class Rng;
}

namespace nmt::train {

struct TrainOptions {
  std::string data_dir;
  std::string out_dir;
  int epochs = 10;
  int batch = 128;
  long max_steps = 0;  // 0 = no limit; otherwise stop after this many updates (then validate/save)
  int threads = 2;
  std::uint64_t seed = 1234;
  bool resume = false;
  float lr = 1e-3f;
  float clip = 1.0f;
  float teacher_forcing = 0.5f;
  float dropout = 0.5f;
  int max_len = 100;         // sentences longer than this (ids incl. <sos>/<eos>) are truncated
  long save_every = 100;     // also save the resumable state every N updates (0 = epoch ends only)
  bool bucket = false;       // length bucketing of batches (same math, less padding)
  bool keep_epochs = false;  // also save each epoch's weights as a model in RUN/epochs/N
  long train_limit = 0;      // use only the first N training pairs (0 = all; for tests)
  long valid_limit = 0;      // likewise for validation
  int emb_dim = 256, enc_hid_dim = 512, dec_hid_dim = 512;  // seed preset sizes
  bool progress = true;  // live progress (a bar on a terminal, plain lines otherwise)
  // Names of options left at their defaults (e.g. "batch"; the CLI fills it): with --resume,
  // these are taken from the run being resumed, the others must agree with it.
  std::set<std::string> defaulted;
};

// One optimisation step of the recipe (forward with coins and dropout, backward, global-norm
// clip, Adam), with its gradient and Adam buffers allocated once.
class Updater {
 public:
  explicit Updater(model::Model& m);
  // Returns the summed loss over the batch's target tokens; throws nmt::Error naming the step
  // when the loss or the gradient is not finite (the weights are then left untouched).
  double step(const text::Batch& batch, Rng& rng, const TrainOptions& opt);
  long tokens() const { return graph_.tokens(); }
  long steps = 0;  // updates so far (Adam's step count)
  model::ParamBuffer adam_m, adam_v;

 private:
  model::Model& m_;
  model::ParamBuffer grads_;
  model::Weights g_;
  model::TrainingGraph graph_;
};

// Runs (or resumes) training; throws nmt::Error on bad input or a non-finite loss. Returns
// false when SIGINT/SIGTERM stopped it (after saving the resumable state), true when done.
bool train(const TrainOptions& opt);

}  // namespace nmt::train
