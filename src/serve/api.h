#pragma once
// The JSON API of `nmt serve`: requests parsed and checked (every problem an ApiError with its
// HTTP status), answers built from the translator's results.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include <optional>

#include "decode/document.h"
#include "decode/translator.h"
#include "model/checkpoint.h"

namespace nmt::serve {

struct ApiError : std::runtime_error {
  ApiError(int status, const std::string& msg) : std::runtime_error(msg), status(status) {}
  int status;
};

struct ApiLimits {
  std::size_t max_sentences = 1000;  // per request (more: 413)
  int max_beam = 16;
  int max_len = 200;  // output tokens at most
};

struct TranslateRequest {
  std::vector<std::string> texts;
  decode::DecodeOptions opt;  // the search (keep_attention = attention)
  ops::Precision precision = ops::Precision::Fp32;  // resolved (never auto)
  bool attention = false;
  int alternatives = 0;  // n-best list length (incl. the best), 0 = none
  // "format": each text as lines or paragraphs (decode/document.h), translated sentence by
  // sentence; absent: each text is one segment, as before.
  std::optional<decode::Format> format;
};

// POST /v1/translate body: {"text": "..."} or {"texts": [...]}, optional "beam", "attention",
// "alternatives", "precision", "max_len", "length_penalty", "format" (checked by the decoding option
// table, decode/options.h, then by this server's limits). Unknown fields are refused.
TranslateRequest parse_translate(const std::string& body, const ApiLimits& limits);
// POST /v1/explain body: {"text": "..."}.
std::string parse_explain(const std::string& body);

nlohmann::json translation_json(const decode::TextTranslation& r, const TranslateRequest& req,
                                const model::Model& m);
nlohmann::json error_json(const std::string& message);

}  // namespace nmt::serve
