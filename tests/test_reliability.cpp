// Reliability of the real `nmt` binary (docs/reliability.md): SIGKILL at an arbitrary step and in
// the middle of a checkpoint write, SIGINT/SIGTERM, a full disk (injected with the
// NMT_FAULT_WRITE_* variables of common/atomic_file.cpp, and a real tiny tmpfs when we may mount
// one), a non-finite loss, over-long / empty / blank input lines and unwritable output paths.
// Every interrupted or failed run must leave loadable files behind and, once resumed, reach the
// bit-identical weights and losses of an uninterrupted run with the same seed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/params.h"
#include "model/safetensors.h"
#include "test_util.h"
#include "text/corpus.h"
#include "text/vocab.h"

extern char** environ;

using namespace nmt;
using namespace nmt::testing;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Running the binary as a child process we can signal

using Env = std::vector<std::pair<std::string, std::string>>;

struct Outcome {
  int status = 0;  // raw wait status
  std::string out, err;
  int code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  bool killed_by(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  std::string describe() const {
    std::string s = WIFEXITED(status)     ? "exit " + std::to_string(WEXITSTATUS(status))
                    : WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                          : "status " + std::to_string(status);
    return s + "\n--- stdout (tail)\n" + out.substr(out.size() > 2000 ? out.size() - 2000 : 0) +
           "\n--- stderr\n" + err;
  }
};

// `nmt ARGS...` with stdout and stderr in files (stdout is not a tty: plain progress lines),
// stdin from in_path and NMT_FAULT_* only from `env`. Killed and reaped if still running when
// destroyed.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args, const Env& env = {},
                 const std::string& in_path = "/dev/null", const std::string& out_path = "")
      : out_path_(out_path.empty() ? io_ / "stdout" : out_path), err_path_(io_ / "stderr") {
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "NMT_FAULT_", 10) != 0) envs.push_back(*e);
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::string bin = nmt_binary();
    std::vector<std::string> argv_s{bin};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (in < 0 || out < 0 || err < 0) throw std::runtime_error("cannot open the child's files");
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls from here on
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execve(bin.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(in);
    ::close(out);
    ::close(err);
    if (pid_ < 0) throw std::runtime_error("fork failed");
  }
  ~Child() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool running() {
    if (reaped_) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
    return !reaped_;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  std::string out() const { return fs::is_regular_file(out_path_) ? read_file(out_path_) : ""; }
  Outcome wait() {
    if (!reaped_) {
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    // Not a regular file (/dev/full): nothing to read back.
    return {status_, fs::is_regular_file(out_path_) ? read_file(out_path_) : "",
            read_file(err_path_)};
  }
  // Polls every millisecond until pred() holds (true) or the child has exited or `seconds`
  // have passed (false).
  bool wait_until(const std::function<bool()>& pred, double seconds = 30) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      if (!running()) return pred();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

 private:
  TempDir io_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

Outcome run_nmt(const std::vector<std::string>& args, const Env& env = {},
                const std::string& in_path = "/dev/null") {
  Child c(args, env, in_path);
  return c.wait();
}

// ---------------------------------------------------------------------------------------------
// The tiny training recipe (20 batches an epoch, 60 steps in 3 epochs: well under a second)

constexpr int kEpochs = 3;
constexpr long kSaveEvery = 5;

std::vector<std::string> train_args(const std::string& out, int epochs, bool resume,
                                    const std::vector<std::string>& extra = {},
                                    long save_every = kSaveEvery,
                                    const std::string& data = repo_path("data/multi30k"),
                                    int threads = 1) {
  std::vector<std::string> a{"train", "--data", data, "--out", out};
  std::istringstream tiny("--epochs " + std::to_string(epochs) + " --save-every " +
                          std::to_string(save_every) +
                          " --emb 16 --enc-hid 16 --dec-hid 16 --batch 16 --train-limit 320"
                          " --valid-limit 32 --threads " +
                          std::to_string(threads) + " --seed 7");
  for (std::string w; tiny >> w;) a.push_back(w);
  if (resume) a.push_back("--resume");
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

bool exists(const std::string& p) { return fs::exists(p); }

// The largest training step the progress output shows ("epoch E/T  batch B/N" and the epoch
// summary "epoch E | step S | ..."); -1 when none.
long printed_step(const std::string& out) {
  long best = -1;
  for (const auto& line : split_lines(out)) {
    int e = 0, te = 0;
    long b = 0, nb = 0, s = 0;
    if (std::sscanf(line.c_str(), "epoch %d/%d batch %ld/%ld", &e, &te, &b, &nb) == 4)
      best = std::max(best, (e - 1) * nb + b);
    else if (std::sscanf(line.c_str(), "epoch %d | step %ld", &e, &s) == 2)
      best = std::max(best, s);
  }
  return best;
}

// N of "resuming RUN at epoch E, batch B (step N)"; -1 when there is no such line.
long resumed_step(const std::string& out) {
  for (const auto& line : split_lines(out)) {
    if (line.rfind("resuming ", 0) != 0) continue;
    const auto at = line.rfind("(step ");
    if (at != std::string::npos) return std::stol(line.substr(at + 6));
  }
  return -1;
}

json run_state(const std::string& dir) {
  const auto st = model::SafeTensors::load(dir + "/train_state.safetensors");
  return json::parse(st.metadata().at("state"));
}
long state_step(const std::string& dir) { return run_state(dir).at("step").get<long>(); }

struct State {
  std::vector<float> params, m, v;
};
State last_state(const std::string& dir) {
  const auto st = model::SafeTensors::load(dir + "/train_state.safetensors");
  return {st.f32("params"), st.f32("adam.m"), st.f32("adam.v")};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

long non_finite(const float* x, std::size_t n) {
  long bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += !std::isfinite(x[i]);
  return bad;
}
long non_finite(const std::vector<float>& x) { return non_finite(x.data(), x.size()); }

std::vector<json> read_log(const std::string& dir) {
  std::vector<json> r;
  for (const auto& line : split_lines(read_file(dir + "/log.jsonl")))
    r.push_back(json::parse(line));
  return r;
}

std::map<std::string, std::string> snapshot_files(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files[e.path().filename().string()] = read_file(e.path().string());
  return files;
}

// Names of the files that differ between two snapshots (or exist in only one), except `skip`.
std::vector<std::string> changed_files(const std::map<std::string, std::string>& a,
                                       const std::map<std::string, std::string>& b,
                                       const std::string& skip = "") {
  std::vector<std::string> names;
  for (const auto& [name, bytes] : a)
    if (name != skip && (!b.count(name) || b.at(name) != bytes)) names.push_back(name);
  for (const auto& [name, bytes] : b)
    if (name != skip && !a.count(name)) names.push_back(name);
  return names;
}

// Every file of a run directory that exists loads: the vocabularies and config.json, the best
// model (with finite weights), the resumable state (three tensors of the same size, a parsable
// state with a step) and each log line.
void expect_run_files_load(const std::string& dir) {
  SCOPED_TRACE("files of " + dir);
  EXPECT_NO_THROW(text::Vocab::load(dir + "/vocab.src.txt"));
  EXPECT_NO_THROW(text::Vocab::load(dir + "/vocab.trg.txt"));
  EXPECT_NO_THROW(model::ModelConfig::from_json(model::read_json_file(dir + "/config.json"),
                                                dir + "/config.json"));
  if (exists(dir + "/model.safetensors")) {
    try {
      const auto m = model::load_model(dir);
      EXPECT_EQ(non_finite(m.params.data(), m.params.size()), 0);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "model does not load: " << e.what();
    }
  }
  if (exists(dir + "/train_state.safetensors")) {
    try {
      const auto s = last_state(dir);
      EXPECT_FALSE(s.params.empty());
      EXPECT_EQ(s.m.size(), s.params.size());
      EXPECT_EQ(s.v.size(), s.params.size());
      EXPECT_EQ(non_finite(s.params) + non_finite(s.m) + non_finite(s.v), 0);
      EXPECT_GE(state_step(dir), 0);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "train_state does not load: " << e.what();
    }
  }
  if (exists(dir + "/log.jsonl")) {
    try {
      for (const auto& l : read_log(dir)) EXPECT_TRUE(l.at("train_loss").is_number());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "log.jsonl does not parse: " << e.what();
    }
  }
}

// A short parallel text (first lines of the validation set) for `nmt eval`.
void write_eval_pair(const std::string& src, const std::string& ref, int n = 4) {
  const auto de = text::read_lines(repo_path("data/multi30k/val.de.gz"));
  const auto en = text::read_lines(repo_path("data/multi30k/val.en.gz"));
  std::string s, r;
  for (int i = 0; i < n; ++i) s += de[i] + "\n", r += en[i] + "\n";
  write_file(src, s);
  write_file(ref, r);
}

// Checks the one-line error contract of the CLI and that the line mentions every needle.
void expect_one_line_error(const Outcome& o, const std::vector<std::string>& needles) {
  EXPECT_EQ(o.code(), 1) << o.describe();
  const auto lines = split_lines(o.err);
  ASSERT_EQ(lines.size(), 1u) << "stderr should be one line:\n" << o.err;
  EXPECT_EQ(lines[0].rfind("nmt: error: ", 0), 0u) << lines[0];
  for (const auto& n : needles)
    EXPECT_NE(lines[0].find(n), std::string::npos) << "'" << lines[0] << "' lacks '" << n << "'";
}

// A tmpfs mounted on dir for the lifetime of the object (root only).
class Tmpfs {
 public:
  Tmpfs(const std::string& dir, const std::string& options, unsigned long flags = 0) : dir_(dir) {
    fs::create_directories(dir);
    ok_ = ::mount("tmpfs", dir.c_str(), "tmpfs", flags, options.c_str()) == 0;
    if (!ok_) why_ = std::string("mount -t tmpfs failed: ") + std::strerror(errno);
  }
  ~Tmpfs() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }

 private:
  std::string dir_, why_;
  bool ok_ = false;
};

// ---------------------------------------------------------------------------------------------
// The uninterrupted reference run every interrupted run is compared with

class Reliability : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    ref_ = new Outcome(run_nmt(train_args(ref_dir(), kEpochs, false)));
  }
  static void TearDownTestSuite() {
    delete ref_;
    delete tmp_;
    ref_ = nullptr;
    tmp_ = nullptr;
  }
  static std::string ref_dir() { return *tmp_ / "reference"; }
  static void expect_reference_ok() {
    ASSERT_EQ(ref_->code(), 0) << "the reference run failed: " << ref_->describe();
  }

  // The finished run in dir equals the reference: best model byte for byte, last weights and
  // Adam moments bit for bit, per-epoch losses of log.jsonl exactly; and no temp file is left.
  static void expect_same_as_reference(const std::string& dir) { expect_same_run(dir, ref_dir()); }
  static void expect_same_run(const std::string& dir, const std::string& ref) {
    SCOPED_TRACE("compared with the uninterrupted run: " + dir);
    EXPECT_EQ(read_file(dir + "/model.safetensors"), read_file(ref + "/model.safetensors"))
        << "the best model differs from the uninterrupted run's";
    const auto a = last_state(dir), b = last_state(ref);
    EXPECT_TRUE(same_bits(a.params, b.params)) << "last weights differ";
    EXPECT_TRUE(same_bits(a.m, b.m)) << "Adam m differs";
    EXPECT_TRUE(same_bits(a.v, b.v)) << "Adam v differs";
    const auto la = read_log(dir), lb = read_log(ref);
    ASSERT_EQ(la.size(), lb.size()) << read_file(dir + "/log.jsonl");
    for (std::size_t i = 0; i < la.size(); ++i)
      for (const char* f : {"epoch", "step", "train_loss", "valid_loss", "valid_loss_free"})
        EXPECT_EQ(la[i].at(f), lb[i].at(f)) << f << " of epoch " << i + 1;
    EXPECT_EQ(files_ending(dir, ".tmp"), std::vector<std::string>{});
  }

  static TempDir* tmp_;
  static Outcome* ref_;
};
TempDir* Reliability::tmp_ = nullptr;
Outcome* Reliability::ref_ = nullptr;

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL at arbitrary points

TEST_F(Reliability, SigkillMidRunThenResumeIsBitIdentical) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  long saved = -1, reached = -1;
  // Three kills (epoch 1, early and late epoch 2), each followed by a resume that is killed in
  // turn; the last resume runs to the end.
  for (long target : {7L, 23L, 38L}) {
    SCOPED_TRACE("SIGKILL once step " + std::to_string(target) + " is printed");
    const bool resume = saved >= 0;
    Child c(train_args(dir, kEpochs, resume));
    const bool there = c.wait_until([&] { return printed_step(c.out()) >= target; });
    c.signal(SIGKILL);
    const Outcome o = c.wait();
    ASSERT_TRUE(there && o.killed_by(SIGKILL)) << "the run ended before the kill: " << o.describe();
    if (resume) {
      EXPECT_EQ(resumed_step(o.out), saved) << o.out;
    }
    reached = printed_step(o.out);
    expect_run_files_load(dir);
    ASSERT_TRUE(exists(dir + "/train_state.safetensors"));
    saved = state_step(dir);
    // At most --save-every steps are lost (and so repeated by the resume).
    EXPECT_LE(saved, reached);
    EXPECT_LE(reached - saved, kSaveEvery) << "state at step " << saved << ", printed " << reached;
    // Stale temp files (a kill in the middle of a write leaves one) must not matter.
    write_file(dir + "/train_state.safetensors.tmp", "stale half-written state");
    write_file(dir + "/model.safetensors.tmp", std::string(1000, '\0'));
  }
  const Outcome o = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(o.code(), 0) << o.describe();
  EXPECT_EQ(resumed_step(o.out), saved);
  EXPECT_LE(reached - resumed_step(o.out), kSaveEvery);
  expect_run_files_load(dir);
  expect_same_as_reference(dir);
  // The result is usable by the other commands.
  write_eval_pair(tmp / "src.de", tmp / "ref.en");
  const Outcome ev = run_nmt(
      {"eval", "--model", dir, "--src", tmp / "src.de", "--ref", tmp / "ref.en", "--threads", "1"});
  EXPECT_EQ(ev.code(), 0) << ev.describe();
  EXPECT_NE(ev.out.find("\"ppl\""), std::string::npos) << ev.out;
}

