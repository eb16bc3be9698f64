#include "tensor/cpu.h"

#include <cstdlib>
#include <cstring>

namespace nmt::ops {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
  const char* force = std::getenv("NMT_CPU");
  if (force && std::strcmp(force, "generic") == 0) return f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
#endif
  return f;
}

CpuFeatures& features() {
  static CpuFeatures f = detect();
  return f;
}

}  // namespace

const CpuFeatures& cpu() { return features(); }

void restrict_cpu_features(const CpuFeatures& want) {
  CpuFeatures& f = features();
  const CpuFeatures found = detect();
  f.avx512 = want.avx512 && found.avx512;
  f.avx512_vnni = want.avx512_vnni && found.avx512_vnni;
}

std::string missing_build_isa() {
  std::string missing;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define NMT_NEED(feature) \
  if (!__builtin_cpu_supports(feature)) missing += std::string(missing.empty() ? "" : " ") + feature
#ifdef __AVX2__
  NMT_NEED("avx2");
#endif
#ifdef __FMA__
  NMT_NEED("fma");
#endif
#ifdef __AVX512F__
  NMT_NEED("avx512f");
#endif
#ifdef __AVX512BW__
  NMT_NEED("avx512bw");
#endif
#ifdef __AVX512VL__
  NMT_NEED("avx512vl");
#endif
#ifdef __AVX512VNNI__
  NMT_NEED("avx512vnni");
#endif
#ifdef __AVX512BF16__
  NMT_NEED("avx512bf16");
#endif
#undef NMT_NEED
#endif
  return missing;
}

std::string cpu_kernels() {
  const CpuFeatures& f = cpu();
  return std::string("bf16 decoding: ") + (f.avx512 ? "avx512" : "portable") +
         ", int8 few rows: " + (f.avx512_vnni ? "avx512-vnni" : "oneDNN");
}

}  // namespace nmt::ops
