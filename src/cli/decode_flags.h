#pragma once
// The decoding options' flags, made from the one table of decode/options.h: each command names
// the keys it takes; the checks and their messages are the table's (spelled --max-len here).
#include <CLI/CLI.hpp>
#include <initializer_list>

#include "decode/options.h"

namespace nmt::cli {

// Registers --KEY for each key on cmd, bound to o (defaults shown in --help).
void add_decode_flags(CLI::App* cmd, decode::DecodingOptions& o,
                      std::initializer_list<const char*> keys);
// decode::check with the flags' names: throws nmt::Error("--beam must be an integer in [1, 64]
// (got 0)").
void check_decode_flags(const decode::DecodingOptions& o);

}  // namespace nmt::cli
