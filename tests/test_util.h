#pragma once
// Shared helpers for the layer, checkpoint, training, decoding and CLI test suites: temporary
// directories, file I/O, a tiny random model with a synthetic vocabulary, random batches,
// central-difference gradient checks and running the `nmt` binary.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/rng.h"
#include "model/checkpoint.h"
#include "model/params.h"
#include "text/batch.h"
#include "text/vocab.h"

namespace nmt::testing {

namespace fs = std::filesystem;

// Absolute path of a file in the source tree (tests also run from other directories).
inline std::string repo_path(const std::string& rel) {
#ifdef NMT_SOURCE_DIR
  return std::string(NMT_SOURCE_DIR) + "/" + rel;
#else
  return rel;
#endif
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/nmt_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    // Make everything writable again so that a chmod'ed test directory can be removed.
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Makes an existing directory unwritable for this process while the object lives: chmod 0500 for
// an ordinary user; as root, whom permissions do not stop, a read-only bind mount of the
// directory onto itself (so the tests that need an unwritable directory run as root too).
class ReadOnlyDir {
 public:
  explicit ReadOnlyDir(const std::string& dir) : dir_(dir) {
    if (::geteuid() != 0) {
      if (::chmod(dir.c_str(), 0500) != 0) why_ = std::string("chmod: ") + std::strerror(errno);
      chmodded_ = why_.empty();
    } else if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      why_ = std::string("bind mount: ") + std::strerror(errno);
    } else {
      mounted_ = true;
      if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
        why_ = std::string("read-only remount: ") + std::strerror(errno);
    }
    if (why_.empty() && ::access(dir.c_str(), W_OK) == 0) why_ = "the directory stays writable";
  }
  ~ReadOnlyDir() { release(); }
  ReadOnlyDir(const ReadOnlyDir&) = delete;
  ReadOnlyDir& operator=(const ReadOnlyDir&) = delete;
  // Empty when the directory is unwritable now; else why not.
  const std::string& why() const { return why_; }
  void release() {
    if (chmodded_) ::chmod(dir_.c_str(), 0700);
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    chmodded_ = mounted_ = false;
  }

 private:
  std::string dir_, why_;
  bool chmodded_ = false, mounted_ = false;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << contents;
  if (!f) throw std::runtime_error("cannot write " + path);
}

// Files in dir whose name ends with suffix.
inline std::vector<std::string> files_ending(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> r;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      r.push_back(name);
  }
  return r;
}

// The message of the nmt::Error that fn throws ("" and a test failure when it throws none).
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const nmt::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected nmt::Error";
  return "";
}

