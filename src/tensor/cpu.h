#pragma once
// What this CPU can do, read once at run time, so that one binary picks the right kernels on
// every machine: the hand-written AVX-512 (and VNNI) kernels where the CPU has them, portable
// loops elsewhere (oneDNN and OpenBLAS choose their own kernels at run time the same way).
// NMT_CPU=generic in the environment turns the hand-written kernels off (for tests and
// comparisons).
#include <string>

namespace nmt::ops {

struct CpuFeatures {
  bool avx512 = false;       // AVX512F + AVX512BW: the bf16 decoding kernel
  bool avx512_vnni = false;  // + AVX512-VNNI: the few-rows int8 kernel
};

const CpuFeatures& cpu();
// Tests: use the kernels for a CPU with only these features (never more than cpu() found).
void restrict_cpu_features(const CpuFeatures& f);
// The instruction sets this binary was compiled to assume (-march=native builds) that this CPU
// lacks, space-separated; empty when it can run here.
std::string missing_build_isa();
// One line for logs and `nmt bench`: the kernels this process uses.
std::string cpu_kernels();

}  // namespace nmt::ops
