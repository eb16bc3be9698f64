#include "cli/decode_flags.h"

#include <cmath>

#include "common/error.h"

namespace nmt::cli {

void DecodeFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--beam", beam, "Beam size (1 = greedy)")->capture_default_str();
  cmd->add_option("--max-len", max_len, "Output tokens at most")->capture_default_str();
  cmd->add_option("--length-penalty", length_penalty, "Beam: score = log-prob / length^this")
      ->capture_default_str();
  cmd->add_option("--precision", precision,
                  "Decoder weights: fp32 (exact), bf16 (rounded, faster for small batches) or "
                  "int8 (per-row quantized, VNNI GEMM; fastest)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
}

decode::DecodeOptions DecodeFlags::options() const {
  if (beam <= 0) throw Error("--beam must be positive");
  if (max_len <= 0) throw Error("--max-len must be positive");
  if (!std::isfinite(length_penalty)) throw Error("--length-penalty must be a finite number");
  decode::DecodeOptions o;
  o.beam = beam;
  o.max_len = max_len;
  o.length_penalty = length_penalty;
  o.precision = decode::parse_precision(precision);
  return o;
}

}  // namespace nmt::cli