// Runs f, expecting an nmt::Error whose message contains every string of `needles`.
// Returns the message (empty when nothing was thrown).
template <typename F>
std::string expect_error(F&& f, const std::vector<std::string>& needles) {
  try {
    f();
  } catch (const nmt::Error& e) {
    const std::string msg = e.what();
    for (const auto& n : needles)
      EXPECT_NE(msg.find(n), std::string::npos) << "message '" << msg << "' lacks '" << n << "'";
    return msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected nmt::Error, got another exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an nmt::Error mentioning '" << (needles.empty() ? "" : needles[0])
                << "'";
  return "";
}

// ---------------------------------------------------------------------------------------------
// Random numbers and tiny models

inline void fill_uniform(Rng& rng, float* x, std::size_t n, float lo, float hi) {
  for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * rng.uniform();
}
inline std::vector<float> uniform_vec(Rng& rng, std::size_t n, float lo = -0.5f, float hi = 0.5f) {
  std::vector<float> v(n);
  fill_uniform(rng, v.data(), n, lo, hi);
  return v;
}

// A vocabulary of the 4 specials and `words` synthetic tokens w0, w1, ...
inline text::Vocab synthetic_vocab(int words, const std::string& prefix = "w") {
  std::vector<std::vector<std::string>> sents(1);
  for (int i = 0; i < words; ++i) sents[0].push_back(prefix + std::to_string(i));
  return text::Vocab::build(sents, 1);
}

inline model::ModelConfig tiny_config(int Vs = 23, int Vt = 19, int E = 6, int H = 5, int D = 7) {
  model::ModelConfig c;
  c.src_vocab_size = Vs;
  c.trg_vocab_size = Vt;
  c.emb_dim = E;
  c.enc_hid_dim = H;
  c.dec_hid_dim = D;
  c.dropout = 0.5f;
  return c;
}

// A tiny model with weights ~ U(-scale, scale) and random biases (the design init N(0, 0.01) with
// zero biases is too flat for meaningful gradient and decoding checks).
inline model::Model tiny_model(const model::ModelConfig& c, std::uint64_t seed,
                               float scale = 0.5f) {
  auto m = model::Model::create(c, synthetic_vocab(c.src_vocab_size - 4, "s"),
                                synthetic_vocab(c.trg_vocab_size - 4, "t"), seed);
  Rng rng(seed * 7919 + 11);
  for (const auto& p : model::param_table(c))
    fill_uniform(rng, m.params.data() + p.offset, p.size, -scale, scale);
  return m;
}

// A framed random sentence <sos> w... <eos> of `len` ids in total (len >= 2), words >= 4.
inline std::vector<int> random_sentence(Rng& rng, int len, int vocab) {
  std::vector<int> s{text::SOS};
  for (int i = 0; i < len - 2; ++i) s.push_back(4 + (int)rng.below(vocab - 4));
  s.push_back(text::EOS);
  return s;
}

// Sentence pairs of the given (source, target) lengths and the batch of all of them.
struct Pairs {
  std::vector<std::vector<int>> src, trg;
  text::Batch batch(const std::vector<std::size_t>& idx) const {
    return text::make_batch(src, trg, idx);
  }
  text::Batch all() const {
    std::vector<std::size_t> idx(src.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    return batch(idx);
  }
};
inline Pairs random_pairs(Rng& rng, const model::ModelConfig& c,
                          const std::vector<std::pair<int, int>>& lengths) {
  Pairs p;
  for (auto [ls, lt] : lengths) {
    p.src.push_back(random_sentence(rng, ls, c.src_vocab_size));
    p.trg.push_back(random_sentence(rng, lt, c.trg_vocab_size));
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Central-difference gradient checks

struct GradCheckResult {
  int checked = 0, failed = 0;
  double worst = 0;   // largest |fd - analytic| / max(|fd| + |analytic|, floor)
  std::string first;  // description of the first failure
};

// The floor of the relative error's denominator for float32 objectives. A probe x_i +- eps
// changes only the values that depend on x_i; each is rounded to float (relative 2^-24 = 6e-8,
// times a few operations and the fast exp/tanh's ~2e-7), so with O(1) activations a layer's
// difference quotient carries noise of about 1e-7 / (2 eps) = 5e-6 at eps = 1e-2. With the
// floor 1e-2 and rtol 2e-3 a gradient below 1e-2 is held to an absolute 2e-5 (4x that noise,
// not 2e-2 as before), so a gradient returned as 0 fails once its true value exceeds 2e-5, and
// a gradient off by 1% fails (relative error 0.01 / 2.01 = 5e-3 on |fd| + |an|). The double
// equivalent would be ~1e-3 at eps ~1e-5; float cannot resolve that. Checks whose probe moves
// many float values at once (the whole training graph) pass their own, larger floor.
inline constexpr double kFdFloor = 1e-2;

// For each index i of idx: fd = (f(x_i + eps) - f(x_i - eps)) / 2 eps, compared with analytic[i]
// by |fd - analytic| <= rtol * max(|fd| + |analytic|, floor): a relative error for ordinary
// gradients, an absolute one (rtol * floor) for tiny ones, and a wrong sign or a zeroed entry
// gives an error of 1. f re-runs the forward pass and returns the scalar objective; x is
// restored after each probe.
inline GradCheckResult check_gradient(const std::function<double()>& f, float* x,
                                      const float* analytic, const std::vector<std::size_t>& idx,
                                      float eps, double rtol = 2e-3, const std::string& what = "",
                                      double floor = kFdFloor) {
  GradCheckResult r;
  for (std::size_t i : idx) {
    const float saved = x[i];
    x[i] = saved + eps;
    const double fp = f();
    x[i] = saved - eps;
    const double fm = f();
    x[i] = saved;
    // The actual step in float arithmetic, not eps itself.
    const double h = (double)(saved + eps) - (double)(saved - eps);
    const double fd = (fp - fm) / h;
    const double err =
        std::fabs(fd - analytic[i]) / std::max(floor, std::fabs(fd) + std::fabs(analytic[i]));
    r.worst = std::max(r.worst, err);
    ++r.checked;
    if (err > rtol) {
      if (!r.failed) {
        std::ostringstream os;
        os << what << "[" << i << "]: finite difference " << fd << " vs analytic " << analytic[i]
           << " (error " << err << " > " << rtol << ")";
        r.first = os.str();
      }
      ++r.failed;
    }
  }
  return r;
}

inline std::vector<std::size_t> all_indices(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// sum(out ⊙ R) in double over `rows` rows of `cols` values with row stride ld.
inline double dot_objective(const float* out, const float* R, int rows, int cols, int ld) {
  double s = 0;
  for (int i = 0; i < rows; ++i)
    for (int k = 0; k < cols; ++k) s += (double)out[(std::size_t)i * ld + k] * R[i * cols + k];
  return s;
}

// ---------------------------------------------------------------------------------------------
// Running the nmt binary

struct CmdResult {
  int status = -1;  // exit status (or -1 when killed by a signal)
  std::string out, err;
};

// Runs a shell command line with stdout and stderr captured into files of a temp dir.
inline CmdResult run_shell(const std::string& cmd) {
  TempDir tmp;
  const std::string out = tmp / "stdout", err = tmp / "stderr";
  const std::string full = "( " + cmd + " ) >'" + out + "' 2>'" + err + "'";
  const int rc = std::system(full.c_str());
  CmdResult r;
  r.status = (rc != -1 && WIFEXITED(rc)) ? WEXITSTATUS(rc) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::string nmt_binary() {
#ifdef NMT_BINARY
  return NMT_BINARY;
#else
  return "nmt";
#endif
}

inline std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(s.substr(start, nl - start));
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

}  // namespace nmt::testing
