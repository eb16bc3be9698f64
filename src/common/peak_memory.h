#pragma once
// Peak resident memory of this process (VmHWM), in MB; -1 where /proc is unavailable.
#include <fstream>
#include <string>

namespace nmt {

inline long peak_rss_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return -1;
}

}  // namespace nmt
