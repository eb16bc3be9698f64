#include "train/validate.h"

#include <cmath>
#include <cstdio>

#include "decode/translator.h"
#include "eval/bleu.h"

namespace nmt::train {

Validation validate_model(const model::Model& m, const data::EncodedCorpus& ids,
                          const text::ParallelCorpus& text, bool with_bleu) {
  Validation v;
  v.loss = eval::corpus_loss(m.config, m.w, ids.src, ids.trg, 128);
  if (!with_bleu) return v;
  decode::Translator tr(m);
  decode::DecodeOptions opt;  // greedy
  std::vector<std::string> hyps;
  hyps.reserve(text.src.size());
  for (std::size_t start = 0; start < text.src.size(); start += 128) {
    const std::vector<std::string> lines(text.src.begin() + start,
                                         text.src.begin() + std::min(text.src.size(), start + 128));
    for (auto& r : decode::translate_lines(m, tr, lines, opt)) hyps.push_back(std::move(r.text));
  }
  v.bleu = eval::corpus_bleu(hyps, text.trg, m.config.lowercase, true).bleu;
  return v;
}

double selection_score(const Validation& v, const std::string& select_by) {
  if (select_by == "bleu") return -v.bleu.value_or(0.0);
  if (select_by == "ppl") return v.loss.loss;
  return v.loss.loss_free;
}

std::string best_summary(double score, const std::string& select_by) {
  char buf[64];
  if (select_by == "bleu")
    std::snprintf(buf, sizeof buf, "BLEU %.2f", -score);
  else
    std::snprintf(buf, sizeof buf, "%s %.2f", select_by.c_str(), std::exp(score));
  return buf;
}

}  // namespace nmt::train
