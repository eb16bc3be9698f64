#include "distributed/agree.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace nmt::dist {

namespace fs = std::filesystem;

void Fingerprint::add(const void* data, std::size_t bytes) {
  // FNV-1a over 8-byte words (then the tail), fast enough for a model's weights.
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h_ = (h_ ^ w) * 0x100000001b3ULL;
    h_ ^= h_ >> 29;
  }
  for (; i < bytes; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ULL;
}

void require_same(Comm& comm, std::uint64_t fingerprint, const std::string& what) {
  const auto all = comm.gather_all(fingerprint);
  std::string differ;
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0]) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  if (differ.empty()) return;
  if (!comm.root()) {
    comm.barrier();  // rank 0 reports and ends the job
    std::_Exit(1);
  }
  throw Error("rank " + differ + " and rank 0 disagree on " + what +
              ": every rank must be given the same files and options");
}

std::string share_files(Comm& comm, const std::string& dir, const std::vector<std::string>& names) {
  // Rank 0 reads every file first: where it fails, the job ends before another rank has made
  // its temporary directory (nothing is left behind in /tmp).
  std::vector<std::string> contents(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (comm.root()) {
      std::ifstream in(dir + "/" + names[i], std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      if (!in) throw Error(dir + "/" + names[i] + ": cannot read");
      contents[i] = ss.str();
    }
    comm.broadcast(contents[i]);
  }
  if (comm.root()) return dir;
  std::string local =
      (fs::temp_directory_path() / ("nmt-rank" + std::to_string(comm.rank()) + "-XXXXXX")).string();
  if (!mkdtemp(local.data())) throw Error(local + ": cannot create a temporary directory");
  for (std::size_t i = 0; i < names.size(); ++i)
    write_file_atomic(local + "/" + names[i], contents[i]);
  return local;
}

void remove_copies(Comm& comm, const std::string& dir) {
  std::error_code ec;
  if (!comm.root()) fs::remove_all(dir, ec);
}

}  // namespace nmt::dist
