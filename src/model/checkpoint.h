#pragma once
// A model directory (design §3): model.safetensors (PyTorch state_dict names), config.json,
// vocab.src.txt, vocab.trg.txt. Every file is written atomically.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "model/config.h"
#include "model/params.h"
#include "text/codec.h"
#include "text/vocab.h"

namespace nmt::model {

struct Model {
  ModelConfig config;
  ParamBuffer params;
  Weights w{};
  text::Vocab src_vocab, trg_vocab;
  // Line <-> tokens of each side (config.tokenizer); spm codecs read their files from text_dir.
  std::shared_ptr<const text::Codec> src_codec, trg_codec;
  std::string text_dir;

  // Fresh model with design §4 init; codecs from text_dir (only spm reads files there).
  static Model create(const ModelConfig& c, text::Vocab src, text::Vocab trg, std::uint64_t seed,
                      const std::string& text_dir = "");
};

// The codecs a config names, spm files read from dir.
void attach_codecs(Model& m, const std::string& dir);

// Loads and validates RUN/{config.json, model.safetensors, vocab.*.txt, spm files}.
Model load_model(const std::string& dir);
// Writes the model files (weights from `params`; SentencePiece files copied from m.text_dir
// when dir is another directory); `extra` is merged into config.json.
void save_model(const std::string& dir, const Model& m, const nlohmann::json& extra = {});

// Parameter tensors of a flat buffer for save_safetensors.
void save_params(const std::string& path, const ModelConfig& c, const float* params);
void load_params(const std::string& path, const ModelConfig& c, float* params);

nlohmann::json read_json_file(const std::string& path);

}  // namespace nmt::model
