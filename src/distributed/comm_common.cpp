#include <cstdlib>

#include "distributed/comm.h"

namespace nmt::dist {

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

int Comm::threads_per_rank(int cores) const {
  const int n = cores / (local_size_ > 0 ? local_size_ : 1);
  return n > 0 ? n : 1;
}

}  // namespace nmt::dist
