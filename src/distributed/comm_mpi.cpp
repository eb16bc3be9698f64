// MPI implementation of dist::Comm (built when CMake finds MPI; comm_single.cpp otherwise).
#include <mpi.h>
#include <time.h>

#include <algorithm>
#include <chrono>

#include "common/error.h"
#include "distributed/comm.h"

namespace nmt::dist {

namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("MPI: ") + what + " failed");
}

// Waits for a non-blocking collective, sleeping 1 ms between polls instead of spinning.
void wait_sleeping(MPI_Request& req) {
  int done = 0;
  const timespec ms{0, 1000000};
  for (;;) {
    check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) return;
    nanosleep(&ms, nullptr);
  }
}

template <class T>
void sum_buckets(T* data, std::size_t n, MPI_Datatype type) {
  const std::size_t per = Comm::bucket_bytes / sizeof(T);
  for (std::size_t i = 0; i < n; i += per)
    check(MPI_Allreduce(MPI_IN_PLACE, data + i, (int)std::min(per, n - i), type, MPI_SUM,
                        MPI_COMM_WORLD),
          "MPI_Allreduce");
}

}  // namespace

bool built_with_mpi() { return true; }

Comm& Comm::world() {
  static Comm c;
  return c;
}

Comm::Comm() {
  if (!launched_by_mpirun()) return;
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &local_size_);
  MPI_Comm_free(&local);
}

Comm::~Comm() {
  if (initialised_) MPI_Finalize();
}

void Comm::sum(float* data, std::size_t n) {
  if (size_ == 1) return;
  const auto t0 = std::chrono::steady_clock::now();
  sum_buckets(data, n, MPI_FLOAT);
  sum_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Comm::sum(double* data, std::size_t n) {
  if (size_ > 1) sum_buckets(data, n, MPI_DOUBLE);
}

void Comm::broadcast(double* data, std::size_t n) {
  if (size_ == 1) return;
  MPI_Request req;
  check(MPI_Ibcast(data, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD, &req), "MPI_Ibcast");
  wait_sleeping(req);
}

void Comm::broadcast(std::string& bytes) {
  if (size_ == 1) return;
  double n = (double)bytes.size();
  broadcast(&n, 1);
  bytes.resize((std::size_t)n);
  MPI_Request req;
  check(MPI_Ibcast(bytes.data(), (int)bytes.size(), MPI_CHAR, 0, MPI_COMM_WORLD, &req),
        "MPI_Ibcast");
  wait_sleeping(req);
}

std::vector<std::uint64_t> Comm::gather_all(std::uint64_t value) {
  std::vector<std::uint64_t> all(size_, value);
  if (size_ > 1)
    check(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD),
          "MPI_Allgather");
  return all;
}

void Comm::barrier() {
  if (size_ == 1) return;
  MPI_Request req;
  check(MPI_Ibarrier(MPI_COMM_WORLD, &req), "MPI_Ibarrier");
  wait_sleeping(req);
}

void Comm::abort(int code) {
  if (initialised_) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

}  // namespace nmt::dist
