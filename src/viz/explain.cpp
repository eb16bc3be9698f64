#include "viz/explain.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "decode/translator.h"
#include "model/params.h"

namespace nmt::viz {

namespace {

constexpr int kShow = 6;  // values shown per vector

std::string shape_text(const std::vector<long>& shape) {
  std::string s;
  for (long d : shape) s += (s.empty() ? "" : " x ") + std::to_string(d);
  return "[" + s + "]";
}

// Prints sections (or, with --json, only records their names and shapes).
class Report {
 public:
  explicit Report(bool json) : json_(json) {}
  void section(const std::string& name, const std::string& title, const std::vector<long>& shape) {
    tensors_.push_back({{"name", name}, {"shape", shape}});
    print("\n== %s  %s ==\n", title.c_str(), shape_text(shape).c_str());
  }
  void heading(const std::string& title) { print("\n#### %s\n", title.c_str()); }
  __attribute__((format(printf, 2, 3))) void print(const char* fmt, ...) {
    if (json_) return;
    va_list ap;
    va_start(ap, fmt);
    std::vprintf(fmt, ap);
    va_end(ap);
  }
  void text(const std::string& s) { print("%s", s.c_str()); }
  bool json() const { return json_; }
  nlohmann::json& tensors() { return tensors_; }

 private:
  bool json_;
  nlohmann::json tensors_ = nlohmann::json::array();
};

// n values in one style: fixed point, or scientific when they are all tiny.
std::string values(const float* x, int n) {
  float mx = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::isfinite(x[i])) mx = std::max(mx, std::fabs(x[i]));
  const bool sci = mx > 0.0f && mx < 1e-2f;
  std::string s;
  char buf[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, sci ? " %+.3e" : " %+.4f", x[i]);
    s += buf;
  }
  return s + (n > 0 ? " ..." : "");
}

// A small matrix with row/column labels; tiny values share one printed power of ten.
std::string matrix(const float* x, int rows, int cols, const std::string& row_name,
                   const std::string& col_name, int decimals = 3) {
  float mx = 0.0f;
  for (int i = 0; i < rows * cols; ++i)
    if (std::isfinite(x[i])) mx = std::max(mx, std::fabs(x[i]));
  int exp10 = 0;
  if (mx > 0.0f && mx < 1e-2f) exp10 = (int)std::floor(std::log10(mx));
  const double scale = std::pow(10.0, -exp10);
  const int width = decimals + 4;
  std::string s;
  char buf[64];
  if (exp10 != 0) {
    std::snprintf(buf, sizeof buf, "(values x 1e%d)\n", exp10);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "%5s", "");
  s += buf;
  for (int j = 0; j < cols; ++j) {
    std::snprintf(buf, sizeof buf, " %*s", width, (col_name + std::to_string(j)).c_str());
    s += buf;
  }
  s += "\n";
  for (int i = 0; i < rows; ++i) {
    std::snprintf(buf, sizeof buf, "%5s", (row_name + std::to_string(i)).c_str());
    s += buf;
    for (int j = 0; j < cols; ++j) {
      std::snprintf(buf, sizeof buf, " %*.*f", width, decimals,
                    x[(std::size_t)i * cols + j] * scale);
      s += buf;
    }
    s += "\n";
  }
  return s;
}

std::string id_matrix(const std::vector<int>& ids, int rows, int cols) {
  std::string s = "     ";
  char buf[32], label[16];
  for (int j = 0; j < cols; ++j) {
    std::snprintf(label, sizeof label, "b%d", j);
    std::snprintf(buf, sizeof buf, " %5s", label);
    s += buf;
  }
  s += "\n";
  for (int i = 0; i < rows; ++i) {
    std::snprintf(label, sizeof label, "t%d", i);
    std::snprintf(buf, sizeof buf, "%5s", label);
    s += buf;
    for (int j = 0; j < cols; ++j) {
      std::snprintf(buf, sizeof buf, " %5d", ids[(std::size_t)i * cols + j]);
      s += buf;
    }
    s += "\n";
  }
  return s;
}

