#pragma once
// The one sink of a training run's output: live progress (a redrawn bar on a terminal, a plain
// line every ~5% otherwise) and messages, plus the formats of its summary lines.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "model/config.h"
#include "data/corpus.h"

namespace nmt::train {

class Progress {
 public:
  explicit Progress(bool enabled);
  void start_epoch(int epoch, int epochs, long total, long done);
  void update(long done, double loss, double tokens_per_s);
  void finish_epoch();
  // A message on its own line(s) (always shown, also when the bar is disabled), flushed.
  void message(const std::string& text);

 private:
  bool enabled_, tty_;
  int epoch_ = 0, epochs_ = 0;
  long total_ = 0, start_done_ = 0, last_line_ = -1;
  std::chrono::steady_clock::time_point t0_, last_draw_;
};

// "epoch 2 | step 454 | train loss ... | valid ppl_free ... | 271s, 1508 tok/s | best so far,
// saved"
std::string epoch_summary(const nlohmann::json& log_line, bool best);
std::string data_summary(const data::EncodedCorpus& train, std::size_t skipped, std::size_t valid,
                         int max_len);
std::string model_summary(const model::ModelConfig& c, int threads);

}  // namespace nmt::train
