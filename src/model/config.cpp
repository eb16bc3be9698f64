#include "model/config.h"

#include <cstdint>
#include <limits>

#include "common/error.h"

namespace nmt::model {

// The seed model (design §2): the one place its sizes are written (train/presets.cpp's seed
// preset takes them from here).
ModelConfig ModelConfig::seed(int src_vocab, int trg_vocab) {
  ModelConfig c;
  c.emb_dim = 256;
  c.enc_hid_dim = 512;
  c.dec_hid_dim = 512;
  c.dropout = 0.5f;
  c.lowercase = true;
  c.src_vocab_size = src_vocab;
  c.trg_vocab_size = trg_vocab;
  return c;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {{"format", "nmt-seq2seq"},
                      {"version", 1},
                      {"src_lang", src_lang},
                      {"trg_lang", trg_lang},
                      {"src_vocab_size", src_vocab_size},
                      {"trg_vocab_size", trg_vocab_size},
                      {"emb_dim", emb_dim},
                      {"enc_hid_dim", enc_hid_dim},
                      {"dec_hid_dim", dec_hid_dim},
                      {"dropout", dropout},
                      {"lowercase", lowercase},
                      {"split_hyphens", split_hyphens},
                      {"tokenizer", tokenizer}};
  if (tokenizer == "spm") {
    j["spm_src"] = spm_src;
    j["spm_trg"] = spm_trg;
  }
  return j;
}

text::CodecSpec ModelConfig::codec_spec(bool source, const std::string& dir) const {
  text::CodecSpec s;
  s.type = tokenizer;
  s.lang = source ? src_lang : trg_lang;
  s.lowercase = lowercase;
  s.split_hyphens = split_hyphens;
  if (tokenizer == "spm") s.spm_model = dir + "/" + (source ? spm_src : spm_trg);
  return s;
}

template <typename T>
static T field(const nlohmann::json& j, const char* key, const std::string& what) {
  if (!j.contains(key)) throw Error(what + ": missing field '" + key + "'");
  const auto& v = j.at(key);
  bool ok;
  if constexpr (std::is_same_v<T, bool>)
    ok = v.is_boolean();
  else if constexpr (std::is_integral_v<T>)
    ok = v.is_number_integer();
  else if constexpr (std::is_floating_point_v<T>)
    ok = v.is_number();
  else
    ok = v.is_string();
  if (!ok) throw Error(what + ": field '" + key + "' has the wrong type (" + v.type_name() + ")");
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // get<int>() would keep only the low bits of a larger number.
    const bool fits = v.is_number_unsigned()
                          ? v.get<std::uint64_t>() <= (std::uint64_t)std::numeric_limits<T>::max()
                          : v.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                                v.get<std::int64_t>() <= std::numeric_limits<T>::max();
    if (!fits) throw Error(what + ": field '" + key + "' out of range (" + v.dump() + ")");
  }
  return v.get<T>();
}

static int positive(int value, const char* key, const std::string& what, int max = 1 << 24) {
  if (value <= 0 || value > max)
    throw Error(what + ": field '" + key + "' out of range (" + std::to_string(value) + ")");
  return value;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) throw Error(what + ": not a JSON object");
  if (field<std::string>(j, "format", what) != "nmt-seq2seq")
    throw Error(what + ": unknown format '" + j["format"].get<std::string>() + "'");
  if (field<int>(j, "version", what) != 1)
    throw Error(what + ": unsupported version " + std::to_string(j["version"].get<int>()));
  ModelConfig c;
  c.src_vocab_size = positive(field<int>(j, "src_vocab_size", what), "src_vocab_size", what);
  c.trg_vocab_size = positive(field<int>(j, "trg_vocab_size", what), "trg_vocab_size", what);
  c.emb_dim = positive(field<int>(j, "emb_dim", what), "emb_dim", what, 1 << 14);
  c.enc_hid_dim = positive(field<int>(j, "enc_hid_dim", what), "enc_hid_dim", what, 1 << 14);
  c.dec_hid_dim = positive(field<int>(j, "dec_hid_dim", what), "dec_hid_dim", what, 1 << 14);
  c.dropout = field<float>(j, "dropout", what);
  if (!(c.dropout >= 0.0f && c.dropout < 1.0f))
    throw Error(what + ": field 'dropout' must be in [0, 1)");
  c.src_lang = field<std::string>(j, "src_lang", what);
  c.trg_lang = field<std::string>(j, "trg_lang", what);
  c.lowercase = field<bool>(j, "lowercase", what);
  // Models trained before the option kept hyphenated words whole.
  c.split_hyphens = j.contains("split_hyphens") ? field<bool>(j, "split_hyphens", what) : false;
  // Models trained before subwords used the word tokenizer.
  c.tokenizer = j.contains("tokenizer") ? field<std::string>(j, "tokenizer", what) : "word";
  if (c.tokenizer != "word" && c.tokenizer != "spm")
    throw Error(what + ": field 'tokenizer' must be \"word\" or \"spm\"");
  if (c.tokenizer == "spm") {
    for (auto [key, file] : {std::pair{"spm_src", &c.spm_src}, std::pair{"spm_trg", &c.spm_trg}}) {
      *file = field<std::string>(j, key, what);
      if (file->empty() || file->find('/') != std::string::npos || *file == "." || *file == "..")
        throw Error(what + ": field '" + key + "' must name a file in the model directory");
    }
  }
  return c;
}

}  // namespace nmt::model