std::string grouped(std::size_t n) {
  const std::string digits = std::to_string(n);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string join(const std::vector<std::string>& toks) {
  std::string s;
  for (const auto& t : toks) s += (s.empty() ? "" : " ") + t;
  return s;
}

// The trace of one batch: the encoder, and the first decoder step by sentence (the batch's own
// column order; the translator works longest sentence first).
class FirstStep : public decode::TraceSink {
 public:
  FirstStep(int B, int S, int D, int C, int E, int V) : B_(B), S_(S), D_(D), C_(C), E_(E), V_(V) {}
  void encoder(const model::Encoder& enc, const std::vector<int>& order) override {
    enc_ = &enc;
    col_.assign(B_, 0);
    for (int i = 0; i < (int)order.size(); ++i) col_[order[i]] = i;
    for (auto* v : {&q, &energy, &scores, &attn, &ctx, &emb, &s1, &logits}) v->clear();
  }
  void step(const decode::StepTrace& s) override {
    if (s.t != 0) return;
    q.resize((std::size_t)B_ * D_), energy.resize((std::size_t)B_ * S_ * D_);
    scores.resize((std::size_t)B_ * S_), attn.resize((std::size_t)B_ * S_);
    ctx.resize((std::size_t)B_ * C_), emb.resize((std::size_t)B_ * E_);
    s1.resize((std::size_t)B_ * D_), logits.resize((std::size_t)B_ * V_);
    const auto& b = *s.buf;
    for (int r = 0; r < s.n; ++r) {
      const int to = sentence(s.cols[r]);
      copy_row(b.q, r, D_, q, to);
      copy_row(b.energy, r, S_ * D_, energy, to);
      copy_row(b.scores, r, S_, scores, to);
      copy_row(b.attn, r, S_, attn, to);
      copy_row(b.ctx, r, C_, ctx, to);
      std::memcpy(emb.data() + (std::size_t)to * E_, b.x + (std::size_t)r * (E_ + C_),
                  sizeof(float) * E_);  // x = [e ; w]
      copy_row(s.s_new, r, D_, s1, to);
      copy_row(b.logits, r, V_, logits, to);
    }
  }
  bool wants_energies() const override { return true; }
  // The encoder's column of sentence b, and views by sentence.
  int col(int b) const { return col_[b]; }
  int sentence(int column) const {
    return (int)(std::find(col_.begin(), col_.end(), column) - col_.begin());
  }
  const model::Encoder& enc() const { return *enc_; }
  const float* X(int t, int b) const { return enc_->X.data() + ((std::size_t)t * B_ + col_[b]) * E_; }
  const float* Hs(int t, int b) const {
    return enc_->outputs.data() + ((std::size_t)t * B_ + col_[b]) * C_;
  }
  const float* hcat(int b) const { return enc_->hcat.data() + (std::size_t)col_[b] * C_; }
  const float* s0(int b) const { return enc_->s0.data() + (std::size_t)col_[b] * D_; }
  std::vector<float> q, energy, scores, attn, ctx, emb, s1, logits;  // by sentence

 private:
  static void copy_row(const float* from, int r, int width, std::vector<float>& to, int b) {
    std::memcpy(to.data() + (std::size_t)b * width, from + (std::size_t)r * width,
                sizeof(float) * width);
  }
  int B_, S_, D_, C_, E_, V_;
  const model::Encoder* enc_ = nullptr;
  std::vector<int> col_;
};

struct Sizes {
  int E, H, D, C, Vs, Vt, B, S, T;
};

struct Checks {
  nlohmann::json row_sums = nlohmann::json::array();
  double attn_pad_max = 0.0, softmax_diff = 0.0;
  float pad_max = 0.0f;
  bool h_n_matches = false;
};

void print_header(Report& r, const model::Model& m, const ExplainInput& in, const Sizes& z) {
  r.print("nmt explain: the seed walkthrough on a real batch (design §2)\n");
  r.print("model: %s\n", in.origin.c_str());
  r.print("sizes: E = %d, H = %d per direction, D = %d, Vs = %d, Vt = %d\n", z.E, z.H, z.D, z.Vs,
          z.Vt);
  r.print("batch: the first %d pairs of %s (train): B = %d, S = %d, T = %d\n", z.B, in.data.c_str(),
          z.B, z.S, z.T);
  for (int b = 0; b < z.B; ++b)
    r.print("  b%d  %s\n      %s\n", b, join(m.src_codec->tokenize(in.src_text[b])).c_str(),
            join(m.trg_codec->tokenize(in.trg_text[b])).c_str());
}

void print_encoder(Report& r, const model::Model& m, const ExplainInput& in, const FirstStep& f,
                   const Sizes& z, Checks& checks) {
  const auto& batch = in.batch;
  const int S = z.S, B = z.B, E = z.E, H = z.H, C = z.C;
  r.heading("1. Encoder");
  r.section("src_ids", "source ids (one column per sentence)", {S, B});
  r.text(id_matrix(batch.src, S, B));
  r.print("row 0 is all <sos> = %d, each column ends with <eos> = %d, padding <pad> = %d\n",
          text::SOS, text::EOS, text::PAD);
  r.section("embedded", "embeddings X = Emb_src[src]", {S, B, E});
  r.print("(dropout is off here, as when translating; training drops with p = %.1f)\n",
          m.config.dropout);
  for (int t = 0; t < std::min(S, 3); ++t)
    r.print("X[%d,0,:%d] %-12s%s\n", t, kShow,
            ("(" + m.src_vocab.token(batch.src[(std::size_t)t * B]) + ")").c_str(),
            values(f.X(t, 0), std::min(kShow, E)).c_str());
  r.section("encoder_outputs", "encoder outputs Hs = [h_fwd ; h_bwd]", {S, B, C});
  r.print("Hs[0,0,0:%d]     (forward)  %s\n", kShow, values(f.Hs(0, 0), std::min(kShow, H)).c_str());
  r.print("Hs[0,0,%d:%d] (backward) %s\n", H, H + kShow,
          values(f.Hs(0, 0) + H, std::min(kShow, H)).c_str());
  int pad_b = -1;
  for (int b = 0; b < B; ++b)
    for (int t = batch.src_lengths[b]; t < S; ++t) {
      if (pad_b < 0) pad_b = b;
      for (int k = 0; k < C; ++k) checks.pad_max = std::max(checks.pad_max, std::fabs(f.Hs(t, b)[k]));
    }
  if (pad_b >= 0)
    r.print(
        "padding positions are zero (e.g. Hs[%d,%d,:], sentence b%d has %d ids): max |Hs| "
        "over all pad positions = %g\n",
        S - 1, pad_b, pad_b, batch.src_lengths[pad_b], checks.pad_max);
  r.section("h_n", "final states h_n (forward after the last token, backward after the first)",
            {2, B, H});
  const float* hc = f.hcat(0);
  const int last0 = batch.src_lengths[0] - 1;
  const bool fwd_eq = std::memcmp(hc, f.Hs(last0, 0), sizeof(float) * H) == 0;
  const bool bwd_eq = std::memcmp(hc + H, f.Hs(0, 0) + H, sizeof(float) * H) == 0;
  checks.h_n_matches = fwd_eq && bwd_eq;
  r.print("h_n[0,0,:%d] %s   = Hs[%d,0,0:%d]: %s\n", kShow, values(hc, std::min(kShow, H)).c_str(),
          last0, H, fwd_eq ? "yes" : "NO");
  r.print("h_n[1,0,:%d] %s   = Hs[0,0,%d:%d]: %s\n", kShow,
          values(hc + H, std::min(kShow, H)).c_str(), H, C, bwd_eq ? "yes" : "NO");
  r.section("s0", "decoder initial state s0 = tanh(W_fc [h_n[0] ; h_n[1]] + b_fc)", {B, z.D});
  for (int b = 0; b < 2; ++b)
    r.print("s0[%d,:%d] %s\n", b, kShow, values(f.s0(b), std::min(kShow, z.D)).c_str());
}

// Row sums of the attention, its largest weight on padding, and how far it is from
// softmax(scores) (computed here in double as a check of the kernel).
void attention_checks(const FirstStep& f, const text::Batch& batch, const Sizes& z,
                      Checks& checks) {
  const int S = z.S;
  for (int b = 0; b < z.B; ++b) {
    const float* a = f.attn.data() + (std::size_t)b * S;
    const float* sc = f.scores.data() + (std::size_t)b * S;
    const int len = batch.src_lengths[b];
    double sum = 0.0, mx = -INFINITY;
    for (int j = 0; j < S; ++j) {
      sum += a[j];
      if (j >= len) checks.attn_pad_max = std::max(checks.attn_pad_max, (double)std::fabs(a[j]));
    }
    for (int j = 0; j < len; ++j) mx = std::max(mx, (double)sc[j]);
    double zsum = 0.0;
    for (int j = 0; j < len; ++j) zsum += std::exp(sc[j] - mx);
    for (int j = 0; j < len; ++j)
      checks.softmax_diff =
          std::max(checks.softmax_diff, std::fabs(std::exp(sc[j] - mx) / zsum - a[j]));
    checks.row_sums.push_back(sum);
  }
}

void print_attention(Report& r, const ExplainInput& in, const FirstStep& f, const Sizes& z,
                     Checks& checks) {
  const int B = z.B, S = z.S, D = z.D, C = z.C;
  r.heading("2. Attention (first decoder step, previous state s0)");
  r.section("energy", "attention energy = tanh(W_att [s0 ; Hs_j] + b_att)", {B, S, D});
  r.print("(W_h Hs_j + b_att is computed once per batch; each step adds W_s s only)\n");
  for (int j = 0; j < 2; ++j)
    r.print("energy[0,%d,:%d] %s\n", j, kShow,
            values(f.energy.data() + (std::size_t)j * D, std::min(kShow, D)).c_str());
  r.section("scores", "attention scores = v . energy_j (pad positions -inf)", {B, S});
  r.text(matrix(f.scores.data(), B, S, "b", "j", 3));
  r.section("attention", "attention weights a = softmax_j(scores)", {B, S});
  r.text(matrix(f.attn.data(), B, S, "b", "j", 3));
  if (in.untrained) r.print("(untrained: the scores are tiny, so a is almost uniform, 1/len)\n");
  attention_checks(f, in.batch, z, checks);
  std::string sums;
  char buf[32];
  for (const auto& v : checks.row_sums) {
    std::snprintf(buf, sizeof buf, " %.6f", v.get<double>());
    sums += buf;
  }
  r.print("row sums:%s\n", sums.c_str());
  r.print("pad positions: max weight %g; softmax(scores) vs a: max difference %.1e\n",
          checks.attn_pad_max, checks.softmax_diff);
  r.section("context", "context w = sum_j a_j Hs_j", {B, C});
  for (int b = 0; b < 2; ++b)
    r.print("w[%d,:%d] %s\n", b, kShow,
            values(f.ctx.data() + (std::size_t)b * C, std::min(kShow, C)).c_str());
}

void print_decoder(Report& r, const model::Model& m, const ExplainInput& in, const FirstStep& f,
                   const Sizes& z) {
  const int B = z.B, T = z.T, E = z.E, D = z.D, C = z.C, Vt = z.Vt;
  r.heading("3. Decoder (first step: input <sos>, state s0)");
  r.section("trg_ids", "target ids (one column per sentence)", {T, B});
  r.text(id_matrix(in.batch.trg, T, B));
  r.print("row 0 is all <sos> = %d, the first decoder input; row t+1 is what step t predicts\n",
          text::SOS);
  r.section("decoder_embedded", "decoder input embedding e = Emb_trg[<sos>]", {B, E});
  r.print("e[0,:%d] %s\n(all 8 rows are the <sos> embedding; dropout off)\n", kShow,
          values(f.emb.data(), std::min(kShow, E)).c_str());
  r.section("s1", "decoder state s1 = GRU([e ; w], s0)", {B, D});
  r.print("(GRU input width E + 2H = %d)\n", E + C);
  for (int b = 0; b < 2; ++b)
    r.print("s1[%d,:%d] %s\n", b, kShow,
            values(f.s1.data() + (std::size_t)b * D, std::min(kShow, D)).c_str());
  r.section("logits", "prediction logits = W_out [s1 ; w ; e] + b_out", {B, Vt});
  r.print("(input width D + 2H + E = %d)\n", D + C + E);
  for (int b = 0; b < 2; ++b)
    r.print("logits[%d,:%d] %s\n", b, kShow,
            values(f.logits.data() + (std::size_t)b * Vt, std::min(kShow, Vt)).c_str());
  r.print("argmax (the first predicted word) vs the reference's first word:\n");
  for (int b = 0; b < B; ++b) {
    const float* l = f.logits.data() + (std::size_t)b * Vt;
    const int best = (int)(std::max_element(l, l + Vt) - l);
    const int ref = T > 1 ? in.batch.trg[(std::size_t)B + b] : text::PAD;
    r.print("  b%d  %-14s (logit %+.4f)   reference %s\n", b,
            ("'" + m.trg_vocab.token(best) + "'").c_str(), l[best],
            ("'" + m.trg_vocab.token(ref) + "'").c_str());
  }
  r.print(
      "(the next steps repeat 2-3 with s1, s2, ...; training feeds the reference or the argmax "
      "by a teacher-forcing coin)\n");
}

nlohmann::json print_parameters(Report& r, const model::ModelConfig& c) {
  const auto table = model::param_table(c);
  const std::size_t count = model::parameter_count(c);
  r.heading("Parameters: " + grouped(count) + " (model::param_table, PyTorch state_dict names)");
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : table) {
    r.print("  %-36s %-14s %12s\n", p.name.c_str(),
            shape_text({p.shape.begin(), p.shape.end()}).c_str(), grouped(p.size).c_str());
    params.push_back({{"name", p.name}, {"shape", p.shape}});
  }
  r.print("  %-36s %-14s %12s\n", "total", "", grouped(count).c_str());
  const auto seed_cfg = model::ModelConfig::seed(7853, 5893);
  if (c.emb_dim == seed_cfg.emb_dim && c.enc_hid_dim == seed_cfg.enc_hid_dim &&
      c.dec_hid_dim == seed_cfg.dec_hid_dim)
    r.print("(with the seed's vocabularies, Vs = 7,853 and Vt = 5,893: %s)\n",
            grouped(model::parameter_count(seed_cfg)).c_str());
  return params;
}

}  // namespace

