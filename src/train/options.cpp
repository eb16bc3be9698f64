#include "train/options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "data/corpus.h"
#include "train/presets.h"

namespace nmt::train {

using nlohmann::json;
using O = TrainOptions;

const std::vector<OptionSpec>& option_table() {
  using R = OnResume;
  static const std::vector<OptionSpec> table = {
      // Data and text.
      {"data", &O::data_dir, R::Run,
       "Directory with train.L / val.L files (gz or plain) per language"},
      {"src_lang", &O::src_lang, R::Fixed, "Source language code (file suffix, tokenizer rules)"},
      {"trg_lang", &O::trg_lang, R::Fixed, "Target language code"},
      {"train_src", &O::train_src, R::Run, "Training source file (instead of DIR/train.SRC)"},
      {"train_trg", &O::train_trg, R::Run, "Training target file"},
      {"valid_src", &O::valid_src, R::Run, "Validation source file (instead of DIR/val.SRC)"},
      {"valid_trg", &O::valid_trg, R::Run, "Validation target file"},
      {"preset", &O::preset, R::Fixed, "Defaults for every option not given: seed or strong"},
      {"tokenizer", &O::tokenizer, R::Fixed, "word (the seed's) or spm (SentencePiece subwords)"},
      {"lowercase", &O::lowercase, R::Fixed, "Lowercase the text (word tokenizer only)"},
      {"min_freq", &O::min_freq, R::Fixed, "word: keep tokens seen at least this often"},
      {"vocab_size", &O::vocab_size, R::Fixed, "spm: vocabulary size (pieces incl. specials)"},
      {"spm_type", &O::spm_type, R::Fixed, "spm: unigram or bpe"},
      {"joint_vocab", &O::joint_vocab, R::Fixed, "spm: one vocabulary for both languages"},
      {"spm_sample", &O::spm_sample, R::Fixed,
       "spm: train SentencePiece on at most N sentences per side, drawn with --seed (0 = all)"},
      // Model sizes.
      {"emb", &O::emb_dim, R::Fixed, "Embedding size"},
      {"enc_hid", &O::enc_hid_dim, R::Fixed, "Encoder GRU size per direction"},
      {"dec_hid", &O::dec_hid_dim, R::Fixed, "Decoder GRU size"},
      // Recipe.
      {"epochs", &O::epochs, R::Changeable, "Number of epochs"},
      {"batch", &O::batch, R::Fixed, "Sentences per batch"},
      {"seed", &O::seed, R::Fixed, "Random seed (init, shuffling, dropout, coins, spm sample)"},
      {"lr", &O::lr, R::Changeable, "Adam learning rate"},
      {"clip", &O::clip, R::Changeable, "Global gradient-norm clip"},
      {"teacher_forcing", &O::teacher_forcing, R::Changeable, "Teacher forcing ratio"},
      {"dropout", &O::dropout, R::Changeable, "Embedding dropout"},
      {"out_dropout", &O::out_dropout, R::Changeable,
       "Dropout on the output layer's input [decoder state; context; embedding] (0 = off)"},
      {"label_smoothing", &O::label_smoothing, R::Changeable,
       "Label smoothing of the loss (0 = off)"},
      {"warmup", &O::warmup, R::Changeable,
       "Linear learning-rate warm-up over N updates (0 = off)"},
      {"lr_decay", &O::lr_decay, R::Changeable,
       "Multiply the learning rate by this when validation did not improve for --lr-patience "
       "epochs (1 = off)"},
      {"lr_patience", &O::lr_patience, R::Changeable, "Epochs without improvement before a decay"},
      {"early_stop", &O::early_stop, R::Changeable,
       "Stop after N epochs without a better validation figure (0 = off)"},
      {"precision", &O::precision, R::Changeable,
       "fp32 (exact), bf16: mixed precision, GEMM inputs in bfloat16 with fp32 accumulation, "
       "weights, Adam and loss in fp32 (oneDNN; CPUs with AVX512-BF16 or AMX), or auto: bf16 "
       "where the CPU has it, else fp32"},
      {"select_by", &O::select_by, R::Changeable,
       "Validation figure that picks the best checkpoint: ppl_free, ppl or bleu (greedy)"},
      {"max_len", &O::max_len, R::Fixed,
       "Truncate training sentences to this many tokens (incl. <sos>/<eos>)"},
      {"bucket", &O::bucket, R::Fixed, "Group sentences of similar length into batches"},
      {"train_limit", &O::train_limit, R::Fixed, "Use only the first N training pairs"},
      {"valid_limit", &O::valid_limit, R::Fixed, "Use only the first N validation pairs"},
      // This process.
      {"out", &O::out_dir, R::Run, "Run directory (checkpoints, log.jsonl)"},
      {"max_steps", &O::max_steps, R::Run,
       "Stop after this many updates in total (0 = no limit), then validate and save"},
      {"threads", &O::threads, R::Run, "CPU threads"},
      {"save_every", &O::save_every, R::Run,
       "Also save the resumable state every N updates (0 = at epoch ends only)"},
      {"keep_epochs", &O::keep_epochs, R::Run,
       "Also save each epoch's weights as a model in RUN/epochs/N"},
      {"resume", &O::resume, R::Run, "Continue the run in --out from its last saved state"},
  };
  return table;
}

std::string flag_of(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

namespace {

json get(const TrainOptions& o, const Member& m) {
  return std::visit(
      [&](auto p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(o.*p)>, ops::Precision>)
          return json(ops::precision_name(o.*p));
        else
          return json(o.*p);
      },
      m);
}
void set(TrainOptions& o, const Member& m, const json& v, const std::string& key) {
  std::visit(
      [&](auto p) {
        using T = std::decay_t<decltype(o.*p)>;
        try {
          if constexpr (std::is_same_v<T, ops::Precision>)
            o.*p = ops::parse_precision(v.get<std::string>());
          else
            o.*p = v.get<T>();
        } catch (const json::exception&) {
          throw Error("option '" + key + "' has the wrong type (" + v.dump() + ")");
        }
      },
      m);
}

// A value as a user would type it (floats stored as float print as 0.001, not 0.0010000000474).
std::string show(const json& v) {
  if (!v.is_number_float()) return v.is_string() ? v.get<std::string>() : v.dump();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v.get<double>());
  return buf;
}

}  // namespace

