// nmt attention: translate one sentence and draw its attention weights (source x output tokens)
// as an SVG heatmap or a terminal one (design §5).
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/decode_flags.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "decode/translator.h"
#include "model/safetensors.h"
#include "tensor/ops.h"
#include "text/corpus.h"
#include "viz/heatmap.h"

namespace nmt::cli {

namespace {

struct AttentionOptions {
  std::string model, sentence, output, format = "svg";
  decode::DecodingOptions decode;
};

void run_attention(const AttentionOptions& o) {
  check_decode_flags(o.decode);
  decode::DecodeOptions dopt = o.decode.search();
  dopt.keep_attention = true;
  if (o.format == "svg" && o.output.empty()) throw Error("--format svg needs -o FILE.svg");
  if (!text::is_valid_utf8(o.sentence)) throw Error("the sentence is not valid UTF-8");
  if (!std::filesystem::is_directory(o.model)) throw Error(o.model + ": not a model directory");
  ops::set_threads(o.decode.threads);
  const auto m = model::load_model(o.model);
  decode::Translator tr(m, o.decode.precision);
  auto res = decode::translate_lines(m, tr, {o.sentence}, dopt, false, o.decode.max_src_len);
  auto& r = res.at(0);
  if (r.src_tokens.empty()) throw Error("the sentence is empty: nothing to translate");

  std::vector<std::string> src{"<sos>"};
  src.insert(src.end(), r.src_tokens.begin(), r.src_tokens.end());
  src.push_back("<eos>");
  const std::size_t S = src.size(), rows = r.hyp.attention.size() / S;
  if (S != (std::size_t)tr.encoder().S || rows * S != r.hyp.attention.size() ||
      rows < r.out_tokens.size())
    throw Error("internal: attention of " + std::to_string(r.hyp.attention.size()) +
                " weights does not match " + std::to_string(S) + " source tokens");
  std::vector<std::string> out = r.out_tokens;
  if (rows > out.size()) out.push_back("<eos>");  // the step that chose <eos>

  std::string src_text;
  for (std::size_t j = 1; j + 1 < S; ++j) src_text += (j > 1 ? " " : "") + src[j];
  const std::string title = src_text + "\n\xE2\x86\x92 " + (r.text.empty() ? "(empty)" : r.text);
  if (o.format == "txt") {
    const std::string body = r.text + "\n" + viz::render_text(src, out, r.hyp.attention);
    if (o.output.empty()) {
      std::fputs(body.c_str(), stdout);
    } else {
      write_file_atomic(o.output, body);
      std::printf("%s\n", r.text.c_str());
    }
    return;
  }
  write_file_atomic(o.output, viz::render_svg(src, out, r.hyp.attention, title));
  std::printf("%s\n", r.text.c_str());
  std::fprintf(stderr, "nmt: wrote %s (%zu output x %zu source tokens)\n", o.output.c_str(),
               out.size(), S);
}

}  // namespace

void add_attention(CLI::App& app) {
  auto o = std::make_shared<AttentionOptions>();
  auto* cmd = app.add_subcommand(
      "attention", "Translate one sentence and draw its attention heatmap (SVG or text)");
  cmd->add_option("--model", o->model, "Model directory (RUN of nmt train)")->required();
  cmd->add_option("sentence", o->sentence, "Sentence to translate (in the model's source language)")
      ->required();
  cmd->add_option("-o,--output", o->output, "Output file (required for --format svg)");
  cmd->add_option("--format", o->format, "svg, or txt for a terminal heatmap on stdout")
      ->check(CLI::IsMember({"svg", "txt"}))
      ->capture_default_str();
  add_decode_flags(cmd, o->decode,
                   {"beam", "max_len", "length_penalty", "precision", "max_src_len", "threads"});
  cmd->callback([o] { run_attention(*o); });
}

}  // namespace nmt::cli
