#pragma once
// Each subcommand registers itself on the app; its callback throws nmt::Error on failure.
#include <CLI/CLI.hpp>

namespace nmt::cli {

void add_train(CLI::App& app);
void add_translate(CLI::App& app);
void add_eval(CLI::App& app);
void add_bleu(CLI::App& app);
void add_attention(CLI::App& app);
void add_explain(CLI::App& app);
void add_bench(CLI::App& app);
void add_average(CLI::App& app);
void add_serve(CLI::App& app);
void add_segment(CLI::App& app);

}  // namespace nmt::cli
