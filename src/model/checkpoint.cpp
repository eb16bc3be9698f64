#include "model/checkpoint.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "model/safetensors.h"

namespace nmt::model {

namespace fs = std::filesystem;

void attach_codecs(Model& m, const std::string& dir) {
  m.src_codec = text::make_codec(m.config.codec_spec(true, dir));
  m.trg_codec = text::make_codec(m.config.codec_spec(false, dir));
  m.text_dir = dir;
}

Model Model::create(const ModelConfig& c, text::Vocab src, text::Vocab trg, std::uint64_t seed,
                    const std::string& text_dir) {
  Model m;
  m.config = c;
  std::size_t total = 0;
  param_table(c, &total);
  m.params = ParamBuffer(total);
  m.w = bind_weights(m.params.data(), c);
  init_params(m.params.data(), c, seed);
  m.src_vocab = std::move(src);
  m.trg_vocab = std::move(trg);
  attach_codecs(m, text_dir);
  return m;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + ": invalid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception& e) {  // e.g. a number out of double's range
    throw Error(path + ": invalid JSON (" + e.what() + ")");
  }
}

void save_params(const std::string& path, const ModelConfig& c, const float* params) {
  std::vector<TensorOut> out;
  for (const auto& p : param_table(c)) out.push_back({p.name, "F32", p.shape, params + p.offset});
  save_safetensors(path, out, {{"format", "pt"}});
}

namespace {

// Every parameter of the table is in the file with its dtype and shape, and nothing else is:
// checked on the header alone, before anything the size of the model is allocated.
void check_tensors(const SafeTensors& st, const std::string& path,
                   const std::vector<ParamInfo>& table) {
  for (const auto& p : table) st.check_f32(p.name, p.shape);
  for (const auto& [name, v] : st.tensors()) {
    bool known = false;
    for (const auto& p : table) known |= p.name == name;
    if (!known) throw Error(path + ": unexpected tensor '" + name + "'");
  }
}

// Copies the (checked) tensors into params and rejects NaN or infinite weights, which would
// otherwise load and decode nothing but <unk>.
void copy_tensors(const SafeTensors& st, const std::string& path,
                  const std::vector<ParamInfo>& table, float* params) {
  for (const auto& p : table) {
    float* x = params + p.offset;
    st.read_f32(p.name, p.shape, x);
    std::size_t i = 0;  // (a plain loop: the fuzz targets link this file without tensor/ops)
    while (i < p.size && std::isfinite(x[i])) ++i;
    if (i == p.size) continue;
    throw Error(path + ": tensor '" + p.name + "' holds " +
                (std::isnan(x[i]) ? "NaN" : "an infinite value") + " (element " +
                std::to_string(i) + "); the weights are unusable");
  }
}

}  // namespace

void load_params(const std::string& path, const ModelConfig& c, float* params) {
  const auto st = SafeTensors::load(path);
  const auto table = param_table(c);
  check_tensors(st, path, table);
  copy_tensors(st, path, table, params);
}

Model load_model(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": not a model directory");
  Model m;
  const std::string cfg_path = dir + "/config.json";
  m.config = ModelConfig::from_json(read_json_file(cfg_path), cfg_path);
  m.src_vocab = text::Vocab::load(dir + "/vocab.src.txt");
  m.trg_vocab = text::Vocab::load(dir + "/vocab.trg.txt");
  if (m.src_vocab.size() != m.config.src_vocab_size)
    throw Error(dir + "/vocab.src.txt: " + std::to_string(m.src_vocab.size()) +
                " tokens but config.json says src_vocab_size " +
                std::to_string(m.config.src_vocab_size));
  if (m.trg_vocab.size() != m.config.trg_vocab_size)
    throw Error(dir + "/vocab.trg.txt: " + std::to_string(m.trg_vocab.size()) +
                " tokens but config.json says trg_vocab_size " +
                std::to_string(m.config.trg_vocab_size));
  // The file's tensors are checked against config.json's sizes first: a config claiming huge
  // dimensions fails on the shapes, not after allocating (and zeroing) what they would need.
  const std::string path = dir + "/model.safetensors";
  const auto st = SafeTensors::load(path);
  std::size_t total = 0;
  const auto table = param_table(m.config, &total);
  check_tensors(st, path, table);
  m.params = ParamBuffer(total);
  m.w = bind_weights(m.params.data(), m.config);
  copy_tensors(st, path, table, m.params.data());
  attach_codecs(m, dir);
  return m;
}

// SentencePiece model files travel with the weights (e.g. into RUN/epochs/N).
static void copy_text_files(const Model& m, const std::string& dir) {
  if (m.config.tokenizer != "spm") return;
  std::error_code ec;
  if (fs::equivalent(dir, m.text_dir, ec)) return;
  for (const auto& name : {m.config.spm_src, m.config.spm_trg}) {
    const std::string from = m.text_dir + "/" + name;
    std::ifstream f(from, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    if (!f) throw Error(from + ": cannot read (" + std::strerror(errno) + ")");
    write_file_atomic(dir + "/" + name, ss.str());
  }
}

void save_model(const std::string& dir, const Model& m, const nlohmann::json& extra) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create directory (" + ec.message() + ")");
  nlohmann::json cfg = m.config.to_json();
  if (!extra.is_null())
    for (auto it = extra.begin(); it != extra.end(); ++it) cfg[it.key()] = it.value();
  // Weights before config.json: if saving fails or the process dies in between, config.json's
  // training block may lag behind the weights, but never describes weights that are not there.
  m.src_vocab.save(dir + "/vocab.src.txt");
  m.trg_vocab.save(dir + "/vocab.trg.txt");
  copy_text_files(m, dir);
  save_params(dir + "/model.safetensors", m.config, m.params.data());
  write_file_atomic(dir + "/config.json", cfg.dump(2) + "\n");
}

}  // namespace nmt::model
