#include "cli/decode_flags.h"

#include <algorithm>

#include "common/error.h"

namespace nmt::cli {

namespace {

std::string flag_of(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

}  // namespace

void add_decode_flags(CLI::App* cmd, decode::DecodingOptions& o,
                      std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const auto& spec = decode::decode_option(key);
    std::visit(
        [&](auto member) {
          auto& field = o.*member;
          using T = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<T, ops::Precision>)
            cmd->add_option_function<std::string>(
                   flag_of(key), [&field, key](const std::string& s) {
                     try {
                       field = ops::parse_precision(s);
                     } catch (const Error& e) {
                       throw Error(flag_of(key) + ": " + e.what());
                     }
                   },
                   spec.help)
                ->default_str(ops::precision_name(field));
          else
            cmd->add_option(flag_of(key), field, spec.help)->capture_default_str();
        },
        spec.member);
  }
}

void check_decode_flags(const decode::DecodingOptions& o) {
  try {
    decode::check(o);
  } catch (const decode::DecodeOptionError& e) {
    throw Error(flag_of(e.key) + " " + e.what());
  }
}

}  // namespace nmt::cli
