#include "cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace nmt::cli {

bool LineReader::fill(bool block) {
  if (eof_) return false;
  if (!block) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
  }
  char chunk[65536];
  ssize_t n;
  do n = ::read(fd_, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw Error(name_ + ": read error (" + std::strerror(errno) + ")");
  if (n == 0) {
    eof_ = true;
    return false;
  }
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(chunk, (std::size_t)n);
  return true;
}

bool LineReader::more_ready() {
  if (buf_.find('\n', pos_) != std::string::npos) return true;
  return fill(false) || (eof_ && pos_ < buf_.size());
}

bool LineReader::next(std::string& line) {
  for (;;) {
    const auto nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line.assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      break;
    }
    if (!fill(true)) {
      if (pos_ >= buf_.size()) return false;
      line.assign(buf_, pos_, std::string::npos);  // last line without '\n'
      pos_ = buf_.size();
      break;
    }
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

}  // namespace nmt::cli
