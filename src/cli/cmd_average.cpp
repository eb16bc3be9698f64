// nmt average RUN... --out DIR: checkpoint averaging (train/average.h).
#include <cstdio>

#include "cli/commands.h"
#include "train/average.h"

namespace nmt::cli {

void add_average(CLI::App& app) {
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "average", "Average the weights of models of one run (e.g. RUN/epochs/8 RUN/epochs/9)");
  cmd->add_option("models", *dirs, "Model directories (same sizes and vocabularies)")->required();
  cmd->add_option("--out", *out, "Directory for the averaged model")->required();
  cmd->callback([dirs, out] {
    train::average_models(*dirs, *out);
    std::printf("averaged %zu models into %s\n", dirs->size(), out->c_str());
  });
}

}  // namespace nmt::cli
