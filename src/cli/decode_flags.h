#pragma once
// The decoding flags shared by translate, eval and attention: one definition of the options,
// their checks and the DecodeOptions they make.
#include <CLI/CLI.hpp>
#include <string>

#include "decode/translator.h"

namespace nmt::cli {

struct DecodeFlags {
  int beam = 1, max_len = 100;
  float length_penalty = 1.0f;
  std::string precision = "fp32";

  void add_to(CLI::App* cmd);
  // Checked options (throws Error on a non-positive beam or length).
  decode::DecodeOptions options() const;
};

}  // namespace nmt::cli
