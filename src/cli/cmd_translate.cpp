// nmt translate: stdin (or --input) to stdout as lines, paragraphs or HTML (decode/document.h);
// lines stream by batches.
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
#include "decode/document.h"
#include "tensor/ops.h"
#include "text/corpus.h"

namespace nmt::cli {

namespace {

struct TranslateOptions {
  std::string model, input, format = "lines";
  decode::DecodingOptions decode;
  bool replace_unk = false, no_split = false;
};

// The input file (or stdin) as a descriptor; errors name it.
int open_input(const std::string& path) {
  if (path.empty()) return STDIN_FILENO;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat sb;
  if (::fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    ::close(fd);
    throw Error(path + ": is a directory, not a file of sentences");
  }
  return fd;
}

// Writes text; false when nobody reads any more (`| head -1`: stop quietly, as a pipeline's
// writer is expected to).
bool emit(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return true;
  if (errno == EPIPE) return false;
  throw Error(std::string("cannot write the translations (") + std::strerror(errno) + ")");
}

void run_translate(const TranslateOptions& o) {
  check_decode_flags(o.decode);
  decode::DocumentOptions dopt;
  dopt.format = decode::parse_format(o.format);
  dopt.split = !o.no_split;
  dopt.search = o.decode.search();
  dopt.max_src_len = o.decode.max_src_len;
  dopt.batch = o.decode.batch;
  dopt.replace_unk = o.replace_unk;
  ops::set_threads(o.decode.threads);
  const auto m = model::load_model(o.model);
  decode::Translator tr(m, o.decode.precision);
  decode::DocumentTranslator doc(m, tr);
  const int fd = open_input(o.input);
  const std::string name = o.input.empty() ? "<stdin>" : o.input;
  LineReader reader(fd, name);
  std::string pending;  // lines not yet translated, '\n'-joined
  long line_no = 0, first = 1;
  bool reader_gone = false;
  // Lines: a batch of lines at a time, or whatever is here when the input pauses (interactive
  // use). Text and HTML: the whole input at once (a paragraph or element may span lines).
  auto flush = [&] {
    if (line_no < first || reader_gone) return;
    const auto res = doc.translate(pending, dopt, first);
    for (const auto& w : res.warnings)
      std::fprintf(stderr, "nmt: warning: %s\n", w.c_str());
    reader_gone = !emit(res.text + "\n");
    pending.clear();
    first = line_no + 1;
  };
  std::string line;
  while (!reader_gone && reader.next(line)) {
    ++line_no;
    if (!text::is_valid_utf8(line)) {
      --line_no;  // translate the lines before it first
      flush();
      throw Error(name + ":" + std::to_string(line_no + 1) + ": invalid UTF-8");
    }
    pending += (line_no > first ? "\n" : "") + line;
    if (dopt.format == decode::Format::Lines &&
        (line_no - first + 1 >= o.decode.batch || !reader.more_ready()))
      flush();
  }
  flush();
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
  cmd->add_option("--format", o->format,
                  "lines: one segment per line (several sentences in a line are split and "
                  "rejoined); text: paragraphs separated by blank lines, a sentence may span "
                  "lines; html: the text of an HTML document, markup kept")
      ->capture_default_str();
  cmd->add_flag("--no-split", o->no_split,
                "Translate each line whole, without sentence segmentation (as before --format)");
  cmd->callback([o] { run_translate(*o); });
}

}  // namespace nmt::cli
