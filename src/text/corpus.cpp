// Reading plain or gzipped UTF-8 text (gzip detected by its magic bytes 1f 8b, not the name).
#include "text/corpus.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/error.h"

namespace nmt::text {
namespace {

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", b);
  return buf;
}

std::string hex_bytes(std::string_view s) {
  std::string out;
  for (unsigned char b : s) {
    if (!out.empty()) out += ' ';
    out += hex_byte(b);
  }
  return out;
}

// Position (0-based byte offset) and description of the first UTF-8 error, or npos.
std::size_t utf8_error(std::string_view s, std::string* why) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t min = 0, cp = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2, min = 0x80, cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3, min = 0x800, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4, min = 0x10000, cp = b & 0x07;
    } else {
      if (why) {
        if (b >= 0x80 && b <= 0xBF)
          *why = "unexpected continuation byte " + hex_byte(b);
        else if (b == 0xC0 || b == 0xC1)
          *why = "overlong sequence starting with byte " + hex_byte(b);
        else
          *why = "byte " + hex_byte(b);
      }
      return i;
    }
    std::size_t k = 1;
    for (; k < len && i + k < n && (p[i + k] & 0xC0) == 0x80; ++k)
      cp = (cp << 6) | (p[i + k] & 0x3F);
    if (k < len) {
      if (why) *why = "truncated sequence " + hex_bytes(s.substr(i, k));
      return i;
    }
    const std::string seq = hex_bytes(s.substr(i, len));
    if (cp < min) {
      if (why) *why = "overlong sequence " + seq;
      return i;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      if (why) *why = "surrogate " + seq;
      return i;
    }
    if (cp > 0x10FFFF) {
      if (why) *why = "code point above U+10FFFF " + seq;
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

std::string errno_text(int err) { return std::strerror(err); }

std::string read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + errno_text(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": cannot open (" + errno_text(EISDIR) + ")");
  }
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw Error(path + ": cannot read (" + errno_text(err) + ")");
    }
    if (got == 0) break;
    data.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return data;
}

bool is_gzip(std::string_view data) {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

// Inflates all gzip members of data; trailing zero padding is allowed, anything else is not.
std::string gunzip(const std::string& path, std::string_view data) {
  std::string out;
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw Error(path + ": zlib initialisation failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  char buf[1 << 16];
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_STREAM_END) {
      const std::string_view rest = data.substr(data.size() - zs.avail_in);
      if (is_gzip(rest)) {  // concatenated members, as `cat a.gz b.gz` makes
        inflateReset(&zs);
        continue;
      }
      const bool zeros = rest.find_first_not_of('\0') == std::string_view::npos;
      inflateEnd(&zs);
      if (!zeros) throw Error(path + ": corrupt gzip (trailing garbage after compressed data)");
      return out;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      inflateEnd(&zs);
      throw Error(path + ": corrupt gzip (unexpected end of file: truncated?)");
    }
    const std::string msg = zs.msg ? zs.msg : ("zlib error " + std::to_string(rc));
    inflateEnd(&zs);
    throw Error(path + ": corrupt gzip (" + msg + ")");
  }
}

bool blank(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) continue;
    if (c == '\xc2' && i + 1 < s.size() && s[i + 1] == '\xa0') {  // NBSP
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view s) { return utf8_error(s, nullptr) == std::string_view::npos; }

std::vector<std::string> read_lines(const std::string& path) {
  std::string data = read_file_bytes(path);
  if (is_gzip(data)) data = gunzip(path, data);
  std::string_view rest(data);
  if (rest.substr(0, 3) == "\xef\xbb\xbf") rest.remove_prefix(3);  // UTF-8 byte-order mark

  std::vector<std::string> lines;
  std::size_t line_no = 0;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string why;
    if (const std::size_t bad = utf8_error(line, &why); bad != std::string_view::npos) {
      throw Error(path + ":" + std::to_string(line_no) + ": invalid UTF-8 (" + why + " at column " +
                  std::to_string(bad + 1) + ")");
    }
    lines.emplace_back(line);
  }
  return lines;
}

ParallelCorpus read_parallel(const std::string& src_path, const std::string& trg_path) {
  std::vector<std::string> src = read_lines(src_path);
  std::vector<std::string> trg = read_lines(trg_path);
  if (src.size() != trg.size()) {
    throw Error("line counts differ: " + src_path + " has " + std::to_string(src.size()) +
                " lines, " + trg_path + " has " + std::to_string(trg.size()));
  }
  ParallelCorpus corpus;
  corpus.src.reserve(src.size());
  corpus.trg.reserve(trg.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    if (blank(src[i]) || blank(trg[i])) {
      ++corpus.skipped_empty;
      continue;
    }
    corpus.src.push_back(std::move(src[i]));
    corpus.trg.push_back(std::move(trg[i]));
  }
  return corpus;
}

}  // namespace nmt::text
