// nmt: attention-based GRU encoder-decoder NMT (train, translate, eval, bleu, attention, explain,
// bench). Errors are one line on stderr and exit status 1.
#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "tensor/cpu.h"
#include "tensor/ops.h"

int main(int argc, char** argv) {
  if (const std::string missing = nmt::ops::missing_build_isa(); !missing.empty()) {
    std::fprintf(stderr,
                 "nmt: error: this nmt was built for another CPU (-march=native) and this one "
                 "lacks %s; build with -DNMT_NATIVE=OFF for a binary that runs on any x86-64 "
                 "CPU\n",
                 missing.c_str());
    return 1;
  }
  nmt::ops::ensure_fast_blas(argv);
  // Output to a pipe whose reader left (`nmt train ... | head -1`) must not kill the process:
  // training keeps going and saves its checkpoints (its progress lines are lost), and translate
  // notices the EPIPE and stops quietly.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"nmt - fast, exact attention-based neural machine translation (GRU + Bahdanau)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nmt 0.1.0");
  nmt::cli::add_train(app);
  nmt::cli::add_translate(app);
  nmt::cli::add_eval(app);
  nmt::cli::add_bleu(app);
  nmt::cli::add_attention(app);
  nmt::cli::add_explain(app);
  nmt::cli::add_bench(app);
  nmt::cli::add_average(app);
  nmt::cli::add_serve(app);
  nmt::cli::add_segment(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const nmt::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "nmt: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "nmt: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