// The same at 2 threads, the count people use (scripts/run.sh, nmt bench): two uninterrupted
// runs are bit-identical, and a run SIGKILLed in epoch 2 and resumed equals them.
TEST_F(Reliability, SlowTwoThreadsSameSeedAndSigkillResumeAreBitIdentical) {
  TempDir tmp;
  const std::string data = repo_path("data/multi30k");
  auto args2 = [&](const std::string& out, bool resume) {
    return train_args(out, kEpochs, resume, {}, kSaveEvery, data, 2);
  };
  const Outcome a = run_nmt(args2(tmp / "a", false));
  ASSERT_EQ(a.code(), 0) << a.describe();
  ASSERT_NE(a.out.find(", 2 threads"), std::string::npos) << a.out;
  const Outcome b = run_nmt(args2(tmp / "b", false));
  ASSERT_EQ(b.code(), 0) << b.describe();
  expect_same_run(tmp / "b", tmp / "a");
  const std::string dir = tmp / "killed";
  {
    Child c(args2(dir, false));
    const bool there = c.wait_until([&] { return printed_step(c.out()) >= 27; });
    c.signal(SIGKILL);
    const Outcome o = c.wait();
    ASSERT_TRUE(there && o.killed_by(SIGKILL)) << "the run ended before the kill: " << o.describe();
  }
  const long saved = state_step(dir);
  EXPECT_GE(saved, 20);
  const Outcome r = run_nmt(args2(dir, true));
  ASSERT_EQ(r.code(), 0) << r.describe();
  EXPECT_EQ(resumed_step(r.out), saved);
  expect_same_run(dir, tmp / "a");
}

