#pragma once
// Line reader for streaming: next() hands out complete lines and says whether more input is
// already waiting, so `nmt translate` can flush a partial batch instead of blocking on a pipe
// or terminal that has nothing more to say yet.
#include <string>

namespace nmt::cli {

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // Reads the next line (without '\n' / '\r\n'); false at end of input.
  bool next(std::string& line);
  // True when a complete line is buffered or the descriptor has data ready now.
  bool more_ready();

 private:
  bool fill(bool block);
  int fd_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace nmt::cli
