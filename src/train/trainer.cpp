#include "train/trainer.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/peak_memory.h"
#include "common/rng.h"
#include "eval/score.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "model/seq2seq.h"
#include "tensor/ops.h"
#include "train/data.h"
#include "train/progress.h"

namespace nmt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Everything needed to continue a run exactly where it stopped (besides weights and Adam moments).
struct RunState {
  int epoch = 0;            // 0-based epoch in progress
  long batch_in_epoch = 0;  // batches of this epoch already done
  long step = 0;            // updates so far
  std::array<std::uint64_t, 4> rng{};
  double best_valid = INFINITY;
  double epoch_loss = 0;  // summed loss / tokens / seconds of the epoch in progress
  long epoch_tokens = 0;
  double epoch_seconds = 0;
  json log = json::array();

  json to_json() const {
    return {{"epoch", epoch},
            {"batch_in_epoch", batch_in_epoch},
            {"step", step},
            {"rng", rng},
            {"best_valid", std::isfinite(best_valid) ? json(best_valid) : json()},
            {"epoch_loss", epoch_loss},
            {"epoch_tokens", epoch_tokens},
            {"epoch_seconds", epoch_seconds},
            {"log", log}};
  }
  static RunState from_json(const json& j) {
    RunState s;
    s.epoch = j.at("epoch");
    s.batch_in_epoch = j.at("batch_in_epoch");
    s.step = j.at("step");
    s.rng = j.at("rng");
    s.best_valid = j.at("best_valid").is_null() ? INFINITY : j.at("best_valid").get<double>();
    s.epoch_loss = j.at("epoch_loss");
    s.epoch_tokens = j.at("epoch_tokens");
    s.epoch_seconds = j.at("epoch_seconds");
    s.log = j.at("log");
    return s;
  }
};

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

void save_state(const std::string& out, const model::Model& m, const model::ParamBuffer& adam_m,
                const model::ParamBuffer& adam_v, const RunState& st, const json& options) {
  const std::vector<std::int64_t> shape{(std::int64_t)m.params.size()};
  model::save_safetensors(state_path(out),
                          {{"params", "F32", shape, m.params.data()},
                           {"adam.m", "F32", shape, adam_m.data()},
                           {"adam.v", "F32", shape, adam_v.data()}},
                          {{"state", st.to_json().dump()}, {"options", options.dump()}});
}

void write_log(const std::string& out, const RunState& st) {
  std::string text;
  for (const auto& line : st.log) text += line.dump() + "\n";
  write_file_atomic(out + "/log.jsonl", text);
}

// The settings that shape the run's math and data; a resumed run keeps them.
json options_json(const TrainOptions& o) {
  return {{"batch", o.batch},
          {"seed", o.seed},
          {"lr", o.lr},
          {"clip", o.clip},
          {"teacher_forcing", o.teacher_forcing},
          {"dropout", o.dropout},
          {"epochs", o.epochs},
          {"max_len", o.max_len},
          {"bucket", o.bucket},
          {"train_limit", o.train_limit},
          {"valid_limit", o.valid_limit}};
}

// --resume: options not given on the command line come from the run. Those that fix the data
// order and the batches (batch, seed, bucket, max_len, limits) cannot change mid-run; the
// others (epochs, lr, clip, teacher forcing, dropout) may, with a note.
// An option value as a user would type it (floats stored as float print as 0.001, not
// 0.0010000000474974513).
std::string show(const json& v) {
  if (!v.is_number_float()) return v.dump();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v.get<double>());
  return buf;
}

void apply_saved_options(TrainOptions& o, const model::SafeTensors& sf) {
  json saved;
  try {
    saved = json::parse(sf.metadata().at("options"));
  } catch (const std::exception& e) {
    throw Error(sf.path() + ": bad training options (" + e.what() + ")");
  }
  const json current = options_json(o);
  auto take = [&](const char* key, auto& field) {
    if (!saved.contains(key)) return;
    using T = std::decay_t<decltype(field)>;
    const T value = saved.at(key).get<T>();
    if (o.defaulted.count(key)) {
      field = value;
      return;
    }
    if (current.at(key) == saved.at(key)) return;
    const std::string k = key;
    std::string flag = "--" + k;
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (k == "epochs" || k == "lr" || k == "clip" || k == "teacher_forcing" || k == "dropout") {
      std::printf("note: %s %s replaces this run's %s\n", flag.c_str(),
                  show(current.at(key)).c_str(), show(saved.at(key)).c_str());
      return;
    }
    throw Error(flag + " " + show(current.at(key)) + " differs from this run's " +
                show(saved.at(key)) + ", which fixes its batches; drop the option to resume");
  };
  take("batch", o.batch);
  take("seed", o.seed);
  take("lr", o.lr);
  take("clip", o.clip);
  take("teacher_forcing", o.teacher_forcing);
  take("dropout", o.dropout);
  take("epochs", o.epochs);
  take("max_len", o.max_len);
  take("bucket", o.bucket);
  take("train_limit", o.train_limit);
  take("valid_limit", o.valid_limit);
}

