#pragma once
// Reading (optionally gzipped) UTF-8 text files and aligned parallel corpora.
#include <cstddef>
#include <string>
#include <vector>

namespace nmt::text {

// True when s is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// All lines of a plain or gzip file (detected by magic bytes), without '\n' / '\r\n'.
// Throws nmt::Error "PATH:LINE: invalid UTF-8" / "PATH: cannot open ..." etc.
std::vector<std::string> read_lines(const std::string& path);

struct ParallelCorpus {
  std::vector<std::string> src, trg;
  std::size_t skipped_empty = 0;  // pairs dropped because one side is empty or whitespace-only
};

// Reads two aligned files; a line-count mismatch is an error naming both files and counts.
ParallelCorpus read_parallel(const std::string& src_path, const std::string& trg_path);

}  // namespace nmt::text
