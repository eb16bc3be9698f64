#pragma once
// Model sizes and text settings: config.json of a checkpoint (design §3). Immutable after load.
#include <nlohmann/json.hpp>
#include <string>

#include "text/codec.h"

namespace nmt::model {

struct ModelConfig {
  int src_vocab_size = 0;  // Vs
  int trg_vocab_size = 0;  // Vt
  // Sizes and dropout come from a preset (train/presets.h) or from config.json.
  int emb_dim = 0;      // E
  int enc_hid_dim = 0;  // H, per direction
  int dec_hid_dim = 0;  // D
  float dropout = 0.0f;
  std::string src_lang = "de", trg_lang = "en";
  bool lowercase = true;
  bool split_hyphens = true;  // tokenizer: spaCy's hyphen splitting (absent in older configs: off)
  // Text codec (text/codec.h): "word" (the seed's, absent in older configs) or "spm", whose
  // model files (names inside the model directory; one file for a joint vocabulary) are these.
  std::string tokenizer = "word";
  std::string spm_src, spm_trg;

  // The codec spec of one side, with spm files looked up in the model directory `dir`.
  text::CodecSpec codec_spec(bool source, const std::string& dir) const;

  // The seed preset of design §2 for the given vocabulary sizes.
  static ModelConfig seed(int src_vocab, int trg_vocab);
  nlohmann::json to_json() const;
  // Throws nmt::Error naming `what` and the missing/wrong-typed field.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& what);
};

}  // namespace nmt::model