void check_writable(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create output directory (" + ec.message() + ")");
  if (::access(dir.c_str(), W_OK) != 0) throw Error(dir + ": output directory is not writable");
}

}  // namespace

Updater::Updater(model::Model& m)
    : adam_m(m.params.size()),
      adam_v(m.params.size()),
      m_(m),
      grads_(m.params.size()),
      g_(model::bind_weights(grads_.data(), m.config)) {}

double Updater::step(const text::Batch& batch, Rng& rng, const TrainOptions& opt) {
  std::vector<unsigned char> coins(batch.trg_len);
  for (auto& c : coins) c = rng.uniform() < opt.teacher_forcing;
  grads_.zero();
  const double loss_sum = graph_.forward(m_.config, m_.w, batch, coins, opt.dropout, &rng);
  const std::string where = "step " + std::to_string(steps + 1) + ": ";
  const std::string intact = "; stopped, the last saved checkpoint is intact";
  if (!std::isfinite(loss_sum))
    throw Error(where + "loss is " + (std::isnan(loss_sum) ? "NaN" : "Inf") + intact);
  graph_.backward(m_.config, m_.w, g_, 1.0f / graph_.tokens());
  const double norm = std::sqrt(ops::sum_squares(grads_.data(), grads_.size()));
  if (!std::isfinite(norm)) throw Error(where + "gradient is not finite" + intact);
  // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
  const double clip_coef = opt.clip / (norm + 1e-6);
  if (clip_coef < 1.0) ops::scale(grads_.data(), grads_.size(), (float)clip_coef);
  ++steps;
  ops::adam_update(m_.params.data(), grads_.data(), adam_m.data(), adam_v.data(), m_.params.size(),
                   opt.lr, 0.9f, 0.999f, 1e-8f, steps);
  if (!ops::all_finite(m_.params.data(), m_.params.size()))
    throw Error(where + "weights are not finite after the update (learning rate too high?)" +
                intact);
  return loss_sum;
}

