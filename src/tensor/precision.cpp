#include "tensor/precision.h"

#include "common/error.h"
#include "tensor/gemm_bf16.h"
#include "tensor/int8.h"

namespace nmt::ops {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  if (name == "int8") return Precision::Int8;
  if (name == "auto") return Precision::Auto;
  throw Error("unknown precision '" + name + "' (expected fp32, bf16, int8 or auto)");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Bf16: return "bf16";
    case Precision::Int8: return "int8";
    case Precision::Auto: return "auto";
    default: return "fp32";
  }
}

namespace {

const char* kNoInt8 = "this nmt was built without oneDNN (install libdnnl-dev)";

Resolved resolve_training(Precision p) {
  switch (p) {
    case Precision::Fp32: return {Precision::Fp32, ""};
    case Precision::Bf16:
      if (!bf16_gemm_available())
        throw Error(std::string("--precision bf16: ") + bf16_gemm_unavailable_reason());
      return {Precision::Bf16, ""};
    case Precision::Int8:
      throw Error("--precision int8 is for decoding; training takes fp32, bf16 or auto");
    default:
      if (bf16_gemm_available()) return {Precision::Bf16, "auto: this CPU has bf16 GEMMs"};
      return {Precision::Fp32, std::string("auto: ") + bf16_gemm_unavailable_reason()};
  }
}

Resolved resolve_decoding(Precision p) {
  switch (p) {
    case Precision::Fp32:
    case Precision::Bf16: return {p, ""};
    case Precision::Int8:
      if (!int8_gemm_available()) throw Error(std::string("--precision int8: ") + kNoInt8);
      return {Precision::Int8, ""};
    default:
      if (int8_gemm_available()) return {Precision::Int8, "auto: int8 GEMMs (oneDNN)"};
      return {Precision::Fp32, std::string("auto: ") + kNoInt8};
  }
}

}  // namespace

Resolved resolve(Precision requested, Workload w) {
  return w == Workload::Training ? resolve_training(requested) : resolve_decoding(requested);
}

}  // namespace nmt::ops
