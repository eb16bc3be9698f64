#pragma once
// Per-epoch validation: teacher-forced and free-running loss (eval::corpus_loss) and, when the
// best checkpoint is chosen by it, greedy BLEU of the detokenized validation translations.
#include <optional>
#include <string>

#include "eval/score.h"
#include "model/checkpoint.h"
#include "text/corpus.h"
#include "data/corpus.h"

namespace nmt::train {

struct Validation {
  eval::LossResult loss;
  std::optional<double> bleu;
};

Validation validate_model(const model::Model& m, const data::EncodedCorpus& ids,
                          const text::ParallelCorpus& text, bool with_bleu);
// Lower is better: loss_free, loss or -BLEU as --select-by says.
double selection_score(const Validation& v, const std::string& select_by);
std::string best_summary(double score, const std::string& select_by);

}  // namespace nmt::train
