#pragma once
// The training options, each defined once: a table of (key, member, what happens on --resume,
// help) drives the CLI flags, the options recorded in a run, and resuming. Defaults come from
// the presets (train/presets.h), never from member initializers.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "tensor/precision.h"

namespace nmt::train {

struct TrainOptions {
  // Data: --data DIR with the language codes, or files named directly.
  std::string data_dir, out_dir, src_lang, trg_lang;
  std::string train_src, train_trg, valid_src, valid_trg;
  std::string preset;
  // Text.
  std::string tokenizer, spm_type;
  bool lowercase = false, joint_vocab = false;
  int min_freq = 0, vocab_size = 0;
  long spm_sample = 0;
  // Model sizes.
  int emb_dim = 0, enc_hid_dim = 0, dec_hid_dim = 0;
  // Recipe.
  int epochs = 0, batch = 0, max_len = 0, lr_patience = 0, early_stop = 0;
  float lr = 0, clip = 0, teacher_forcing = 0, dropout = 0, out_dropout = 0, label_smoothing = 0,
        lr_decay = 0;
  long warmup = 0;
  std::string select_by;  // "ppl_free" | "ppl" | "bleu": which validation figure picks the best
  ops::Precision precision = ops::Precision::Fp32;  // fp32 | bf16 | auto (tensor/precision.h);
                                                   // resolve_precision makes it fp32 or bf16
  bool bucket = false;
  // The run itself (not recorded: may differ between a run and its resumption).
  long max_steps = 0;  // 0 = no limit; otherwise stop after this many updates (then validate/save)
  int threads = 2;
  std::uint64_t seed = 0;
  bool resume = false, keep_epochs = false, progress = true;
  long save_every = 0;  // also save the resumable state every N updates (0 = epoch ends only)
  long train_limit = 0, valid_limit = 0;  // only the first N pairs (0 = all; for tests)
  // Keys of options left at their defaults (the CLI fills it): a preset sets them, and with
  // --resume they come from the run being resumed while the others must agree with it.
  std::set<std::string> defaulted;

  // The seed preset's values, de->en on the bundled data's file names, seed 1234.
  TrainOptions();
};

// Fixed: shapes the data or the model; a resumed run must keep it. Changeable: may change on
// --resume (with a note). Run: about this process only, never recorded.
enum class OnResume { Fixed, Changeable, Run };

using Member =
    std::variant<int TrainOptions::*, long TrainOptions::*, float TrainOptions::*,
                 bool TrainOptions::*, std::string TrainOptions::*, std::uint64_t TrainOptions::*,
                 ops::Precision TrainOptions::*>;
struct OptionSpec {
  const char* key;  // JSON key; the flag is --key with '_' as '-'
  Member member;
  OnResume on_resume;
  const char* help;
};
const std::vector<OptionSpec>& option_table();
std::string flag_of(const std::string& key);

// Sets every option the preset names (throws nmt::Error on an unknown preset); with `only`,
// just those keys.
void apply_preset(TrainOptions& o, const std::string& name, const std::set<std::string>* only);
// The Fixed and Changeable options: what a run records and compares on --resume.
nlohmann::json recorded_options(const TrainOptions& o);
// --resume: options left at their defaults take the run's values; a Fixed option given with
// another value is an error; a Changeable one wins with a note (returned, one per line).
std::string merge_saved_options(TrainOptions& o, const nlohmann::json& saved);
// The precision training runs at (ops::resolve), set in o: fp32, or bf16 where this CPU has bf16
// GEMMs; auto chooses and returns a line saying which ("" otherwise). Throws nmt::Error (one
// line) for bf16 on a CPU without it and for int8. Called before any file is read or written; a
// run records the precision asked for ("auto"), so each resumption chooses anew.
std::string resolve_precision(TrainOptions& o);
// One-line errors for values out of range (e.g. "--dropout must be in [0, 1)").
void validate(const TrainOptions& o);

}  // namespace nmt::train
