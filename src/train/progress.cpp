#include "train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "model/params.h"

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

void Progress::message(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

std::string epoch_summary(const nlohmann::json& l, bool best) {
  char buf[400];
  const double train_loss = l.at("train_loss");
  std::snprintf(buf, sizeof buf,
                "epoch %d | step %ld | train loss %.3f ppl %.2f | valid loss %.3f ppl %.2f | "
                "valid ppl_free %.2f",
                l.at("epoch").get<int>(), l.at("step").get<long>(), train_loss,
                std::exp(train_loss), l.at("valid_loss").get<double>(),
                l.at("valid_ppl").get<double>(), l.at("valid_ppl_free").get<double>());
  std::string s = buf;
  if (l.contains("valid_bleu")) {
    std::snprintf(buf, sizeof buf, " | valid BLEU %.2f", l.at("valid_bleu").get<double>());
    s += buf;
  }
  std::snprintf(buf, sizeof buf, " | %.0fs, %.0f tok/s%s", l.at("epoch_time_s").get<double>(),
                l.at("tokens_per_s").get<double>(), best ? " | best so far, saved" : "");
  return s + buf;
}

std::string data_summary(const data::EncodedCorpus& train, std::size_t skipped, std::size_t valid,
                         int max_len) {
  char buf[240];
  std::snprintf(buf, sizeof buf,
                "data: %zu training pairs (%zu empty skipped, %ld sentences truncated to %d), %zu "
                "validation pairs",
                train.src.size(), skipped, train.truncated, max_len, valid);
  return buf;
}

std::string model_summary(const model::ModelConfig& c, int threads) {
  char buf[240];
  const char* unit = c.tokenizer == "spm" ? "pieces" : "words";
  std::snprintf(buf, sizeof buf, "model: %d src / %d trg %s, %zu parameters, %d threads",
                c.src_vocab_size, c.trg_vocab_size, unit, model::parameter_count(c), threads);
  return buf;
}

}  // namespace nmt::train
