#pragma once
// Line reader for streaming: next() hands out complete lines and says whether more input is
// already waiting, so `nmt translate` can flush a partial batch instead of blocking on a pipe
// or terminal that has nothing more to say yet.
#include <string>
#include <utility>

namespace nmt::cli {

class LineReader {
 public:
  // name: the input as errors name it (a path, or <stdin>).
  explicit LineReader(int fd, std::string name = "<stdin>") : fd_(fd), name_(std::move(name)) {}
  // Reads the next line (without '\n' / '\r\n'); false at end of input.
  bool next(std::string& line);
  // True when a complete line is buffered or the descriptor has data ready now.
  bool more_ready();

 private:
  bool fill(bool block);
  int fd_;
  std::string name_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace nmt::cli
