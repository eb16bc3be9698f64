#include "train/presets.h"

#include <map>

#include "common/error.h"
#include "data/corpus.h"
#include "model/config.h"

namespace nmt::train {

namespace {

const std::map<std::string, nlohmann::json>& presets() {
  const auto seed = model::ModelConfig::seed(0, 0);  // the seed model's sizes and dropout
  static const std::map<std::string, nlohmann::json> table = {
      {"seed",
       {{"preset", "seed"},
        {"emb", seed.emb_dim},
        {"enc_hid", seed.enc_hid_dim},
        {"dec_hid", seed.dec_hid_dim},
        {"dropout", seed.dropout},
        {"out_dropout", 0.0},
        {"tokenizer", "word"},
        {"lowercase", seed.lowercase},
        {"min_freq", 2},
        {"vocab_size", 8000},
        {"spm_type", "unigram"},
        {"joint_vocab", false},
        {"spm_sample", 0},
        {"epochs", 10},
        {"batch", 128},
        {"lr", 1e-3},
        {"clip", 1.0},
        {"teacher_forcing", 0.5},
        {"label_smoothing", 0.0},
        {"warmup", 0},
        {"lr_decay", 1.0},
        {"lr_patience", 0},
        {"early_stop", 0},
        {"select_by", "ppl_free"},
        {"precision", "fp32"},
        {"max_len", 100},
        {"bucket", false}}},
      {"strong",
       {{"preset", "strong"},
        {"emb", 256},
        {"enc_hid", 512},
        {"dec_hid", 512},
        {"dropout", 0.3},
        {"out_dropout", 0.3},
        {"tokenizer", "spm"},
        {"lowercase", false},
        {"min_freq", 1},
        {"vocab_size", 8000},
        {"spm_type", "unigram"},
        {"joint_vocab", true},
        {"spm_sample", 1000000},
        {"epochs", 20},
        {"batch", 64},
        {"lr", 1e-3},
        {"clip", 1.0},
        {"teacher_forcing", 1.0},
        {"label_smoothing", 0.1},
        {"warmup", 200},
        {"lr_decay", 0.5},
        {"lr_patience", 1},
        {"early_stop", 3},
        {"select_by", "bleu"},
        {"precision", "auto"},
        {"max_len", 100},
        {"bucket", true}}},
  };
  return table;
}

}  // namespace

const nlohmann::json& preset(const std::string& name) {
  const auto& t = presets();
  const auto it = t.find(name);
  if (it != t.end()) return it->second;
  std::string known;
  for (const auto& [n, p] : t) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& [n, p] : presets()) names.push_back(n);
  return names;
}

model::Model seed_model(const text::ParallelCorpus& pc, std::uint64_t seed) {
  auto cfg = model::ModelConfig::seed(0, 0);
  const auto src = text::make_codec(cfg.codec_spec(true, ""));
  const auto trg = text::make_codec(cfg.codec_spec(false, ""));
  auto [src_vocab, trg_vocab] =
      data::build_vocabs(pc, *src, *trg, preset("seed").at("min_freq").get<int>());
  cfg.src_vocab_size = src_vocab.size();
  cfg.trg_vocab_size = trg_vocab.size();
  return model::Model::create(cfg, std::move(src_vocab), std::move(trg_vocab), seed);
}

}  // namespace nmt::train
