#include "decode/options.h"

#include <cmath>
#include <cstdio>

namespace nmt::decode {

using D = DecodingOptions;

const std::vector<DecodeOptionSpec>& decode_option_table() {
  static const std::vector<DecodeOptionSpec> table = {
      {"beam", &D::beam, 1, 64, "Beam size (1 = greedy)"},
      {"max_len", &D::max_len, 1, 1000, "Output tokens at most"},
      {"length_penalty", &D::length_penalty, 0, 5, "Beam: score = log-prob / length^this"},
      {"alternatives", &D::alternatives, 0, 64,
       "Also return the n best translations (incl. the best; at most the beam size)"},
      {"precision", &D::precision, 0, 0,
       "fp32 (exact), bf16 (weights rounded to bfloat16), int8 (per-row quantized weights, "
       "int8 GEMMs; fastest) or auto (int8 where available)"},
      {"max_src_len", &D::max_src_len, 1, 10000,
       "Longer inputs are truncated to this many tokens (with a warning)"},
      {"threads", &D::threads, 1, 1024, "CPU threads"},
      {"batch", &D::batch, 1, 100000, "Sentences translated together"},
  };
  return table;
}

const DecodeOptionSpec& decode_option(const std::string& key) {
  for (const auto& s : decode_option_table())
    if (key == s.key) return s;
  throw std::out_of_range("no decoding option " + key);
}

DecodeOptions D::search() const {
  DecodeOptions o;
  o.beam = beam;
  o.max_len = max_len;
  o.length_penalty = length_penalty;
  o.nbest = std::max(1, alternatives);
  return o;
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string decode_option_range(const DecodeOptionSpec& s) {
  if (std::holds_alternative<ops::Precision D::*>(s.member))
    return "must be fp32, bf16, int8 or auto";
  const char* kind = std::holds_alternative<int D::*>(s.member) ? "an integer" : "a number";
  return std::string("must be ") + kind + " in [" + num(s.lo) + ", " + num(s.hi) + "]";
}

void check(const DecodingOptions& o) {
  for (const auto& s : decode_option_table()) {
    const double v = std::visit(
        [&](auto m) -> double {
          if constexpr (std::is_same_v<decltype(m), ops::Precision D::*>)
            return 0;  // any parsed value is valid here; availability is resolve()'s
          else
            return (double)(o.*m);
        },
        s.member);
    if (!(v >= s.lo && v <= s.hi))  // NaN fails too
      throw DecodeOptionError(s.key, decode_option_range(s) + " (got " + num(v) + ")");
  }
  if (o.alternatives > o.beam)
    throw DecodeOptionError("alternatives", "(" + std::to_string(o.alternatives) +
                                                ") cannot exceed the beam size (" +
                                                std::to_string(o.beam) + ")");
}

}  // namespace nmt::decode