// ---------------------------------------------------------------------------------------------
// 2. SIGKILL while a checkpoint file is being written (writes slowed down by fault injection)

TEST_F(Reliability, SigkillDuringTheFirstStateWriteLeavesNothingToResume) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    Child c(train_args(dir, kEpochs, false),
            {{"NMT_FAULT_WRITE_DELAY_MS", "300"}, {"NMT_FAULT_WRITE_PATH", "train_state"}});
    ASSERT_TRUE(c.wait_until([&] { return exists(dir + "/train_state.safetensors.tmp"); }));
    c.signal(SIGKILL);
    ASSERT_TRUE(c.wait().killed_by(SIGKILL));
  }
  EXPECT_FALSE(exists(dir + "/train_state.safetensors"));
  EXPECT_FALSE(exists(dir + "/model.safetensors"));
  expect_run_files_load(dir);
  const Outcome r = run_nmt(train_args(dir, kEpochs, true));
  expect_one_line_error(r, {dir, "nothing to resume", "drop --resume"});
  // As the message says: the same command without --resume starts over (stale config, vocab
  // and half-written temp file notwithstanding) and gives the uninterrupted result.
  const Outcome o = run_nmt(train_args(dir, kEpochs, false));
  ASSERT_EQ(o.code(), 0) << o.describe();
  expect_same_as_reference(dir);
  // So does a fresh start after removing the directory.
  fs::remove_all(dir);
  ASSERT_EQ(run_nmt(train_args(dir, kEpochs, false)).code(), 0);
  expect_same_as_reference(dir);
}