bool train(const TrainOptions& given) {
  SignalGuard signals;
  TrainOptions opt = given;
  std::optional<model::SafeTensors> state_file;
  if (opt.resume && fs::exists(state_path(opt.out_dir))) {
    state_file = model::SafeTensors::load(state_path(opt.out_dir));
    apply_saved_options(opt, *state_file);
  }
  using clock = std::chrono::steady_clock;
  if (opt.batch <= 0) throw Error("--batch must be positive");
  if (opt.epochs <= 0) throw Error("--epochs must be positive");
  if (!(opt.lr > 0.0f) || !std::isfinite(opt.lr)) throw Error("--lr must be a positive number");
  if (!(opt.clip > 0.0f)) throw Error("--clip must be positive");
  if (!(opt.teacher_forcing >= 0.0f && opt.teacher_forcing <= 1.0f))
    throw Error("--teacher-forcing must be in [0, 1]");
  if (!(opt.dropout >= 0.0f && opt.dropout < 1.0f)) throw Error("--dropout must be in [0, 1)");
  if (opt.max_len < 3) throw Error("--max-len must be at least 3");
  ops::set_threads(opt.threads);
  const std::string& out = opt.out_dir;
  const bool have_state = fs::exists(state_path(out));
  if (opt.resume && !have_state)
    throw Error(out + ": nothing to resume (no train_state.safetensors); drop --resume to start");
  if (!opt.resume && (have_state || fs::exists(out + "/model.safetensors")))
    throw Error(out + ": already holds a run; add --resume to continue it or choose another --out");
  check_writable(out);

  // Data.
  const auto train_pc = read_split(opt.data_dir, "train", opt.train_limit);
  const auto valid_pc = read_split(opt.data_dir, "val", opt.valid_limit);
  if (train_pc.src.empty()) throw Error(opt.data_dir + ": no training pairs");
  if (valid_pc.src.empty()) throw Error(opt.data_dir + ": no validation pairs");
  // The run's config when resuming (its text settings and model sizes), else the defaults,
  // whose text settings tokenize a new run (its sizes come from the vocabularies below).
  model::ModelConfig run_cfg;
  if (opt.resume)
    run_cfg = model::ModelConfig::from_json(model::read_json_file(out + "/config.json"),
                                            out + "/config.json");
  const auto train_tok = tokenize_corpus(train_pc, run_cfg);
  const auto valid_tok = tokenize_corpus(valid_pc, run_cfg);

  model::Model m;
  model::ParamBuffer adam_m, adam_v;
  RunState st;
  Rng rng(opt.seed ^ 0x5eed5eedULL);
  if (opt.resume) {
    auto src_vocab = text::Vocab::load(out + "/vocab.src.txt");
    auto trg_vocab = text::Vocab::load(out + "/vocab.trg.txt");
    m = model::Model::create(run_cfg, std::move(src_vocab), std::move(trg_vocab), opt.seed);
    const auto& sf = *state_file;
    const std::vector<std::int64_t> shape{(std::int64_t)m.params.size()};
    adam_m = model::ParamBuffer(m.params.size());
    adam_v = model::ParamBuffer(m.params.size());
    sf.read_f32("params", shape, m.params.data());
    sf.read_f32("adam.m", shape, adam_m.data());
    sf.read_f32("adam.v", shape, adam_v.data());
    try {
      st = RunState::from_json(json::parse(sf.metadata().at("state")));
    } catch (const std::exception& e) {
      throw Error(state_path(out) + ": bad training state (" + e.what() + ")");
    }
    rng.set_state(st.rng);
    std::printf("resuming %s at epoch %d, batch %ld (step %ld)\n", out.c_str(), st.epoch + 1,
                st.batch_in_epoch, st.step);
  } else {
    auto src_vocab = text::Vocab::build(train_tok.src, 2);
    auto trg_vocab = text::Vocab::build(train_tok.trg, 2);
    auto cfg = model::ModelConfig::seed(src_vocab.size(), trg_vocab.size());
    cfg.emb_dim = opt.emb_dim;
    cfg.enc_hid_dim = opt.enc_hid_dim;
    cfg.dec_hid_dim = opt.dec_hid_dim;
    cfg.dropout = opt.dropout;
    m = model::Model::create(cfg, std::move(src_vocab), std::move(trg_vocab), opt.seed);
    m.src_vocab.save(out + "/vocab.src.txt");
    m.trg_vocab.save(out + "/vocab.trg.txt");
    write_file_atomic(out + "/config.json", m.config.to_json().dump(2) + "\n");
  }
  const auto& cfg = m.config;
  const auto train_data = encode_corpus(train_tok, m.src_vocab, m.trg_vocab, opt.max_len);
  const auto valid_data = encode_corpus(valid_tok, m.src_vocab, m.trg_vocab, opt.max_len);
  std::printf(
      "data: %zu training pairs (%zu empty skipped, %ld sentences truncated to %d), %zu "
      "validation pairs\n",
      train_data.src.size(), train_pc.skipped_empty, train_data.truncated, opt.max_len,
      valid_data.src.size());
  std::printf("model: %d src / %d trg words, %zu parameters, %d threads\n", cfg.src_vocab_size,
              cfg.trg_vocab_size, model::parameter_count(cfg), ops::threads());
  std::fflush(stdout);

  const json options = options_json(opt);
  Updater updater(m);
  updater.steps = st.step;
  if (opt.resume) {
    updater.adam_m = std::move(adam_m);
    updater.adam_v = std::move(adam_v);
  }
  std::vector<int> lengths(train_data.src.size());
  for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (int)train_data.src[i].size();
  text::BatchPlan plan{opt.batch, true, opt.bucket, opt.seed};
  Progress progress(opt.progress);

  bool stop = false;
  for (; st.epoch < opt.epochs && !stop; ++st.epoch, st.batch_in_epoch = 0) {
    const auto batches = text::plan_batches(lengths, plan, st.epoch);
    progress.start_epoch(st.epoch + 1, opt.epochs, (long)batches.size(), st.batch_in_epoch);
    auto t0 = clock::now();
    const double seconds_before = st.epoch_seconds;
    for (; st.batch_in_epoch < (long)batches.size(); ++st.batch_in_epoch) {
      if (opt.max_steps > 0 && st.step >= opt.max_steps) {
        stop = true;
        break;
      }
      const auto batch =
          text::make_batch(train_data.src, train_data.trg, batches[st.batch_in_epoch]);
      const double loss_sum = updater.step(batch, rng, opt);
      const long ntok = updater.tokens();
      st.step = updater.steps;
      st.epoch_loss += loss_sum;
      st.epoch_tokens += ntok;
      st.epoch_seconds = seconds_before + std::chrono::duration<double>(clock::now() - t0).count();
      progress.update(st.batch_in_epoch + 1, st.epoch_loss / st.epoch_tokens,
                      st.epoch_tokens / std::max(st.epoch_seconds, 1e-9));
      const bool interrupted = g_signal.load() != 0;
      if (interrupted || (opt.save_every > 0 && st.step % opt.save_every == 0)) {
        RunState snapshot = st;  // resumes with the next batch of this epoch
        snapshot.batch_in_epoch = st.batch_in_epoch + 1;
        snapshot.rng = rng.state();
        save_state(out, m, updater.adam_m, updater.adam_v, snapshot, options);
      }
      if (interrupted) {
        progress.finish_epoch();
        std::printf(
            "\ninterrupted at step %ld (epoch %d, batch %ld): state saved; continue with\n"
            "  nmt train --out %s --resume\n",
            st.step, st.epoch + 1, st.batch_in_epoch + 1, out.c_str());
        std::fflush(stdout);
        return false;
      }
    }
    progress.finish_epoch();
    if (st.epoch_tokens == 0) break;  // --max-steps reached exactly at an epoch boundary
    // Validation, log line, best and last checkpoints.
    const auto v = eval::corpus_loss(cfg, m.w, valid_data.src, valid_data.trg, 128);
    const double train_loss = st.epoch_loss / st.epoch_tokens;
    const bool best = v.loss_free < st.best_valid;
    json line = {{"epoch", st.epoch + 1},
                 {"step", st.step},
                 {"complete", !stop},
                 {"train_loss", train_loss},
                 {"train_ppl", std::exp(train_loss)},
                 {"valid_loss", v.loss},
                 {"valid_ppl", v.ppl},
                 {"valid_loss_free", v.loss_free},
                 {"valid_ppl_free", v.ppl_free},
                 {"epoch_time_s", st.epoch_seconds},
                 {"tokens_per_s", st.epoch_tokens / std::max(st.epoch_seconds, 1e-9)},
                 {"best", best},
                 {"peak_rss_mb", peak_rss_mb()}};
    std::printf(
        "epoch %d | step %ld | train loss %.3f ppl %.2f | valid loss %.3f ppl %.2f | "
        "valid ppl_free %.2f | %.0fs, %.0f tok/s%s\n",
        st.epoch + 1, st.step, train_loss, std::exp(train_loss), v.loss, v.ppl, v.ppl_free,
        st.epoch_seconds, line["tokens_per_s"].get<double>(), best ? " | best so far, saved" : "");
    std::fflush(stdout);
    st.log.push_back(line);
    const json training = {{"training",
                            {{"epoch", st.epoch + 1},
                             {"step", st.step},
                             {"valid_loss", v.loss},
                             {"valid_ppl", v.ppl},
                             {"valid_ppl_free", v.ppl_free},
                             {"options", options}}}};
    if (best) {
      st.best_valid = v.loss_free;
      model::save_model(out, m, training);
    }
    // Every epoch's weights as a model of their own, before the log line that announces them.
    if (opt.keep_epochs && !stop)
      model::save_model(out + "/epochs/" + std::to_string(st.epoch + 1), m, training);
    RunState next = st;  // after --max-steps mid-epoch, the epoch goes on where it stopped
    next.rng = rng.state();
    if (!stop) {
      next.epoch = st.epoch + 1;
      next.batch_in_epoch = 0;
      next.epoch_loss = 0;
      next.epoch_tokens = 0;
      next.epoch_seconds = 0;
    }
    // The log first: a crash before the state is saved redoes this epoch and rewrites it.
    write_log(out, st);
    save_state(out, m, updater.adam_m, updater.adam_v, next, options);
    if (!stop) {
      st.epoch_loss = 0;
      st.epoch_tokens = 0;
      st.epoch_seconds = 0;
    }
  }
  if (!st.log.empty()) write_log(out, st);  // also completes a log cut short by a crash
  std::printf("done: %ld steps, best valid ppl_free %.2f, peak memory %ld MB; model in %s\n",
              st.step, std::exp(st.best_valid), peak_rss_mb(), out.c_str());
  return true;
}

}  // namespace nmt::train
