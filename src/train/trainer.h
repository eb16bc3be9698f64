#pragma once
// The training recipe of design §4: Adam, global-norm clipping, teacher forcing 0.5 (one coin
// per step for the batch), dropout 0.5, per-epoch validation, best + last checkpoints, resume.
#include <cstdint>
#include <string>

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
  int max_len = 100;        // sentences longer than this (ids incl. <sos>/<eos>) are truncated
  long save_every = 500;    // also save the resumable state every N updates (0 = epoch ends only)
  bool bucket = false;      // length bucketing of batches (same math, less padding)
  long train_limit = 0;     // use only the first N training pairs (0 = all; for tests)
  long valid_limit = 0;     // likewise for validation
  int emb_dim = 256, enc_hid_dim = 512, dec_hid_dim = 512;  // seed preset sizes
  bool progress = true;     // live progress (a bar on a terminal, plain lines otherwise)
};

// Runs (or resumes) training; throws nmt::Error on bad input or a non-finite loss.
void train(const TrainOptions& opt);

}  // namespace nmt::train