void explain_batch(const model::Model& m, const ExplainInput& in, bool json) {
  const auto& c = m.config;
  const auto& batch = in.batch;
  const Sizes z{c.emb_dim,        c.enc_hid_dim,   c.dec_hid_dim, 2 * c.enc_hid_dim,
                c.src_vocab_size, c.trg_vocab_size, batch.batch,   batch.src_len,
                batch.trg_len};
  // The translator's first greedy step on the batch: input <sos>, state s0 (max_len 0: one step).
  std::vector<std::vector<int>> src(z.B);
  for (int b = 0; b < z.B; ++b)
    for (int t = 0; t < batch.src_lengths[b]; ++t) src[b].push_back(batch.src[(std::size_t)t * z.B + b]);
  decode::Translator tr(m);
  FirstStep f(z.B, z.S, z.D, z.C, z.E, z.Vt);
  decode::DecodeOptions first;
  first.max_len = 0;
  tr.translate(src, first, &f);

  Report r(json);
  Checks checks;
  print_header(r, m, in, z);
  print_encoder(r, m, in, f, z, checks);
  print_attention(r, in, f, z, checks);
  print_decoder(r, m, in, f, z);
  const auto params = print_parameters(r, c);
  if (!r.json()) return;
  nlohmann::json j = {{"batch", z.B},
                      {"src_len", z.S},
                      {"trg_len", z.T},
                      {"src_vocab_size", z.Vs},
                      {"trg_vocab_size", z.Vt},
                      {"tensors", r.tensors()},
                      {"parameter_count", model::parameter_count(c)},
                      {"parameters", params},
                      {"checks",
                       {{"attention_row_sums", checks.row_sums},
                        {"attention_pad_max", checks.attn_pad_max},
                        {"softmax_max_diff", checks.softmax_diff},
                        {"encoder_pad_max_abs", checks.pad_max},
                        {"h_n_matches_outputs", checks.h_n_matches}}}};
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace nmt::viz