TEST_F(Reliability, SigkillDuringALaterStateWriteResumesFromTheLastCompleteState) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    Child c(train_args(dir, kEpochs, false),
            {{"NMT_FAULT_WRITE_DELAY_MS", "300"}, {"NMT_FAULT_WRITE_PATH", "train_state"}});
    // The second save (step 10) is under way while the first one (step 5) is complete.
    ASSERT_TRUE(c.wait_until([&] {
      return exists(dir + "/train_state.safetensors") &&
             exists(dir + "/train_state.safetensors.tmp");
    }));
    c.signal(SIGKILL);
    ASSERT_TRUE(c.wait().killed_by(SIGKILL));
  }
  EXPECT_TRUE(exists(dir + "/train_state.safetensors.tmp"));
  expect_run_files_load(dir);
  EXPECT_EQ(state_step(dir), kSaveEvery);
  const Outcome o = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(o.code(), 0) << o.describe();
  EXPECT_EQ(resumed_step(o.out), kSaveEvery) << o.out;
  expect_same_as_reference(dir);
}

TEST_F(Reliability, SigkillDuringTheModelWriteKeepsThePreviousBestModel) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    Child c(train_args(dir, kEpochs, false),
            {{"NMT_FAULT_WRITE_DELAY_MS", "40"}, {"NMT_FAULT_WRITE_PATH", "model.safetensors"}});
    // Epoch 2's best model is being written over epoch 1's.
    ASSERT_TRUE(c.wait_until([&] {
      return exists(dir + "/model.safetensors") && exists(dir + "/model.safetensors.tmp");
    }));
    c.signal(SIGKILL);
    ASSERT_TRUE(c.wait().killed_by(SIGKILL));
  }
  expect_run_files_load(dir);
  EXPECT_EQ(state_step(dir), 40) << "the last periodic save before epoch 2's validation";
  EXPECT_EQ(read_log(dir).size(), 1u);
  write_eval_pair(tmp / "src.de", tmp / "ref.en");
  const Outcome ev = run_nmt(
      {"eval", "--model", dir, "--src", tmp / "src.de", "--ref", tmp / "ref.en", "--threads", "1"});
  EXPECT_EQ(ev.code(), 0) << ev.describe();
  const Outcome o = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(o.code(), 0) << o.describe();
  EXPECT_EQ(resumed_step(o.out), 40);
  expect_same_as_reference(dir);
}

