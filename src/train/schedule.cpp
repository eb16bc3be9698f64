#include "train/schedule.h"

#include <algorithm>
#include <cstdio>

namespace nmt::train {

float scheduled_lr(const TrainOptions& o, const ScheduleState& s, long step) {
  double f = s.lr_scale;
  if (o.warmup > 0 && step < o.warmup) f *= (double)step / o.warmup;
  return f == 1.0 ? o.lr : (float)(o.lr * f);
}

std::string after_validation(const TrainOptions& o, ScheduleState& s, bool improved, bool& stop) {
  stop = false;
  if (improved) {
    s.bad_epochs = 0;
    return "";
  }
  ++s.bad_epochs;
  char buf[160];
  if (o.early_stop > 0 && s.bad_epochs >= o.early_stop) {
    stop = true;
    std::snprintf(buf, sizeof buf, "early stop: no better validation %s in %d epochs",
                  o.select_by.c_str(), s.bad_epochs);
    return buf;
  }
  if (o.lr_decay < 1.0f && o.lr_patience > 0 && s.bad_epochs % o.lr_patience == 0) {
    s.lr_scale *= o.lr_decay;
    std::snprintf(buf, sizeof buf,
                  "learning rate decayed to %g (no better validation %s in %d epochs)",
                  o.lr * s.lr_scale, o.select_by.c_str(), s.bad_epochs);
    return buf;
  }
  return "";
}

}  // namespace nmt::train
