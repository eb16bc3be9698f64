#pragma once
// The processes of a data-parallel training run (MPI's world). A process not started by mpirun
// (or a build without MPI) is rank 0 of 1, and every call below is then a no-op, so the trainer
// has one code path. Every collective must be called by all ranks in the same order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nmt::dist {

// True when this process was started by an MPI launcher (mpirun/mpiexec): Open MPI, MPICH or
// PMIx set these variables.
bool launched_by_mpirun();
// True when this binary was built with MPI (OpenMPI found by CMake).
bool built_with_mpi();

class Comm {
 public:
  // The world: initialises MPI on first use when launched by mpirun. Throws nmt::Error when
  // started by mpirun with more than one process but built without MPI (it would otherwise
  // train N independent copies).
  static Comm& world();
  ~Comm();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // Cores of this host divided among its ranks (at least 1): the default thread count.
  int threads_per_rank(int cores) const;

  // Sums in place over all ranks, in buckets of at most `bucket_bytes`; every rank gets the
  // same bits.
  void sum(float* data, std::size_t n);
  void sum(double* data, std::size_t n);
  // Rank 0's values to every rank. The others wait sleeping (not spinning on a core that rank 0
  // needs, e.g. while it validates).
  void broadcast(double* data, std::size_t n);
  void broadcast(std::string& bytes);
  // Every rank's value, in rank order.
  std::vector<std::uint64_t> gather_all(std::uint64_t value);
  void barrier();
  // Ends every process of the job with exit status `code` (MPI_Abort); for an error seen on
  // one rank, so that the others do not wait for it forever.
  [[noreturn]] void abort(int code);
  // Seconds spent in sum() so far (the communication share of a step).
  double sum_seconds() const { return sum_seconds_; }

  static constexpr std::size_t bucket_bytes = 16u << 20;

 private:
  Comm();
  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool initialised_ = false;
  double sum_seconds_ = 0;
};

}  // namespace nmt::dist