TEST_F(Reliability, SigkillDuringTheLastLogWriteKeepsTheLogComplete) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  {
    Child c(train_args(dir, kEpochs, false),
            {{"NMT_FAULT_WRITE_DELAY_MS", "400"}, {"NMT_FAULT_WRITE_PATH", "log.jsonl"}});
    ASSERT_TRUE(c.wait_until([&] {
      return c.out().find("\nepoch 3 |") != std::string::npos && exists(dir + "/log.jsonl.tmp");
    }));
    c.signal(SIGKILL);
    ASSERT_TRUE(c.wait().killed_by(SIGKILL));
  }
  const Outcome o = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(o.code(), 0) << o.describe();
  expect_same_as_reference(dir);
}

// ---------------------------------------------------------------------------------------------
// 3. SIGINT / SIGTERM

TEST_F(Reliability, SigintAndSigtermSaveTheStateAndResumeIsBitIdentical) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  long saved = -1;
  for (const auto& [sig, target] : {std::pair{SIGINT, 25L}, std::pair{SIGTERM, 41L}}) {
    SCOPED_TRACE(std::string(strsignal(sig)) + " once step " + std::to_string(target) +
                 " is printed");
    Child c(train_args(dir, kEpochs, saved >= 0));
    ASSERT_TRUE(c.wait_until([&] { return printed_step(c.out()) >= target; }));
    c.signal(sig);
    const Outcome o = c.wait();
    ASSERT_EQ(o.code(), 130) << o.describe();
    if (saved >= 0) {
      EXPECT_EQ(resumed_step(o.out), saved);
    }
    EXPECT_EQ(o.err, "");
    const auto at = o.out.find("interrupted at step ");
    ASSERT_NE(at, std::string::npos) << o.out;
    const long step = std::stol(o.out.substr(at + 20));
    EXPECT_GE(step, target);
    EXPECT_NE(o.out.find("state saved; continue with\n  nmt train --out " + dir + " --resume\n"),
              std::string::npos)
        << o.out;
    expect_run_files_load(dir);
    EXPECT_EQ(state_step(dir), step) << "the interrupted step itself is saved: nothing is redone";
    EXPECT_EQ(files_ending(dir, ".tmp"), std::vector<std::string>{});
    saved = step;
  }
  const Outcome o = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(o.code(), 0) << o.describe();
  EXPECT_EQ(resumed_step(o.out), saved);
  expect_same_as_reference(dir);
}

TEST_F(Reliability, ResumeWithADifferentDataOrderIsRefusedOrUsesTheSavedOptions) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  ASSERT_EQ(run_nmt(train_args(dir, kEpochs, false, {"--max-steps", "25"})).code(), 0);
  auto args = train_args(dir, kEpochs, true);
  *(std::find(args.begin(), args.end(), "--seed") + 1) = "8";
  const Outcome o = run_nmt(args);
  if (o.code() == 0) {
    EXPECT_TRUE(same_bits(last_state(dir).params, last_state(ref_dir()).params))
        << "resumed with another seed than the run's (7) and silently diverged";
  } else {
    expect_one_line_error(o, {"--seed"});
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Disk full while saving

TEST_F(Reliability, DiskFullWhileSavingKeepsThePreviousFiles) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  for (const std::string part : {"model.safetensors", "train_state"}) {
    SCOPED_TRACE("ENOSPC on " + part);
    TempDir tmp;
    const std::string dir = tmp / "run";
    ASSERT_EQ(run_nmt(train_args(dir, 1, false)).code(), 0);
    const auto before = snapshot_files(dir);
    const Outcome o =
        run_nmt(train_args(dir, kEpochs, true),
                {{"NMT_FAULT_WRITE_FAIL_AFTER", "4096"}, {"NMT_FAULT_WRITE_PATH", part}});
    expect_one_line_error(o, {dir + "/" + part, ".tmp: write failed (No space left on device)"});
    EXPECT_EQ(files_ending(dir, ".tmp"), std::vector<std::string>{});
    expect_run_files_load(dir);
    // Epoch 1's best model is untouched; so is its state when the state write failed (at step
    // 25; with ENOSPC on the model the periodic states up to step 40 were written fine).
    EXPECT_EQ(read_file(dir + "/model.safetensors"), before.at("model.safetensors"));
    if (part == "train_state") {
      EXPECT_EQ(read_file(dir + "/train_state.safetensors"), before.at("train_state.safetensors"));
      EXPECT_EQ(changed_files(snapshot_files(dir), before), std::vector<std::string>{})
          << "nothing else changed either";
    } else {
      EXPECT_EQ(state_step(dir), 40);
    }
    EXPECT_EQ(read_file(dir + "/log.jsonl"), before.at("log.jsonl"));
    // Once there is space again, --resume finishes the run as if nothing had happened.
    const Outcome r = run_nmt(train_args(dir, kEpochs, true));
    ASSERT_EQ(r.code(), 0) << r.describe();
    expect_same_as_reference(dir);
  }
}

TEST_F(Reliability, DiskFullOnTheModelWriteKeepsConfigJsonMatchingTheWeights) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  ASSERT_EQ(run_nmt(train_args(dir, 1, false)).code(), 0);
  const Outcome o = run_nmt(
      train_args(dir, kEpochs, true),
      {{"NMT_FAULT_WRITE_FAIL_AFTER", "4096"}, {"NMT_FAULT_WRITE_PATH", "model.safetensors"}});
  ASSERT_EQ(o.code(), 1);
  EXPECT_EQ(model::read_json_file(dir + "/config.json").at("training").at("epoch"), 1);
}