TrainOptions::TrainOptions() {
  apply_preset(*this, "seed", nullptr);
  src_lang = data::kDefaultSrcLang;
  trg_lang = data::kDefaultTrgLang;
  seed = 1234;
  save_every = 100;
}

void apply_preset(TrainOptions& o, const std::string& name, const std::set<std::string>* only) {
  const json& p = preset(name);
  for (const auto& spec : option_table()) {
    if (!p.contains(spec.key) || (only && !only->count(spec.key))) continue;
    set(o, spec.member, p.at(spec.key), spec.key);
  }
}

json recorded_options(const TrainOptions& o) {
  json j = json::object();
  for (const auto& spec : option_table())
    if (spec.on_resume != OnResume::Run) j[spec.key] = get(o, spec.member);
  return j;
}

std::string merge_saved_options(TrainOptions& o, const json& saved) {
  std::string notes;
  for (const auto& spec : option_table()) {
    if (spec.on_resume == OnResume::Run || !saved.contains(spec.key)) continue;
    const json& was = saved.at(spec.key);
    if (o.defaulted.count(spec.key)) {
      set(o, spec.member, was, spec.key);
      continue;
    }
    // Compare as the member's type (a float option saved as a double prints the same).
    TrainOptions probe = o;
    set(probe, spec.member, was, spec.key);
    const json now = get(o, spec.member), then = get(probe, spec.member);
    if (now == then) continue;
    const std::string flag = flag_of(spec.key);
    if (spec.on_resume == OnResume::Changeable) {
      notes += "note: " + flag + " " + show(now) + " replaces this run's " + show(then) + "\n";
      continue;
    }
    throw Error(flag + " " + show(now) + " differs from this run's " + show(then) +
                ", which fixes its data and model; drop the option to resume");
  }
  return notes;
}

std::string resolve_precision(TrainOptions& o) {
  const auto r = ops::resolve(o.precision, ops::Workload::Training);
  o.precision = r.used;
  return r.why.empty() ? "" : std::string("precision: ") + ops::precision_name(r.used) + " (" + r.why + ")";
}

void validate(const TrainOptions& o) {
  if (o.batch <= 0) throw Error("--batch must be positive");
  if (o.epochs <= 0) throw Error("--epochs must be positive");
  if (!(o.lr > 0.0f) || !std::isfinite(o.lr)) throw Error("--lr must be a positive number");
  if (!(o.clip > 0.0f)) throw Error("--clip must be positive");
  if (!(o.teacher_forcing >= 0.0f && o.teacher_forcing <= 1.0f))
    throw Error("--teacher-forcing must be in [0, 1]");
  if (!(o.dropout >= 0.0f && o.dropout < 1.0f)) throw Error("--dropout must be in [0, 1)");
  if (!(o.out_dropout >= 0.0f && o.out_dropout < 1.0f))
    throw Error("--out-dropout must be in [0, 1)");
  if (!(o.label_smoothing >= 0.0f && o.label_smoothing < 1.0f))
    throw Error("--label-smoothing must be in [0, 1)");
  if (!(o.lr_decay > 0.0f && o.lr_decay <= 1.0f)) throw Error("--lr-decay must be in (0, 1]");
  if (o.warmup < 0 || o.lr_patience < 0 || o.early_stop < 0)
    throw Error("--warmup, --lr-patience and --early-stop must not be negative");
  if (o.max_len < 3) throw Error("--max-len must be at least 3");
  if (o.tokenizer != "word" && o.tokenizer != "spm")
    throw Error("--tokenizer must be word or spm, not '" + o.tokenizer + "'");
  if (o.tokenizer == "spm" && o.spm_type != "unigram" && o.spm_type != "bpe")
    throw Error("--spm-type must be unigram or bpe, not '" + o.spm_type + "'");
  if (o.tokenizer == "spm" && o.vocab_size < 8) throw Error("--vocab-size must be at least 8");
  if (o.tokenizer == "spm" && o.lowercase)
    throw Error("--lowercase applies to the word tokenizer; SentencePiece models are cased");
  if (o.min_freq < 1) throw Error("--min-freq must be at least 1");
  if (o.spm_sample < 0) throw Error("--spm-sample must not be negative");
  if (o.select_by != "ppl_free" && o.select_by != "ppl" && o.select_by != "bleu")
    throw Error("--select-by must be ppl_free, ppl or bleu, not '" + o.select_by + "'");
  for (int v : {o.emb_dim, o.enc_hid_dim, o.dec_hid_dim})
    if (v <= 0 || v > (1 << 14))
      throw Error("--emb, --enc-hid and --dec-hid must be in [1, 16384]");
  if (o.threads <= 0) throw Error("--threads must be positive");
  if (o.precision == ops::Precision::Int8)
    ops::resolve(o.precision, ops::Workload::Training);  // throws: int8 is for decoding
}

}  // namespace nmt::train
