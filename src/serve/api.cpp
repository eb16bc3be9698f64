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

int int_in(const json& j, const char* key, int lo, int hi, int dflt) {
  if (!j.contains(key)) return dflt;
  const json& v = j.at(key);
  if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
    throw ApiError(400, std::string("\"") + key + "\" must be an integer in [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v.get<int>();
}

}  // namespace

TranslateRequest parse_translate(const std::string& body, const ApiLimits& limits) {
  const json j = parse_object(body);
  static const char* known[] = {"text",         "texts",     "beam",    "attention",
                                "alternatives", "precision", "max_len", "length_penalty"};
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
  r.opt.beam = int_in(j, "beam", 1, limits.max_beam, 1);
  r.opt.max_len = int_in(j, "max_len", 1, limits.max_len, std::min(100, limits.max_len));
  r.alternatives = int_in(j, "alternatives", 0, limits.max_beam, 0);
  if (r.alternatives > r.opt.beam)
    throw ApiError(400, "\"alternatives\" (" + std::to_string(r.alternatives) +
                            ") cannot exceed \"beam\" (" + std::to_string(r.opt.beam) + ")");
  r.opt.nbest = std::max(1, r.alternatives);
  if (j.contains("attention")) {
    if (!j.at("attention").is_boolean()) throw ApiError(400, "\"attention\" must be true or false");
    r.attention = j.at("attention").get<bool>();
  }
  r.opt.keep_attention = r.attention;
  if (j.contains("length_penalty")) {
    const json& v = j.at("length_penalty");
    if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 5.0))
      throw ApiError(400, "\"length_penalty\" must be a number in [0, 5]");
    r.opt.length_penalty = v.get<float>();
  }
  if (j.contains("precision")) {
    r.precision = text_of(j.at("precision"), "\"precision\"");
    try {
      r.opt.precision = decode::parse_precision(r.precision);
    } catch (const std::exception& e) {
      throw ApiError(400, std::string("\"precision\": ") + e.what());
    }
    if (r.opt.precision == ops::Precision::Int8 && !ops::int8_gemm_available())
      throw ApiError(400, "\"precision\": int8 needs a build with oneDNN");
  }
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
