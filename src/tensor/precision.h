#pragma once
// One precision type for training and decoding (as CTranslate2's ComputeType): parsed and named
// here, resolved once against what this build and CPU have, before any work starts (training:
// before the data is read; decoding: when a model is prepared).
//   fp32  the exact model (training and decoding)
//   bf16  training: GEMM inputs in bfloat16, fp32 accumulation (oneDNN; AVX512-BF16 or AMX);
//         decoding: the weight matrices rounded to bfloat16, fp32 arithmetic (any CPU)
//   int8  decoding only: per-row int8 weights, int8 x int8 -> int32 products (oneDNN)
//   auto  training: bf16 where the CPU has bf16 GEMMs, else fp32; decoding: int8 where the build
//         has oneDNN, else fp32. A training run records "auto", so each resumption chooses anew.
#include <string>

namespace nmt::ops {

enum class Precision { Fp32, Bf16, Int8, Auto };
enum class Workload { Training, Decoding };

// "fp32" | "bf16" | "int8" | "auto"; anything else throws nmt::Error with one line.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

struct Resolved {
  Precision used = Precision::Fp32;  // never Auto
  std::string why;                   // for auto: one line saying why it chose `used`
};
// The precision a workload runs at, or nmt::Error with a one-line reason it is unavailable here
// ("--precision bf16: this CPU has neither AVX512-BF16 nor AMX ...").
Resolved resolve(Precision requested, Workload w);

}  // namespace nmt::ops