TEST_F(Reliability, RealFullTmpfsWhileSavingKeepsThePreviousFiles) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a tmpfs needs root (euid " << ::geteuid() << ")";
  }
  TempDir tmp;
  const std::string seed = tmp / "seed";
  ASSERT_EQ(run_nmt(train_args(seed, 1, false)).code(), 0);
  const auto before = snapshot_files(seed);
  std::size_t pages = 0;
  for (const auto& [name, bytes] : before) pages += (bytes.size() + 4095) / 4096;
  // Room for epoch 1's files plus 64 KiB: too little for a new state (~490 KiB) or model
  // (~165 KiB) next to the old one.
  const std::string size = std::to_string((pages + 16) * 4) + "k";
  // The state write fails first (periodic save at step 25); then with --save-every 0 the model
  // write at the end of epoch 2.
  for (const auto& [save_every, failing] :
       {std::pair{kSaveEvery, std::string("train_state.safetensors")},
        std::pair{0L, std::string("model.safetensors")}}) {
    SCOPED_TRACE("--save-every " + std::to_string(save_every) + ", tmpfs size=" + size);
    const std::string mnt = tmp / ("mnt" + std::to_string(save_every));
    Tmpfs fs_(mnt, "size=" + size);
    if (!fs_.ok()) {
      GTEST_SKIP() << fs_.why();
    }
    const std::string dir = mnt + "/run";
    fs::copy(seed, dir, fs::copy_options::recursive);
    struct statvfs sv {};
    ASSERT_EQ(::statvfs(dir.c_str(), &sv), 0);
    ASSERT_LT((double)sv.f_bavail * sv.f_frsize, 160 * 1024.0) << "the tmpfs is not full enough";
    const Outcome o = run_nmt(train_args(dir, kEpochs, true, {}, save_every));
    expect_one_line_error(o, {dir + "/" + failing + ".tmp", "No space left on device"});
    EXPECT_EQ(files_ending(dir, ".tmp"), std::vector<std::string>{});
    // Epoch 1's files are untouched (but for config.json when the model write fails: see
    // DiskFullOnTheModelWriteKeepsConfigJsonMatchingTheWeights).
    EXPECT_EQ(changed_files(snapshot_files(dir), before,
                            failing == "model.safetensors" ? "config.json" : ""),
              std::vector<std::string>{});
    expect_run_files_load(dir);
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Non-finite loss

TEST_F(Reliability, NonFiniteLossStopsWithTheCheckpointIntact) {
  ASSERT_NO_FATAL_FAILURE(expect_reference_ok());
  TempDir tmp;
  const std::string dir = tmp / "run";
  ASSERT_EQ(run_nmt(train_args(dir, 1, false)).code(), 0);
  const auto before = snapshot_files(dir);
  // Adam's first step at lr 1e30 moves every weight by ~1e30: the next forward overflows.
  const Outcome o = run_nmt(train_args(dir, kEpochs, true, {"--lr", "1e30"}));
  expect_one_line_error(o, {"step 22: ", "stopped, the last saved checkpoint is intact"});
  const auto lines = split_lines(o.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines[0].find("NaN") != std::string::npos ||
              lines[0].find("Inf") != std::string::npos ||
              lines[0].find("not finite") != std::string::npos)
      << lines[0];
  EXPECT_EQ(changed_files(snapshot_files(dir), before), std::vector<std::string>{})
      << "the run's files changed";
  expect_run_files_load(dir);  // includes: every weight and Adam moment is finite
  // The good state resumes at the normal rate to the uninterrupted result.
  const Outcome r = run_nmt(train_args(dir, kEpochs, true));
  ASSERT_EQ(r.code(), 0) << r.describe();
  expect_same_as_reference(dir);
}

TEST_F(Reliability, NonFiniteWeightsAreNeverSaved) {
  TempDir tmp;
  const std::string dir = tmp / "run";
  ASSERT_EQ(run_nmt(train_args(dir, 1, false)).code(), 0);
  // Poison the saved state so that the next Adam step overflows a weight for real, while the
  // loss and the gradient stay finite (so only the after-the-update guard can see it): <eos>'s
  // output bias at 3.3e38 under <pad>'s at FLT_MAX (<pad> is never a target). Every <eos> target
  // then has p(<eos>) = 0 and a gradient of -1 on that bias; from fresh Adam moments the step
  // moves it up by about lr / 2, and 3.3e38 + 5e37 is +inf. The loss is ~3.4e38 per token, summed
  // in double: finite.
  const std::string state_path = dir + "/train_state.safetensors";
  {
    const auto st = model::SafeTensors::load(state_path);
    auto params = st.f32("params"), m = st.f32("adam.m"), v = st.f32("adam.v");
    const auto cfg = model::ModelConfig::from_json(model::read_json_file(dir + "/config.json"), "");
    std::size_t bias = 0;
    for (const auto& p : model::param_table(cfg))
      if (p.name == "decoder.fc_out.bias") bias = p.offset;
    ASSERT_GT(bias, 0u);
    params[bias + text::EOS] = 3.3e38f;
    params[bias + text::PAD] = std::numeric_limits<float>::max();
    m[bias + text::EOS] = v[bias + text::EOS] = 0.0f;
    const std::vector<std::int64_t> shape{(std::int64_t)params.size()};
    model::save_safetensors(state_path,
                            {{"params", "F32", shape, params.data()},
                             {"adam.m", "F32", shape, m.data()},
                             {"adam.v", "F32", shape, v.data()}},
                            st.metadata());
  }
  const std::string poisoned = read_file(state_path), best = read_file(dir + "/model.safetensors");
  const Outcome o = run_nmt(train_args(dir, kEpochs, true, {"--lr", "1e38"}, 1));
  EXPECT_NE(o.code(), 0) << o.describe();
  EXPECT_NE(o.err.find("step 21: weights are not finite after the update"), std::string::npos)
      << o.describe();
  EXPECT_EQ(read_file(state_path), poisoned) << "the state file was rewritten";
  EXPECT_EQ(read_file(dir + "/model.safetensors"), best) << "the best checkpoint was rewritten";
}

// ---------------------------------------------------------------------------------------------
// 6. Over-long, empty and whitespace-only lines

TEST_F(Reliability, TrainingCorpusWithOverLongEmptyAndBlankLines) {
  TempDir tmp;
  const std::string data = tmp / "data";
  fs::create_directories(data);
  const auto de = text::read_lines(repo_path("data/multi30k/train.de.gz"));
  const auto en = text::read_lines(repo_path("data/multi30k/train.en.gz"));
  const auto vde = text::read_lines(repo_path("data/multi30k/val.de.gz"));
  const auto ven = text::read_lines(repo_path("data/multi30k/val.en.gz"));
  // A 10,000-token pair made of the words of the corpus's first pair.
  auto long_line = [](const std::string& sentence) {
    std::vector<std::string> words;
    for (std::size_t start = 0, sp; start < sentence.size(); start = sp + 1) {
      sp = std::min(sentence.find(' ', start), sentence.size());
      if (sp > start) words.push_back(sentence.substr(start, sp - start));
    }
    std::string s;
    for (int n = 0; n < 10000; ++n) s += (n ? " " : "") + words[n % words.size()];
    return s;
  };
  std::string tde, ten;
  for (int i = 0; i < 300; ++i) {
    tde += de[i] + "\n";
    ten += en[i] + "\n";
    if (i == 10) tde += long_line(de[0]) + "\n", ten += long_line(en[0]) + "\n";
    if (i == 20) tde += "\n", ten += "\n";            // both empty
    if (i == 30) tde += "   \n", ten += "a dog .\n";  // one side blank
    if (i == 40) tde += "\t \r\n", ten += " \t\n";    // whitespace only (and CRLF)
    if (i == 50) tde += "ein hund .\n", ten += "\n";  // the other side empty
  }
  write_file(data + "/train.de", tde);
  write_file(data + "/train.en", ten);
  std::string sde, sen;
  for (int i = 0; i < 32; ++i) sde += vde[i] + "\n", sen += ven[i] + "\n";
  write_file(data + "/val.de", sde);
  write_file(data + "/val.en", sen);

  const std::string dir = tmp / "run";
  const Outcome o = run_nmt(train_args(dir, 1, false, {}, kSaveEvery, data));
  ASSERT_EQ(o.code(), 0) << o.describe();
  EXPECT_EQ(o.err, "");
  EXPECT_NE(o.out.find("data: 301 training pairs (4 empty skipped, 2 sentences truncated to 100), "
                       "32 validation pairs\n"),
            std::string::npos)
      << o.out;
  expect_run_files_load(dir);
  const auto log = read_log(dir);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(std::isfinite(log[0].at("train_loss").get<double>()));
  // A shorter --max-len truncates more (both sides of the long pair count).
  const Outcome o2 =
      run_nmt(train_args(tmp / "run2", 1, false, {"--max-len", "12"}, kSaveEvery, data));
  ASSERT_EQ(o2.code(), 0) << o2.describe();
  EXPECT_NE(o2.out.find("sentences truncated to 12)"), std::string::npos) << o2.out;
}

TEST_F(Reliability, TranslateOverLongEmptyAndBlankLines) {
  TempDir tmp;
  const std::string model = repo_path("tests/golden/tiny_ckpt");
  auto translate = [&](const std::string& input, const std::vector<std::string>& extra = {}) {
    write_file(tmp / "in.txt", input);
    std::vector<std::string> args{"translate", "--model", model, "--threads", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_nmt(args, {}, tmp / "in.txt");
  };
  // 10,000 tokens of the golden model's source vocabulary (s4 .. s39).
  std::string long_line, first200;
  for (int i = 0; i < 10000; ++i) {
    const std::string sep = i ? " " : "", w = std::to_string(4 + (i * 7) % 36);
    long_line += sep + 's' + w;
    if (i < 200) first200 += sep + 's' + w;
  }
  const Outcome alone = translate(long_line + "\n");
  ASSERT_EQ(alone.code(), 0) << alone.describe();
  ASSERT_EQ(split_lines(alone.out).size(), 1u);
  EXPECT_EQ(alone.err, "nmt: warning: input line 1 has 10000 tokens; translating the first 200\n");
  // Truncation means: the translation of the first 200 tokens.
  EXPECT_EQ(translate(first200 + "\n").out, alone.out);
  const Outcome short50 = translate(long_line + "\n", {"--max-src-len", "50"});
  EXPECT_EQ(short50.code(), 0);
  EXPECT_NE(short50.err.find("10000 tokens; translating the first 50"), std::string::npos)
      << short50.err;

  // Mixed with empty and whitespace-only lines: alignment is kept, blank lines stay empty.
  const std::vector<std::string> in{"s4 s5 s6", long_line, "", "   ", "\t", "s7 s8", " \t ", "\r"};
  std::string text;
  for (const auto& l : in) text += l + "\n";
  for (const std::string beam : {"1", "3"}) {
    SCOPED_TRACE("--beam " + beam);
    const Outcome o = translate(text, {"--beam", beam});
    ASSERT_EQ(o.code(), 0) << o.describe();
    const auto out = split_lines(o.out);
    ASSERT_EQ(out.size(), in.size()) << o.out;
    for (int i : {2, 3, 4, 6, 7}) EXPECT_EQ(out[i], "") << "line " << i + 1;
    for (int i : {0, 1, 5}) {
      EXPECT_NE(out[i], "") << "line " << i + 1;
      EXPECT_EQ(translate(in[i] + "\n", {"--beam", beam}).out, out[i] + "\n")
          << "line " << i + 1 << " differs from its translation alone";
    }
    EXPECT_EQ(o.err, "nmt: warning: input line 2 has 10000 tokens; translating the first 200\n");
  }
  // One 1 MB "word" (a single token, <unk>): no warning needed, one line out.
  const Outcome big = translate(std::string(1 << 20, 'x') + "\n");
  EXPECT_EQ(big.code(), 0) << big.describe();
  EXPECT_EQ(split_lines(big.out).size(), 1u);
}

TEST_F(Reliability, TruncationWarningNamesTheInputLineAcrossBatches) {
  TempDir tmp;
  std::string long_line;
  for (int i = 0; i < 300; ++i) {
    if (i) long_line += ' ';
    long_line += 's' + std::to_string(4 + i % 36);
  }
  write_file(tmp / "in.txt", "s4\ns5\ns6\n" + long_line + "\n");
  const Outcome o = run_nmt({"translate", "--model", repo_path("tests/golden/tiny_ckpt"),
                             "--threads", "1", "--batch", "2", "--input", tmp / "in.txt"});
  EXPECT_EQ(o.code(), 0);
  EXPECT_EQ(o.err, "nmt: warning: input line 4 has 300 tokens; translating the first 200\n");
}

// ---------------------------------------------------------------------------------------------
// 7. Output that cannot be written

TEST_F(Reliability, UnwritableOutputDirectoryIsAOneLineError) {
  TempDir tmp;
  {
    const Outcome o = run_nmt(train_args("/proc/nmt-test", 1, false));
    expect_one_line_error(o, {"/proc/nmt-test: cannot create output directory ("});
    EXPECT_FALSE(exists("/proc/nmt-test"));
  }
  write_file(tmp / "file", "x");
  {
    const Outcome o = run_nmt(train_args(tmp / "file/run", 1, false));
    expect_one_line_error(o,
                          {tmp / "file/run", "cannot create output directory (Not a directory)"});
  }
  {
    const Outcome o = run_nmt(train_args(tmp / "file", 1, false));
    expect_one_line_error(o, {tmp / "file", "cannot create output directory"});
    EXPECT_EQ(read_file(tmp / "file"), "x");
  }
  // A read-only file system (root can write anywhere else; the existing read-only directory
  // tests skip as root).
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a read-only tmpfs needs root";
  }
  Tmpfs ro(tmp / "ro", "size=64k", MS_RDONLY);
  if (!ro.ok()) {
    GTEST_SKIP() << ro.why();
  }
  {
    const Outcome o = run_nmt(train_args(tmp / "ro", 1, false));
    expect_one_line_error(o, {tmp / "ro", "output directory is not writable"});
  }
  {
    const Outcome o = run_nmt(train_args(tmp / "ro/run", 1, false));
    expect_one_line_error(o, {tmp / "ro/run", "Read-only file system"});
  }
}

TEST_F(Reliability, TranslateToAFullDiskFails) {
  TempDir tmp;
  write_file(tmp / "in.txt", "s4 s5\n");
  Child c({"translate", "--model", repo_path("tests/golden/tiny_ckpt"), "--threads", "1"}, {},
          tmp / "in.txt", "/dev/full");
  const Outcome o = c.wait();
  expect_one_line_error(o, {"No space left on device"});
}
