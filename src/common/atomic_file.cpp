#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace nmt {

namespace {

// Fault injection for the reliability tests (never set in normal use):
//   NMT_FAULT_WRITE_FAIL_AFTER=N   a write fails with ENOSPC once N bytes of a file are written
//   NMT_FAULT_WRITE_DELAY_MS=T     sleep T ms after every 1 MiB written (to kill mid-write)
//   NMT_FAULT_WRITE_PATH=S         only files whose path contains S are affected
struct Faults {
  long fail_after = -1, delay_ms = 0;
  std::string path_part;
  Faults() {
    if (const char* v = std::getenv("NMT_FAULT_WRITE_FAIL_AFTER")) fail_after = std::atol(v);
    if (const char* v = std::getenv("NMT_FAULT_WRITE_DELAY_MS")) delay_ms = std::atol(v);
    if (const char* v = std::getenv("NMT_FAULT_WRITE_PATH")) path_part = v;
  }
  bool applies(const std::string& path) const {
    return (fail_after >= 0 || delay_ms > 0) && path.find(path_part) != std::string::npos;
  }
};

const Faults& faults() {
  static const Faults f;
  return f;
}

}  // namespace

static void write_all(int fd, const char* p, std::size_t n, const std::string& path,
                      std::size_t& written) {
  const Faults& f = faults();
  const bool inject = f.applies(path);
  while (n > 0) {
    const std::size_t chunk = std::min<std::size_t>(n, 1 << 20);
    if (inject && f.fail_after >= 0 && written + chunk > (std::size_t)f.fail_after) {
      errno = ENOSPC;
      throw Error(path + ": write failed (" + std::strerror(errno) + ")");
    }
    const ssize_t w = ::write(fd, p, chunk);
    if (inject && f.delay_ms > 0) ::usleep((useconds_t)f.delay_ms * 1000);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(path + ": write failed (" + std::strerror(errno) + ")");
    }
    p += w;
    n -= (std::size_t)w;
    written += (std::size_t)w;
  }
}

void write_pieces_atomic(const std::string& path,
                         const std::vector<std::pair<const char*, std::size_t>>& pieces) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot create (" + std::strerror(errno) + ")");
  try {
    std::size_t written = 0;
    for (const auto& [p, n] : pieces) write_all(fd, p, n, tmp, written);
    if (::fsync(fd) != 0) throw Error(tmp + ": fsync failed (" + std::strerror(errno) + ")");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(tmp + ": close failed (" + std::strerror(errno) + ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": rename failed (" + std::strerror(e) + ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  write_pieces_atomic(path, {{contents.data(), contents.size()}});
}

}  // namespace nmt
