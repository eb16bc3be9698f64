#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace nmt::train {

Progress::Progress(bool enabled) : enabled_(enabled), tty_(isatty(STDOUT_FILENO)) {}

void Progress::start_epoch(int epoch, int epochs, long total, long done) {
  epoch_ = epoch;
  epochs_ = epochs;
  total_ = total;
  start_done_ = done;
  last_line_ = -1;
  t0_ = std::chrono::steady_clock::now();
  last_draw_ = {};
}

static std::string hms(double s) {
  char buf[32];
  const long t = (long)s;
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void Progress::update(long done, double loss, double tokens_per_s) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  const double eta = done > start_done_ ? elapsed / (done - start_done_) * (total_ - done) : 0.0;
  if (tty_) {
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    const int width = 30;
    const int fill = (int)(width * done / std::max(total_, 1L));
    std::printf("\repoch %d/%d [%s%s] %ld/%ld  loss %.3f  %.0f tok/s  ETA %s   ", epoch_, epochs_,
                std::string(fill, '#').c_str(), std::string(width - fill, '.').c_str(), done,
                total_, loss, tokens_per_s, hms(eta).c_str());
    std::fflush(stdout);
  } else {
    const long every = std::max(1L, total_ / 20);
    if (done % every != 0 && done != total_) return;
    if (done == last_line_) return;
    last_line_ = done;
    std::printf("epoch %d/%d  batch %ld/%ld  loss %.3f  %.0f tok/s  ETA %s\n", epoch_, epochs_,
                done, total_, loss, tokens_per_s, hms(eta).c_str());
    std::fflush(stdout);
  }
}

void Progress::finish_epoch() {
  if (enabled_ && tty_) std::printf("\n");
}

}  // namespace nmt::train
