#pragma once
// The decoding options, each defined once (as the training options are in train/options.h): a
// table of (key, member, limits, help) with the defaults in DecodingOptions below. Every front
// end fills a DecodingOptions from it — the CLI commands' flags (cli/decode_flags.h), the
// server's JSON (serve/api.h) — and check() validates it, so the same value gets the same
// message everywhere; each front end only spells the option's name its own way (--max-len on
// the command line, "max_len" in JSON).
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "tensor/precision.h"

namespace nmt::decode {

// What one search uses (Translator::translate).
struct DecodeOptions {
  int beam = 1;                 // 1 = greedy
  int max_len = 100;            // output tokens at most (besides <eos>)
  float length_penalty = 1.0f;  // beam: final score = log-prob / length^length_penalty
  bool keep_attention = false;
  int nbest = 1;  // beam: also keep the next nbest-1 finished hypotheses (Hypothesis::alternatives)
};

// Everything a user sets for decoding; the defaults are these initializers.
struct DecodingOptions {
  int beam = 1;
  int max_len = 100;
  float length_penalty = 1.0f;
  int alternatives = 0;  // n-best list length (incl. the best), 0 = none
  ops::Precision precision = ops::Precision::Fp32;
  int max_src_len = 200;  // source tokens per sentence; longer ones are truncated with a warning
  int threads = 2;        // CPU (OpenMP/BLAS) threads
  int batch = 64;         // sentences translated together

  DecodeOptions search() const;  // the search's options (keep_attention false)
};

using DecodeMember = std::variant<int DecodingOptions::*, float DecodingOptions::*,
                                  ops::Precision DecodingOptions::*>;
struct DecodeOptionSpec {
  const char* key;  // JSON key; the flag is --key with '_' as '-'
  DecodeMember member;
  double lo, hi;  // accepted values of a number
  const char* help;
};
const std::vector<DecodeOptionSpec>& decode_option_table();
const DecodeOptionSpec& decode_option(const std::string& key);  // throws std::out_of_range

// A bad value: the option's key and what is wrong, without the name ("must be an integer in
// [1, 64] (got 0)"); a front end shows it as NAME + " " + what().
struct DecodeOptionError : std::runtime_error {
  DecodeOptionError(std::string key, const std::string& what)
      : std::runtime_error(what), key(std::move(key)) {}
  std::string key;
};
// The range of one option as its message states it ("must be an integer in [1, 64]").
std::string decode_option_range(const DecodeOptionSpec& s);
// Throws DecodeOptionError for the first value out of its range (and alternatives > beam).
void check(const DecodingOptions& o);

}  // namespace nmt::decode
