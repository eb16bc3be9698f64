#include "serve/api.h"

#include "text/corpus.h"

namespace nmt::serve {

using nlohmann::json;

namespace {

json parse_object(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    std::string why = e.what();
    if (why.find("UTF-8") != std::string::npos || why.find("utf-8") != std::string::npos)
      throw ApiError(400, "invalid UTF-8 in the request body");
    throw ApiError(400, "malformed JSON (byte " + std::to_string(e.byte) + ")");
  }
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

std::string text_of(const json& v, const std::string& what) {
  if (!v.is_string()) throw ApiError(400, what + " must be a string");
  std::string s = v.get<std::string>();
  if (!text::is_valid_utf8(s)) throw ApiError(400, what + " is not valid UTF-8");
  return s;
}

// The decoding option key of a request: its JSON value into o (a wrong type reads as out of
// range: the table's message).
void set_option(decode::DecodingOptions& o, const std::string& key, const json& v) {
  const auto& spec = decode::decode_option(key);
  auto bad = [&] { return ApiError(400, "\"" + key + "\" " + decode::decode_option_range(spec)); };
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(o.*member)>;
        if constexpr (std::is_same_v<T, ops::Precision>) {
          if (!v.is_string()) throw bad();
          try {
            o.*member = ops::parse_precision(v.get<std::string>());
          } catch (const std::exception&) {
            throw bad();
          }
        } else if constexpr (std::is_same_v<T, int>) {
          if (!v.is_number_integer() || v.get<long long>() != v.get<int>()) throw bad();
          o.*member = v.get<int>();
        } else {
          if (!v.is_number()) throw bad();
          o.*member = v.get<T>();
        }
      },
      spec.member);
}

// This server's own caps, beyond the table's limits.
void check_limits(const decode::DecodingOptions& o, const ApiLimits& limits) {
  if (o.beam > limits.max_beam)
    throw ApiError(400, "\"beam\" must be an integer in [1, " + std::to_string(limits.max_beam) +
                            "] on this server (got " + std::to_string(o.beam) + ")");
  if (o.max_len > limits.max_len)
    throw ApiError(400, "\"max_len\" must be an integer in [1, " +
                            std::to_string(limits.max_len) + "] on this server (got " +
                            std::to_string(o.max_len) + ")");
}

}  // namespace

TranslateRequest parse_translate(const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body);
  static const char* known[] = {"text",      "texts",   "beam",           "attention", "alternatives",
                                "precision", "max_len", "length_penalty", "format"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find_if(std::begin(known), std::end(known),
                     [&](const char* k) { return it.key() == k; }) == std::end(known))
      throw ApiError(400, "unknown field \"" + it.key() + "\"");
  TranslateRequest r;
  if (j.contains("text") == j.contains("texts"))
    throw ApiError(400, "give either \"text\" (a string) or \"texts\" (an array of strings)");
  if (j.contains("text")) {
    r.texts.push_back(text_of(j.at("text"), "\"text\""));
  } else {
    const json& a = j.at("texts");
    if (!a.is_array()) throw ApiError(400, "\"texts\" must be an array of strings");
    if (a.size() > limits.max_sentences)
      throw ApiError(413, "too many sentences: " + std::to_string(a.size()) + " (at most " +
                              std::to_string(limits.max_sentences) + " per request)");
    for (std::size_t i = 0; i < a.size(); ++i)
      r.texts.push_back(text_of(a[i], "\"texts\"[" + std::to_string(i) + "]"));
  }
  decode::DecodingOptions d;
  d.max_len = std::min(d.max_len, limits.max_len);
  for (const char* key : {"beam", "max_len", "length_penalty", "alternatives", "precision"})
    if (j.contains(key)) set_option(d, key, j.at(key));
  try {
    decode::check(d);
  } catch (const decode::DecodeOptionError& e) {
    throw ApiError(400, "\"" + e.key + "\" " + e.what());
  }
  check_limits(d, limits);
  try {
    r.precision = ops::resolve(d.precision, ops::Workload::Decoding).used;
  } catch (const std::exception& e) {
    throw ApiError(400, std::string("\"precision\": ") + e.what());
  }
  if (j.contains("format")) {
    const std::string f = text_of(j.at("format"), "\"format\"");
    if (f != "lines" && f != "text")
      throw ApiError(400, "\"format\" must be \"lines\" or \"text\", not \"" + f + "\"");
    r.format = decode::parse_format(f);
  }
  if (j.contains("attention")) {
    if (!j.at("attention").is_boolean()) throw ApiError(400, "\"attention\" must be true or false");
    r.attention = j.at("attention").get<bool>();
  }
  r.alternatives = d.alternatives;
  r.opt = d.search();
  r.opt.keep_attention = r.attention;
  return r;
}

std::string parse_explain(const std::string& body) {
  const json j = parse_object(body);
  if (!j.contains("text") || j.size() != 1) throw ApiError(400, "give {\"text\": \"...\"}");
  return text_of(j.at("text"), "\"text\"");
}

json translation_json(const decode::TextTranslation& r, const TranslateRequest& req,
                      const model::Model& m) {
  json t = {{"text", r.text},
            {"tokens", r.out_tokens},
            {"src_tokens", r.src_tokens},
            {"score", r.src_tokens.empty() ? 0.0 : r.hyp.score}};
  if (r.truncated_from > 0)
    t["warning"] = "the sentence has " + std::to_string(r.truncated_from) +
                   " tokens; only the first " + std::to_string(r.src_tokens.size()) +
                   " were translated";
  if (req.attention) {
    // Rows: each output token and <eos> (when reached); columns: <sos>, the source tokens, <eos>.
    const std::size_t cols = r.src_tokens.empty() ? 0 : r.src_tokens.size() + 2;
    const std::size_t S = (std::size_t)r.attention_cols;
    json rows = json::array();
    for (std::size_t k = 0; S > 0 && (k + 1) * S <= r.hyp.attention.size(); ++k)
      rows.push_back(std::vector<float>(r.hyp.attention.begin() + k * S,
                                        r.hyp.attention.begin() + k * S + cols));
    t["attention"] = rows;
  }
  if (req.alternatives > 0) {
    json alts = json::array();
    if (!r.src_tokens.empty()) {
      alts.push_back({{"text", r.text}, {"tokens", r.out_tokens}, {"score", r.hyp.score}});
      for (const auto& h : r.hyp.alternatives) {
        auto toks = decode::output_tokens(m, h, r.src_tokens, r.attention_cols, false);
        alts.push_back(
            {{"text", m.trg_codec->detokenize(toks)}, {"tokens", toks}, {"score", h.score}});
      }
    }
    t["alternatives"] = alts;
  }
  return t;
}

json error_json(const std::string& message) { return {{"error", message}}; }

}  // namespace nmt::serve
