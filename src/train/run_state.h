#pragma once
// Everything needed to continue a run exactly where it stopped, besides weights and Adam
// moments (saved as metadata of train_state.safetensors).
#include <array>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "train/schedule.h"

namespace nmt::train {

struct RunState {
  int epoch = 0;            // 0-based epoch in progress
  long batch_in_epoch = 0;  // batches of this epoch already done
  long step = 0;            // updates so far
  std::array<std::uint64_t, 4> rng{};
  double best_valid = INFINITY;  // the best selection score so far (lower is better)
  double epoch_loss = 0;         // summed loss / tokens / seconds of the epoch in progress
  long epoch_tokens = 0;
  double epoch_seconds = 0;
  ScheduleState schedule;
  bool finished = false;  // early stopping ended the run
  nlohmann::json log = nlohmann::json::array();

  void start_next_epoch() {
    ++epoch;
    batch_in_epoch = 0;
    epoch_loss = 0;
    epoch_tokens = 0;
    epoch_seconds = 0;
  }
  std::string log_text() const {
    std::string text;
    for (const auto& line : log) text += line.dump() + "\n";
    return text;
  }
  nlohmann::json to_json() const {
    return {
        {"epoch", epoch},
        {"batch_in_epoch", batch_in_epoch},
        {"step", step},
        {"rng", rng},
        {"best_valid", std::isfinite(best_valid) ? nlohmann::json(best_valid) : nlohmann::json()},
        {"epoch_loss", epoch_loss},
        {"epoch_tokens", epoch_tokens},
        {"epoch_seconds", epoch_seconds},
        {"lr_scale", schedule.lr_scale},
        {"bad_epochs", schedule.bad_epochs},
        {"finished", finished},
        {"log", log}};
  }
  // Throws nlohmann::json exceptions on missing/wrong fields (the caller names the file).
  static RunState from_json(const nlohmann::json& j) {
    RunState s;
    s.epoch = j.at("epoch");
    s.batch_in_epoch = j.at("batch_in_epoch");
    s.step = j.at("step");
    s.rng = j.at("rng");
    s.best_valid = j.at("best_valid").is_null() ? INFINITY : j.at("best_valid").get<double>();
    s.epoch_loss = j.at("epoch_loss");
    s.epoch_tokens = j.at("epoch_tokens");
    s.epoch_seconds = j.at("epoch_seconds");
    // Runs saved before the schedule existed had none.
    s.schedule.lr_scale = j.value("lr_scale", 1.0);
    s.schedule.bad_epochs = j.value("bad_epochs", 0);
    s.finished = j.value("finished", false);
    s.log = j.at("log");
    return s;
  }
};

}  // namespace nmt::train
