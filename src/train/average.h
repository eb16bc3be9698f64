#pragma once
// Checkpoint averaging: the element-wise mean of the weights of models that share config and
// vocabularies (e.g. the best epochs of one run, kept with --keep-epochs).
#include <string>
#include <vector>

namespace nmt::train {

// Loads every model directory, checks they agree, writes their mean as a model to out (with
// the first model's config, vocabularies and tokenizer files). Throws nmt::Error naming the
// model that differs.
void average_models(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace nmt::train
