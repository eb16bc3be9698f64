// nmt train: the recipe of a preset (seed by default, design §4) on any parallel corpus.
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "cli/commands.h"
#include "common/error.h"
#include "data/corpus.h"
#include "distributed/comm.h"
#include "train/presets.h"
#include "train/trainer.h"

namespace nmt::cli {

namespace {

// One CLI option per entry of the option table: bools as --x / --no-x flags.
void add_table_option(CLI::App* cmd, train::TrainOptions& o, const train::OptionSpec& spec) {
  const std::string flag = train::flag_of(spec.key);
  std::visit(
      [&](auto member) {
        auto& field = o.*member;
        using T = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<T, bool>) {
          cmd->add_flag(flag + ",!--no-" + flag.substr(2), field, spec.help);
        } else if constexpr (std::is_same_v<T, ops::Precision>) {
          cmd->add_option_function<std::string>(
                 flag,
                 [&field, flag](const std::string& s) {
                   try {
                     field = ops::parse_precision(s);
                   } catch (const Error& e) {
                     throw Error(flag + ": " + e.what());
                   }
                 },
                 spec.help)
              ->default_str(ops::precision_name(field));
        } else {
          auto* opt = cmd->add_option(flag, field, spec.help);
          if (spec.key != std::string("data")) opt->capture_default_str();
        }
      },
      spec.member);
}

// Under mpirun, one of N data-parallel ranks: an error on any rank ends the whole job (the
// others would otherwise wait for it in the next collective forever).
bool run_training(const train::TrainOptions& opt) {
  auto& comm = dist::Comm::world();
  if (comm.size() == 1) return train::train(opt);
  try {
    return train::train(opt);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "nmt: error: %s%s\n",
                 comm.root() ? "" : ("rank " + std::to_string(comm.rank()) + ": ").c_str(),
                 e.what());
    std::fflush(stderr);
    comm.abort(1);
  }
}

}  // namespace

void add_train(CLI::App& app) {
  auto opt = std::make_shared<train::TrainOptions>();
  opt->data_dir = data::default_data_dir();
  auto* cmd = app.add_subcommand(
      "train", "Train a model on a parallel corpus (best checkpoint kept in --out)");
  for (const auto& spec : train::option_table()) add_table_option(cmd, *opt, spec);
  cmd->get_option("--out")->required();
  cmd->get_option("--data")->capture_default_str();
  cmd->callback([opt, cmd] {
    for (const auto& spec : train::option_table())  // a flag's count includes its --no- form
      if (cmd->count(train::flag_of(spec.key)) == 0) opt->defaulted.insert(spec.key);
    // The preset's values for every option not given on the command line.
    if (!opt->defaulted.count("preset")) train::apply_preset(*opt, opt->preset, &opt->defaulted);
    if (!run_training(*opt)) std::exit(130);  // interrupted; the state is saved
  });
}

}  // namespace nmt::cli
