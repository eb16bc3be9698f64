#pragma once
// Live training progress: a redrawn bar on a terminal, a plain line every ~5% otherwise.
#include <chrono>

namespace nmt::train {

class Progress {
 public:
  explicit Progress(bool enabled);
  void start_epoch(int epoch, int epochs, long total, long done);
  void update(long done, double loss, double tokens_per_s);
  void finish_epoch();

 private:
  bool enabled_, tty_;
  int epoch_ = 0, epochs_ = 0;
  long total_ = 0, start_done_ = 0, last_line_ = -1;
  std::chrono::steady_clock::time_point t0_, last_draw_;
};

}  // namespace nmt::train
