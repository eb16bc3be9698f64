#pragma once
// Model sizes and text settings: config.json of a checkpoint (design §3). Immutable after load.
#include <nlohmann/json.hpp>
#include <string>

namespace nmt::model {

struct ModelConfig {
  int src_vocab_size = 0;  // Vs
  int trg_vocab_size = 0;  // Vt
  int emb_dim = 256;       // E
  int enc_hid_dim = 512;   // H, per direction
  int dec_hid_dim = 512;   // D
  float dropout = 0.5f;
  std::string src_lang = "de", trg_lang = "en";
  bool lowercase = true;
  bool split_hyphens = true;  // tokenizer: spaCy's hyphen splitting (absent in older configs: off)

  // The seed preset of design §2 for the given vocabulary sizes.
  static ModelConfig seed(int src_vocab, int trg_vocab);
  nlohmann::json to_json() const;
  // Throws nmt::Error naming `what` and the missing/wrong-typed field.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& what);
};

}  // namespace nmt::model
