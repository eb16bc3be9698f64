#include "train/trainer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/peak_memory.h"
#include "common/rng.h"
#include "distributed/agree.h"
#include "distributed/comm.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "tensor/ops.h"
#include "data/corpus.h"
#include "train/progress.h"
#include "train/run_state.h"
#include "train/schedule.h"
#include "train/validate.h"

namespace nmt::train {

namespace fs = std::filesystem;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

// SIGINT/SIGTERM ask the loop to save the resumable state after the current step and stop.
std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) { g_signal.store(sig); }

struct SignalGuard {
  struct sigaction old_int {
  }, old_term{};
  SignalGuard() {
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

std::string state_path(const std::string& out) { return out + "/train_state.safetensors"; }

void check_writable(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create output directory (" + ec.message() + ")");
  if (::access(dir.c_str(), W_OK) != 0) throw Error(dir + ": output directory is not writable");
}

// At most n of the lines, drawn without replacement by a seeded RNG (all when n is 0 or more).
std::vector<std::string> sample_lines(const std::vector<std::string>& lines, long n, Rng& rng) {
  if (n <= 0 || (std::size_t)n >= lines.size()) return lines;
  std::vector<std::size_t> idx(lines.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  for (long i = 0; i < n; ++i) std::swap(idx[i], idx[i + rng.below(idx.size() - i)]);
  idx.resize(n);
  std::sort(idx.begin(), idx.end());
  std::vector<std::string> out;
  out.reserve(n);
  for (auto i : idx) out.push_back(lines[i]);
  return out;
}

// One training run: set-up (open, load data, create or restore), the epoch loop, and the
// end of each epoch (validation, schedule, checkpoints).
class Run {
 public:
  explicit Run(TrainOptions o)
      : opt_(std::move(o)), comm_(dist::Comm::world()), progress_(opt_.progress && comm_.root()) {}
  bool train();

 private:
  void open();
  void load_data();
  model::ModelConfig new_config();
  void train_tokenizer(model::ModelConfig& cfg);
  void create_model();
  void restore_model();
  bool run_epoch(bool& stop);  // false: interrupted (state saved)
  void end_epoch(bool stopped, bool& early_stop);
  void save_state(const RunState& s);
  void agree_on_data();
  void join_ranks();
  Validation validate_on_root();
  // Messages and files come from rank 0 alone.
  void say(const std::string& line) {
    if (comm_.root()) progress_.message(line);
  }

  TrainOptions opt_;
  dist::Comm& comm_;
  Progress progress_;
  std::string out_;
  std::optional<model::SafeTensors> state_file_;  // resume: released once restored
  text::ParallelCorpus train_text_, valid_text_;
  data::EncodedCorpus train_data_, valid_data_;
  std::vector<int> lengths_;  // source length of each training pair (batch planning)
  model::Model m_;
  std::optional<Updater> updater_;
  RunState st_;
  Rng rng_;
  json options_;
};

void Run::open() {
  out_ = opt_.out_dir;
  const bool have_state = fs::exists(state_path(out_));
  if (opt_.resume && !have_state)
    throw Error(out_ + ": nothing to resume (no train_state.safetensors); drop --resume to start");
  if (!opt_.resume && (have_state || fs::exists(out_ + "/model.safetensors")))
    throw Error(out_ +
                ": already holds a run; add --resume to continue it or choose another --out");
  if (opt_.resume) {
    state_file_ = model::SafeTensors::load(state_path(out_));
    json saved;
    try {
      saved = json::parse(state_file_->metadata().at("options"));
    } catch (const std::exception& e) {
      throw Error(state_file_->path() + ": bad training options (" + e.what() + ")");
    }
    const std::string notes = merge_saved_options(opt_, saved);
    if (!notes.empty()) say(notes.substr(0, notes.size() - 1));
  }
  if (opt_.tokenizer == "spm" && opt_.defaulted.count("lowercase")) opt_.lowercase = false;
  validate(opt_);
  // --threads is per rank; by default the ranks on one host share its default thread count.
  if (opt_.defaulted.count("threads")) opt_.threads = comm_.threads_per_rank(opt_.threads);
  ops::set_threads(opt_.threads);
  options_ = recorded_options(opt_);  // as asked: "auto" stays auto
  if (const std::string line = resolve_precision(opt_); !line.empty()) say(line);
  if (comm_.root()) check_writable(out_);
  rng_.reseed(opt_.seed ^ 0x5eed5eedULL);
}

void Run::load_data() {
  const data::DataFiles files =
      data::resolve_data_files({opt_.train_src, opt_.train_trg, opt_.valid_src, opt_.valid_trg},
                         opt_.data_dir, opt_.src_lang, opt_.trg_lang);
  train_text_ = data::read_pairs(files.train_src, files.train_trg, opt_.train_limit);
  valid_text_ = data::read_pairs(files.valid_src, files.valid_trg, opt_.valid_limit);
  if (train_text_.src.empty()) throw Error(files.train_src + ": no training pairs");
  if (valid_text_.src.empty()) throw Error(files.valid_src + ": no validation pairs");
}

model::ModelConfig Run::new_config() {
  model::ModelConfig cfg;
  cfg.emb_dim = opt_.emb_dim;
  cfg.enc_hid_dim = opt_.enc_hid_dim;
  cfg.dec_hid_dim = opt_.dec_hid_dim;
  cfg.dropout = opt_.dropout;
  cfg.src_lang = opt_.src_lang;
  cfg.trg_lang = opt_.trg_lang;
  cfg.lowercase = opt_.lowercase;
  cfg.tokenizer = opt_.tokenizer;
  return cfg;
}

// SentencePiece model(s) trained on (a sample of) the training text, into the run directory.
// Trained by rank 0 alone; the other ranks of a data-parallel run get copies of its files.
void Run::train_tokenizer(model::ModelConfig& cfg) {
  if (opt_.joint_vocab) {
    cfg.spm_src = cfg.spm_trg = "spm.model";
  } else {
    cfg.spm_src = "spm." + opt_.src_lang + ".model";
    cfg.spm_trg = "spm." + opt_.trg_lang + ".model";
  }
  if (!comm_.root()) return;
  text::SpmTrainOptions so{opt_.vocab_size, opt_.spm_type, opt_.seed, opt_.threads};
  Rng sample_rng(opt_.seed ^ 0x5b3e11ULL);  // its own stream: the training RNG is untouched
  const auto t0 = clock_type::now();
  if (opt_.joint_vocab) {
    auto text = sample_lines(train_text_.src, opt_.spm_sample, sample_rng);
    for (auto& l : sample_lines(train_text_.trg, opt_.spm_sample, sample_rng))
      text.push_back(std::move(l));
    text::train_spm(text, so, out_ + "/" + cfg.spm_src);
  } else {
    text::train_spm(sample_lines(train_text_.src, opt_.spm_sample, sample_rng), so,
                    out_ + "/" + cfg.spm_src);
    text::train_spm(sample_lines(train_text_.trg, opt_.spm_sample, sample_rng), so,
                    out_ + "/" + cfg.spm_trg);
  }
  char buf[200];
  std::snprintf(buf, sizeof buf, "tokenizer: SentencePiece %s, %d pieces%s, trained in %.1fs",
                opt_.spm_type.c_str(), opt_.vocab_size, opt_.joint_vocab ? " (joint)" : "",
                std::chrono::duration<double>(clock_type::now() - t0).count());
  say(buf);
}

void Run::create_model() {
  model::ModelConfig cfg = new_config();
  std::string text_dir = out_;
  if (cfg.tokenizer == "spm") {
    train_tokenizer(cfg);
    std::vector<std::string> files{cfg.spm_src};
    if (cfg.spm_trg != cfg.spm_src) files.push_back(cfg.spm_trg);
    if (comm_.size() > 1) text_dir = dist::share_files(comm_, out_, files);
  }
  const auto src_codec = text::make_codec(cfg.codec_spec(true, text_dir));
  const auto trg_codec = text::make_codec(cfg.codec_spec(false, text_dir));
  auto [src_vocab, trg_vocab] = data::build_vocabs(train_text_, *src_codec, *trg_codec, opt_.min_freq);
  cfg.src_vocab_size = src_vocab.size();
  cfg.trg_vocab_size = trg_vocab.size();
  m_ = model::Model::create(cfg, std::move(src_vocab), std::move(trg_vocab), opt_.seed, text_dir);
  if (text_dir != out_) dist::remove_copies(comm_, text_dir);  // the codecs are loaded
  updater_.emplace(m_);
  if (!comm_.root()) return;
  m_.src_vocab.save(out_ + "/vocab.src.txt");
  m_.trg_vocab.save(out_ + "/vocab.trg.txt");
  write_file_atomic(out_ + "/config.json", m_.config.to_json().dump(2) + "\n");
}

void Run::restore_model() {
  const std::string cfg_path = out_ + "/config.json";
  const auto cfg = model::ModelConfig::from_json(model::read_json_file(cfg_path), cfg_path);
  m_ = model::Model::create(cfg, text::Vocab::load(out_ + "/vocab.src.txt"),
                            text::Vocab::load(out_ + "/vocab.trg.txt"), opt_.seed, out_);
  updater_.emplace(m_);
  const auto& sf = *state_file_;
  const std::vector<std::int64_t> shape{(std::int64_t)m_.params.size()};
  sf.read_f32("params", shape, m_.params.data());
  sf.read_f32("adam.m", shape, updater_->adam_m.data());
  sf.read_f32("adam.v", shape, updater_->adam_v.data());
  try {
    st_ = RunState::from_json(json::parse(sf.metadata().at("state")));
  } catch (const std::exception& e) {
    throw Error(state_path(out_) + ": bad training state (" + e.what() + ")");
  }
  state_file_.reset();  // its 3 copies of the weights are not needed any more
  rng_.set_state(st_.rng);
  updater_->steps = st_.step;
  say("resuming " + out_ + " at epoch " + std::to_string(st_.epoch + 1) + ", batch " +
      std::to_string(st_.batch_in_epoch) + " (step " + std::to_string(st_.step) + ")");
}

void Run::save_state(const RunState& s) {
  if (!comm_.root()) return;
  const std::vector<std::int64_t> shape{(std::int64_t)m_.params.size()};
  model::save_safetensors(state_path(out_),
                          {{"params", "F32", shape, m_.params.data()},
                           {"adam.m", "F32", shape, updater_->adam_m.data()},
                           {"adam.v", "F32", shape, updater_->adam_v.data()}},
                          {{"state", s.to_json().dump()}, {"options", options_.dump()}});
}

// Data parallelism: the ranks check that they hold the same data, options and model, then each
// computes its shard of every batch and the gradients are summed before the update.
// Before anything is written: the same text and options on every rank.
void Run::agree_on_data() {
  dist::Fingerprint data;
  for (const auto* corpus : {&train_text_, &valid_text_})
    for (const auto* side : {&corpus->src, &corpus->trg})
      for (const auto& line : *side) {
        data.add(line);
        data.add("\n", 1);  // so that line boundaries count
      }
  data.add(options_.dump());
  dist::require_same(comm_, data.value(), "the training data or options");
}

void Run::join_ranks() {
  dist::Fingerprint model;
  model.add(m_.params.data(), m_.params.size() * sizeof(float));
  model.add(updater_->adam_m.data(), updater_->adam_m.size() * sizeof(float));
  model.add(updater_->adam_v.data(), updater_->adam_v.size() * sizeof(float));
  model.add(st_.to_json().dump());
  const auto rng = rng_.state();
  model.add(rng.data(), sizeof rng);
  dist::require_same(comm_, model.value(),
                     "the model or training state (resume from one run directory)");
  updater_->set_shard(comm_.rank(), comm_.size());
  updater_->gradient_hook = [this](float* g, std::size_t n) { comm_.sum(g, n); };
  say("data parallel: " + std::to_string(comm_.size()) + " ranks x " +
      std::to_string(ops::threads()) + " threads, each computing 1/" +
      std::to_string(comm_.size()) + " of every batch of " + std::to_string(opt_.batch));
}

// Rank 0 validates; the others wait (sleeping) for its figures, which drive the schedule.
Validation Run::validate_on_root() {
  Validation v;
  if (comm_.root()) v = validate_model(m_, valid_data_, valid_text_, opt_.select_by == "bleu");
  if (comm_.size() == 1) return v;
  double f[6] = {v.loss.loss,     v.loss.ppl,         v.loss.loss_free,
                 v.loss.ppl_free, v.bleu ? 1.0 : 0.0, v.bleu.value_or(0.0)};
  comm_.broadcast(f, 6);
  v.loss = {f[0], f[1], f[2], f[3], 0};
  v.bleu.reset();
  if (f[4] > 0) v.bleu = f[5];
  return v;
}

bool Run::run_epoch(bool& stop) {
  const auto batches =
      text::plan_batches(lengths_, {opt_.batch, true, opt_.bucket, opt_.seed}, st_.epoch);
  progress_.start_epoch(st_.epoch + 1, opt_.epochs, (long)batches.size(), st_.batch_in_epoch);
  const auto t0 = clock_type::now();
  const double seconds_before = st_.epoch_seconds;
  TrainOptions step_opt = opt_;
  for (; st_.batch_in_epoch < (long)batches.size(); ++st_.batch_in_epoch) {
    if (opt_.max_steps > 0 && st_.step >= opt_.max_steps) {
      stop = true;
      break;
    }
    const auto batch =
        text::make_batch(train_data_.src, train_data_.trg, batches[st_.batch_in_epoch]);
    step_opt.lr = scheduled_lr(opt_, st_.schedule, st_.step + 1);
    double shared[2] = {updater_->step(batch, rng_, step_opt), g_signal.load() != 0 ? 1.0 : 0.0};
    comm_.sum(shared, 2);  // the whole batch's loss; a signal seen by any rank stops them all
    st_.step = updater_->steps;
    st_.epoch_loss += shared[0];
    st_.epoch_tokens += updater_->tokens();
    st_.epoch_seconds =
        seconds_before + std::chrono::duration<double>(clock_type::now() - t0).count();
    progress_.update(st_.batch_in_epoch + 1, st_.epoch_loss / st_.epoch_tokens,
                     st_.epoch_tokens / std::max(st_.epoch_seconds, 1e-9));
    const bool interrupted = shared[1] > 0;
    if (interrupted || (opt_.save_every > 0 && st_.step % opt_.save_every == 0)) {
      RunState snapshot = st_;  // resumes with the next batch of this epoch
      snapshot.batch_in_epoch = st_.batch_in_epoch + 1;
      snapshot.rng = rng_.state();
      save_state(snapshot);
    }
    if (interrupted) {
      progress_.finish_epoch();
      say("\ninterrupted at step " + std::to_string(st_.step) + " (epoch " +
          std::to_string(st_.epoch + 1) + ", batch " + std::to_string(st_.batch_in_epoch + 1) +
          "): state saved; continue with\n  nmt train --out " + out_ + " --resume");
      return false;
    }
  }
  progress_.finish_epoch();
  return true;
}

void Run::end_epoch(bool stopped, bool& early_stop) {
  const Validation v = validate_on_root();
  const double score = selection_score(v, opt_.select_by);
  const double train_loss = st_.epoch_loss / st_.epoch_tokens;
  const bool best = score < st_.best_valid;
  json line = {{"epoch", st_.epoch + 1},
               {"step", st_.step},
               {"complete", !stopped},
               {"train_loss", train_loss},
               {"train_ppl", std::exp(train_loss)},
               {"valid_loss", v.loss.loss},
               {"valid_ppl", v.loss.ppl},
               {"valid_loss_free", v.loss.loss_free},
               {"valid_ppl_free", v.loss.ppl_free},
               {"epoch_time_s", st_.epoch_seconds},
               {"tokens_per_s", st_.epoch_tokens / std::max(st_.epoch_seconds, 1e-9)},
               {"best", best},
               {"peak_rss_mb", peak_rss_mb()}};
  if (v.bleu) line["valid_bleu"] = *v.bleu;
  if (opt_.warmup > 0 || opt_.lr_decay < 1.0f)
    line["lr"] = scheduled_lr(opt_, st_.schedule, st_.step);
  say(epoch_summary(line, best));
  st_.log.push_back(line);
  json training = {{"epoch", st_.epoch + 1},
                   {"step", st_.step},
                   {"valid_loss", v.loss.loss},
                   {"valid_ppl", v.loss.ppl},
                   {"valid_ppl_free", v.loss.ppl_free},
                   {"options", options_}};
  if (v.bleu) training["valid_bleu"] = *v.bleu;
  if (best) {
    st_.best_valid = score;
    if (comm_.root()) model::save_model(out_, m_, {{"training", training}});
  }
  // Every epoch's weights as a model of their own, before the log line that announces them.
  if (opt_.keep_epochs && !stopped && comm_.root())
    model::save_model(out_ + "/epochs/" + std::to_string(st_.epoch + 1), m_,
                      {{"training", training}});
  if (!stopped) {
    const std::string note = after_validation(opt_, st_.schedule, best, early_stop);
    if (!note.empty()) say(note);
  }
  RunState next = st_;  // after --max-steps mid-epoch, the epoch goes on where it stopped
  next.rng = rng_.state();
  if (!stopped) next.start_next_epoch();
  if (early_stop) next.finished = true;
  // The log first: a crash before the state is saved redoes this epoch and rewrites it.
  if (comm_.root()) write_file_atomic(out_ + "/log.jsonl", st_.log_text());
  save_state(next);
  if (!stopped) st_.start_next_epoch();
}

bool Run::train() {
  SignalGuard signals;
  open();
  load_data();
  if (comm_.size() > 1) agree_on_data();
  if (opt_.resume)
    restore_model();
  else
    create_model();
  train_data_ = data::encode_corpus(train_text_, *m_.src_codec, *m_.trg_codec, m_.src_vocab, m_.trg_vocab,
                              opt_.max_len);
  valid_data_ = data::encode_corpus(valid_text_, *m_.src_codec, *m_.trg_codec, m_.src_vocab, m_.trg_vocab,
                              opt_.max_len);
  lengths_.resize(train_data_.src.size());
  for (std::size_t i = 0; i < lengths_.size(); ++i) lengths_[i] = (int)train_data_.src[i].size();
  const std::size_t skipped = train_text_.skipped_empty;
  train_text_ = {};  // only the ids are needed from here on
  say(data_summary(train_data_, skipped, valid_data_.src.size(), opt_.max_len));
  say(model_summary(m_.config, ops::threads()));
  if (comm_.size() > 1) join_ranks();

  const long first_step = st_.step;
  bool stop = st_.finished, early_stop = false;
  if (stop) say("this run already stopped early; nothing to do");
  for (; st_.epoch < opt_.epochs && !stop && !early_stop;) {
    if (!run_epoch(stop)) return false;
    if (st_.epoch_tokens == 0) break;  // --max-steps reached exactly at an epoch boundary
    end_epoch(stop, early_stop);
  }
  if (!st_.log.empty() && comm_.root()) write_file_atomic(out_ + "/log.jsonl", st_.log_text());
  char buf[240];
  if (comm_.size() > 1 && st_.step > first_step) {
    std::snprintf(buf, sizeof buf, "all-reduce of the gradients: %.1f ms a step on rank 0",
                  1e3 * comm_.sum_seconds() / (st_.step - first_step));
    say(buf);
  }
  std::snprintf(buf, sizeof buf, "done: %ld steps, best valid %s, peak memory %ld MB; model in %s",
                st_.step, best_summary(st_.best_valid, opt_.select_by).c_str(), peak_rss_mb(),
                out_.c_str());
  say(buf);
  return true;
}

}  // namespace

bool train(const TrainOptions& opt) { return Run(opt).train(); }

}  // namespace nmt::train
