// nmt eval: loss/ppl (teacher-forced), loss_free/ppl_free (the tutorial's), BLEU and bleu_tok of
// the chosen decoding, and speed: one JSON line (design §5).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/decode_flags.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "decode/translator.h"
#include "eval/bleu.h"
#include "eval/score.h"
#include "model/safetensors.h"
#include "tensor/ops.h"
#include "data/corpus.h"

namespace nmt::cli {

namespace {

struct EvalOptions {
  std::string model, src, ref, output;
  decode::DecodingOptions decode;
};

std::string join(const std::vector<std::string>& toks) {
  std::string s;
  for (const auto& t : toks) s += (s.empty() ? "" : " ") + t;
  return s;
}

// The bundled test2016 file of a language (de, en); other languages need --src/--ref.
std::string bundled_test(const std::string& lang) {
  try {
    return data::split_path(data::default_data_dir(), "test", lang);
  } catch (const Error&) {
    throw Error("no bundled test set for language '" + lang + "': give --src FILE --ref FILE");
  }
}

void run_eval(const EvalOptions& o) {
  check_decode_flags(o.decode);
  ops::set_threads(o.decode.threads);
  const auto precision = ops::resolve(o.decode.precision, ops::Workload::Decoding).used;
  auto m = model::load_model(o.model);
  // Scores (ppl) then belong to the weights the translator decodes with.
  decode::round_weights(m, precision);
  const decode::DecodeOptions dopt = o.decode.search();
  if (o.src.empty() != o.ref.empty()) throw Error("give both --src and --ref (or neither)");
  const std::string src_path = o.src.empty() ? bundled_test(m.config.src_lang) : o.src;
  const std::string ref_path = o.ref.empty() ? bundled_test(m.config.trg_lang) : o.ref;
  const auto pc = text::read_parallel(src_path, ref_path);
  if (pc.src.empty()) throw Error(src_path + ": no sentence pairs");
  const auto enc =
      data::encode_corpus(pc, *m.src_codec, *m.trg_codec, m.src_vocab, m.trg_vocab, 0);
  const auto loss = eval::corpus_loss(m.config, m.w, enc.src, enc.trg, 128);

  decode::Translator tr(m, precision);
  std::vector<std::string> hyps, hyp_tok, ref_tok;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& r : decode::translate_in_batches(m, tr, pc.src, dopt, o.decode.batch,
                                              o.decode.max_src_len)) {
    hyps.push_back(r.text);
    hyp_tok.push_back(join(r.out_tokens));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& line : pc.trg) ref_tok.push_back(join(m.trg_codec->tokenize(line)));
  const auto bleu = eval::corpus_bleu(hyps, pc.trg, m.config.lowercase, true);
  const auto bleu_tok = eval::corpus_bleu(hyp_tok, ref_tok, false, false);
  if (!o.output.empty()) {
    std::string text;
    for (const auto& h : hyps) text += h + "\n";
    write_file_atomic(o.output, text);
  }
  long out_tokens = 0;
  for (const auto& h : hyp_tok)
    out_tokens += h.empty() ? 0 : 1 + (long)std::count(h.begin(), h.end(), ' ');
  nlohmann::json j = {{"sentences", pc.src.size()},
                      {"beam", dopt.beam},
                      {"precision", ops::precision_name(precision)},
                      {"loss", loss.loss},
                      {"ppl", loss.ppl},
                      {"loss_free", loss.loss_free},
                      {"ppl_free", loss.ppl_free},
                      {"bleu", bleu.bleu},
                      {"bleu_tok", bleu_tok.bleu},
                      {"bleu_detail", nlohmann::json::parse(eval::bleu_json(bleu))},
                      {"sentences_per_s", pc.src.size() / secs},
                      {"tokens_per_s", out_tokens / secs},
                      {"threads", ops::threads()}};
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

void add_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd =
      app.add_subcommand("eval", "Loss, perplexity, BLEU and speed on a test set (one JSON line)");
  cmd->add_option("--model", o->model, "Model directory")->required();
  cmd->add_option("--src", o->src,
                  "Source file (default: the bundled test2016 in the model's source language)");
  cmd->add_option("--ref", o->ref,
                  "Reference file (default: the bundled test2016 in the model's target language)");
  cmd->add_option("--output", o->output, "Also write the translations here");
  add_decode_flags(cmd, o->decode,
                   {"beam", "max_len", "length_penalty", "precision", "batch", "max_src_len",
                    "threads"});
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace nmt::cli
