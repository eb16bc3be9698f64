#include "train/average.h"

#include <filesystem>

#include "common/error.h"
#include "model/checkpoint.h"

namespace nmt::train {

namespace {

bool same_vocab(const text::Vocab& a, const text::Vocab& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i)
    if (a.token(i) != b.token(i)) return false;
  return true;
}

void check_compatible(const model::Model& first, const model::Model& m, const std::string& dir,
                      const std::string& first_dir) {
  const auto& a = first.config;
  const auto& b = m.config;
  const bool same = a.emb_dim == b.emb_dim && a.enc_hid_dim == b.enc_hid_dim &&
                    a.dec_hid_dim == b.dec_hid_dim && a.src_lang == b.src_lang &&
                    a.trg_lang == b.trg_lang && a.tokenizer == b.tokenizer &&
                    a.lowercase == b.lowercase && a.split_hyphens == b.split_hyphens;
  if (!same) throw Error(dir + ": model sizes or text settings differ from " + first_dir);
  if (!same_vocab(first.src_vocab, m.src_vocab) || !same_vocab(first.trg_vocab, m.trg_vocab))
    throw Error(dir + ": vocabularies differ from " + first_dir +
                " (only checkpoints of one run can be averaged)");
}

}  // namespace

void average_models(const std::vector<std::string>& dirs, const std::string& out) {
  if (dirs.size() < 2) throw Error("nmt average: give at least two model directories");
  if (std::filesystem::exists(out + "/model.safetensors"))
    throw Error(out + ": already holds a model; choose another --out");
  model::Model avg = model::load_model(dirs[0]);
  std::vector<double> sum(avg.params.data(), avg.params.data() + avg.params.size());
  for (std::size_t k = 1; k < dirs.size(); ++k) {
    const model::Model m = model::load_model(dirs[k]);
    check_compatible(avg, m, dirs[k], dirs[0]);
    const float* p = m.params.data();
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += p[i];
  }
  float* p = avg.params.data();
  for (std::size_t i = 0; i < sum.size(); ++i) p[i] = (float)(sum[i] / (double)dirs.size());
  model::save_model(out, avg, {{"averaged_from", dirs}});
}

}  // namespace nmt::train
