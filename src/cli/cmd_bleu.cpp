// `nmt bleu HYP REF [--lowercase]`: sacreBLEU-compatible corpus BLEU of two line-aligned files
// (plain UTF-8, or gzipped), printed as one JSON line (design §5).
#include <zlib.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "eval/bleu.h"

namespace nmt::cli {
namespace {

// Lines as Python's text-mode iteration gives them (split on '\n' only; no empty line after a
// final '\n'). gzopen reads uncompressed files transparently.
std::vector<std::string> read_lines(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  std::string data;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) throw Error(path + ": cannot read");
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.emplace_back(data, start, nl - start);
  if (start < data.size()) lines.emplace_back(data, start);
  return lines;
}

}  // namespace

void add_bleu(CLI::App& app) {
  struct Args {
    std::string hyp, ref;
    bool lowercase = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "bleu",
      "sacreBLEU-compatible corpus BLEU (13a tokenization, exp smoothing) as one JSON line");
  cmd->add_option("HYP", args->hyp, "System output, one sentence a line")->required();
  cmd->add_option("REF", args->ref, "Reference, line-aligned with HYP")->required();
  cmd->add_flag("--lowercase", args->lowercase, "Case-insensitive BLEU (sacreBLEU -lc)");
  cmd->callback([args] {
    const auto hyps = read_lines(args->hyp);
    const auto refs = read_lines(args->ref);
    if (hyps.empty()) throw Error(args->hyp + ": no lines");
    if (hyps.size() != refs.size())
      throw Error(args->hyp + " has " + std::to_string(hyps.size()) + " lines but " + args->ref +
                  " has " + std::to_string(refs.size()));
    const auto stats = eval::corpus_bleu(hyps, refs, args->lowercase);
    std::printf("%s\n", eval::bleu_json(stats).c_str());
  });
}

}  // namespace nmt::cli
