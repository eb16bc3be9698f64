#pragma once
// What the ranks of a data-parallel run must agree on before training: the same data, options
// and starting model (a fingerprint compared across ranks), and the same tokenizer files
// (rank 0's, copied to the others, so that hosts need not share the run directory to start).
#include <cstdint>
#include <string>
#include <vector>

#include "distributed/comm.h"

namespace nmt::dist {

// A 64-bit hash of everything added (not cryptographic: it catches mistakes, not attacks).
class Fingerprint {
 public:
  void add(const void* data, std::size_t bytes);
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

// Throws nmt::Error on rank 0 naming the ranks whose fingerprint of `what` differs from rank 0's
// (the caller then aborts the job); a differing rank waits for that abort.
void require_same(Comm& comm, std::uint64_t fingerprint, const std::string& what);

// Rank 0's files dir/names[i] on every rank: rank 0 returns dir; the others get a private
// temporary directory holding copies (removed by remove_copies).
std::string share_files(Comm& comm, const std::string& dir, const std::vector<std::string>& names);
void remove_copies(Comm& comm, const std::string& dir);

}  // namespace nmt::dist
