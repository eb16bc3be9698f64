#pragma once
// Crash-safe file writes: PATH.tmp, fsync, rename over PATH. A crash or a full disk never leaves
// a half-written PATH; on failure the temp file is removed and nmt::Error names the file.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nmt {

void write_file_atomic(const std::string& path, const std::string& contents);
// The same for a file made of several byte ranges written in order.
void write_pieces_atomic(const std::string& path,
                         const std::vector<std::pair<const char*, std::size_t>>& pieces);

}  // namespace nmt
