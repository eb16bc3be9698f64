// nmt translate: stdin (or --input) to stdout, one sentence a line, streaming by batches.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "cli/decode_flags.h"
#include "cli/line_reader.h"
#include "common/error.h"
#include "decode/translator.h"
#include "tensor/ops.h"
#include "text/corpus.h"

namespace nmt::cli {

namespace {

struct TranslateOptions {
  std::string model, input;
  decode::DecodingOptions decode;
  bool replace_unk = false;
};

void run_translate(const TranslateOptions& o) {
  check_decode_flags(o.decode);
  ops::set_threads(o.decode.threads);
  const auto m = model::load_model(o.model);
  decode::Translator tr(m, o.decode.precision);
  const decode::DecodeOptions dopt = o.decode.search();
  int fd = STDIN_FILENO;
  if (!o.input.empty()) {
    fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(o.input + ": cannot open (" + std::strerror(errno) + ")");
    struct stat sb;
    if (::fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
      ::close(fd);
      throw Error(o.input + ": is a directory, not a file of sentences");
    }
  }
  const std::string name = o.input.empty() ? "<stdin>" : o.input;
  LineReader reader(fd, name);
  std::vector<std::string> pending;
  long line_no = 0;
  bool reader_gone = false;  // stdout is a pipe whose reader left (`| head -1`)
  auto flush = [&] {
    const long first = line_no - (long)pending.size() + 1;
    for (const auto& r :
         decode::translate_lines(m, tr, pending, dopt, o.replace_unk, o.decode.max_src_len, first))
      std::fputs((r.text + "\n").c_str(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      // Nobody reads the rest: stop quietly, as a pipeline's writer is expected to.
      if (errno == EPIPE) {
        reader_gone = true;
        return;
      }
      throw Error(std::string("cannot write the translations (") + std::strerror(errno) + ")");
    }
    pending.clear();
  };
  std::string line;
  while (!reader_gone && reader.next(line)) {
    ++line_no;
    if (!text::is_valid_utf8(line)) {
      --line_no;  // translate the lines before it first
      flush();
      ++line_no;
      throw Error(name + ":" + std::to_string(line_no) + ": invalid UTF-8");
    }
    pending.push_back(line);
    // Translate a full batch, or whatever is here when the input pauses (interactive use).
    if ((int)pending.size() >= o.decode.batch || !reader.more_ready()) flush();
  }
  if (!reader_gone) flush();
  if (fd != STDIN_FILENO) ::close(fd);
}

}  // namespace

void add_translate(CLI::App& app) {
  auto o = std::make_shared<TranslateOptions>();
  auto* cmd = app.add_subcommand(
      "translate",
      "Translate sentences (stdin or --input), one per line, with a model of any language pair");
  cmd->add_option("--model", o->model, "Model directory (RUN of nmt train)")->required();
  cmd->add_option("--input", o->input, "Read this file instead of stdin");
  add_decode_flags(cmd, o->decode,
                   {"beam", "max_len", "length_penalty", "precision", "batch", "max_src_len",
                    "threads"});
  cmd->add_flag("--replace-unk", o->replace_unk,
                "Replace an output <unk> by the most attended source word");
  cmd->callback([o] { run_translate(*o); });
}

}  // namespace nmt::cli
