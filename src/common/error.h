#pragma once
// One exception type for every user-facing failure: the CLI prints what() on one line and exits 1.
#include <stdexcept>
#include <string>

namespace nmt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace nmt
