// libFuzzer entry point for nmt::fuzz::fuzz_html (fuzz/harness.h); built and run by
// tools/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "harness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nmt::fuzz::fuzz_html(data, size);
  return 0;
}
