// nmt explain: the seed document's walkthrough (design §2, §5) as a command. Takes the first 8
// training pairs as one real batch and prints every tensor of the encoder, the first attention
// step and the first decoder step in the seed's order, each with its shape and a few real values
// computed by the model's own code; --json prints the shapes for machines.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "decode/options.h"
#include "common/error.h"
#include "model/checkpoint.h"
#include "model/layers.h"
#include "model/seq2seq.h"
#include "tensor/ops.h"
#include "text/batch.h"
#include "train/data.h"

namespace nmt::cli {

namespace {

constexpr int kBatch = 8;  // the seed's batch size
constexpr int kShow = 6;   // values shown per vector

struct ExplainOptions {
  std::string model, data;
  std::uint64_t seed = 1234;
  int threads = decode::DecodingOptions{}.threads;
  bool json = false;
};

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
  char buf[32];
  for (int j = 0; j < cols; ++j) {
    std::snprintf(buf, sizeof buf, " %5s", ("b" + std::to_string(j)).c_str());
    s += buf;
  }
  s += "\n";
  for (int i = 0; i < rows; ++i) {
    std::snprintf(buf, sizeof buf, "%5s", ("t" + std::to_string(i)).c_str());
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

void run_explain(const ExplainOptions& o) {
  ops::set_threads(o.threads);
  const std::string data = o.data.empty() ? default_data_dir() : o.data;
  if (!o.model.empty() && !std::filesystem::is_directory(o.model))
    throw Error(o.model + ": not a model directory");

  // The model: a checkpoint, or the seed preset freshly initialised on the train vocabulary.
  model::Model m;
  std::string origin;
  if (!o.model.empty()) {
    m = model::load_model(o.model);
    origin = "checkpoint " + o.model;
  }
  const auto pc = train::read_split(data, "train", 0, o.model.empty() ? "de" : m.config.src_lang,
                                    o.model.empty() ? "en" : m.config.trg_lang);
  if ((int)pc.src.size() < kBatch)
    throw Error(data + ": the train split has fewer than " + std::to_string(kBatch) + " pairs");
  if (o.model.empty()) {
    m = train::seed_model(pc, o.seed);
    origin = "seed preset, random init N(0, 0.01) with --seed " + std::to_string(o.seed) +
             " (vocabularies from the train split, min_freq 2)";
  }
  const auto& c = m.config;
  const auto& w = m.w;
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim, C = 2 * H;
  const int Vs = c.src_vocab_size, Vt = c.trg_vocab_size, B = kBatch;

  // The batch: the first 8 training pairs, time-major [len, 8], padded with <pad> = 1.
  text::ParallelCorpus first;
  first.src.assign(pc.src.begin(), pc.src.begin() + B);
  first.trg.assign(pc.trg.begin(), pc.trg.begin() + B);
  const auto enc_ids =
      train::encode_corpus(first, *m.src_codec, *m.trg_codec, m.src_vocab, m.trg_vocab, 0);
  std::vector<std::size_t> idx(B);
  for (int b = 0; b < B; ++b) idx[b] = b;
  const auto batch = text::make_batch(enc_ids.src, enc_ids.trg, idx);
  const int S = batch.src_len, T = batch.trg_len;

  Report r(o.json);
  r.print("nmt explain: the seed walkthrough on a real batch (design §2)\n");
  r.print("model: %s\n", origin.c_str());
  r.print("sizes: E = %d, H = %d per direction, D = %d, Vs = %d, Vt = %d\n", E, H, D, Vs, Vt);
  r.print("batch: the first %d pairs of %s (train): B = %d, S = %d, T = %d\n", B, data.c_str(), B,
          S, T);
  for (int b = 0; b < B; ++b)
    r.print("  b%d  %s\n      %s\n", b, join(m.src_codec->tokenize(first.src[b])).c_str(),
            join(m.trg_codec->tokenize(first.trg[b])).c_str());

  // ---- 1. Encoder ----
  r.heading("1. Encoder");
  r.section("src_ids", "source ids (one column per sentence)", {S, B});
  r.text(id_matrix(batch.src, S, B));
  r.print("row 0 is all <sos> = %d, each column ends with <eos> = %d, padding <pad> = %d\n",
          text::SOS, text::EOS, text::PAD);

  model::Encoder enc;
  enc.set_input(S, B, batch.src.data(), batch.src_lengths.data());
  enc.forward(c, w, 0.0f, nullptr);

  r.section("embedded", "embeddings X = Emb_src[src]", {S, B, E});
  r.print("(dropout is off here, as when translating; training drops with p = %.1f)\n", c.dropout);
  for (int t = 0; t < std::min(S, 3); ++t)
    r.print("X[%d,0,:%d] %-12s%s\n", t, kShow,
            ("(" + m.src_vocab.token(batch.src[(std::size_t)t * B]) + ")").c_str(),
            values(enc.X.data() + (std::size_t)t * B * E, std::min(kShow, E)).c_str());

  r.section("encoder_outputs", "encoder outputs Hs = [h_fwd ; h_bwd]", {S, B, C});
  const float* hs = enc.outputs.data();
  auto hs_at = [&](int t, int b) { return hs + ((std::size_t)t * B + b) * C; };
  r.print("Hs[0,0,0:%d]     (forward)  %s\n", kShow,
          values(hs_at(0, 0), std::min(kShow, H)).c_str());
  r.print("Hs[0,0,%d:%d] (backward) %s\n", H, H + kShow,
          values(hs_at(0, 0) + H, std::min(kShow, H)).c_str());
  float pad_max = 0.0f;
  int pad_b = -1;
  for (int b = 0; b < B; ++b)
    for (int t = batch.src_lengths[b]; t < S; ++t) {
      if (pad_b < 0) pad_b = b;
      for (int k = 0; k < C; ++k) pad_max = std::max(pad_max, std::fabs(hs_at(t, b)[k]));
    }
  if (pad_b >= 0)
    r.print(
        "padding positions are zero (e.g. Hs[%d,%d,:], sentence b%d has %d ids): max |Hs| "
        "over all pad positions = %g\n",
        S - 1, pad_b, pad_b, batch.src_lengths[pad_b], pad_max);

  r.section("h_n", "final states h_n (forward after the last token, backward after the first)",
            {2, B, H});
  const float* hc = enc.hcat.data();
  const int last0 = batch.src_lengths[0] - 1;
  const bool fwd_eq = std::memcmp(hc, hs_at(last0, 0), sizeof(float) * H) == 0;
  const bool bwd_eq = std::memcmp(hc + H, hs_at(0, 0) + H, sizeof(float) * H) == 0;
  r.print("h_n[0,0,:%d] %s   = Hs[%d,0,0:%d]: %s\n", kShow, values(hc, std::min(kShow, H)).c_str(),
          last0, H, fwd_eq ? "yes" : "NO");
  r.print("h_n[1,0,:%d] %s   = Hs[0,0,%d:%d]: %s\n", kShow,
          values(hc + H, std::min(kShow, H)).c_str(), H, C, bwd_eq ? "yes" : "NO");

  r.section("s0", "decoder initial state s0 = tanh(W_fc [h_n[0] ; h_n[1]] + b_fc)", {B, D});
  for (int b = 0; b < 2; ++b)
    r.print("s0[%d,:%d] %s\n", b, kShow,
            values(enc.s0.data() + (std::size_t)b * D, std::min(kShow, D)).c_str());

  // ---- 2. Attention at the first decoder step (previous state s0) ----
  r.heading("2. Attention (first decoder step, previous state s0)");
  std::vector<float> q((std::size_t)B * D), attn((std::size_t)B * S), ctx((std::size_t)B * C);
  ops::gemm(false, true, B, D, D, 1.0f, enc.s0.data(), D, w.att_w, D + C, 0.0f, q.data(), D);
  layers::attention_forward(B, S, B, D, C, q.data(), enc.keys.data(), enc.outputs.data(), w.att_v,
                            enc.len.data(), attn.data(), ctx.data());
  // The kernel does not keep the energies (its backward recomputes them); shown from here.
  std::vector<float> energy((std::size_t)B * S * D, 0.0f);
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < batch.src_lengths[b]; ++j)
      for (int k = 0; k < D; ++k)
        energy[((std::size_t)b * S + j) * D + k] =
            std::tanh(enc.keys[((std::size_t)j * B + b) * D + k] + q[(std::size_t)b * D + k]);

  r.section("energy", "attention energy = tanh(W_att [s0 ; Hs_j] + b_att)", {B, S, D});
  r.print("(W_h Hs_j + b_att is computed once per batch; each step adds W_s s only)\n");
  for (int j = 0; j < 2; ++j)
    r.print("energy[0,%d,:%d] %s\n", j, kShow,
            values(energy.data() + (std::size_t)j * D, std::min(kShow, D)).c_str());

  std::vector<float> scores((std::size_t)B * S, -std::numeric_limits<float>::infinity());
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < batch.src_lengths[b]; ++j) {
      double sum = 0.0;
      const float* e = energy.data() + ((std::size_t)b * S + j) * D;
      for (int k = 0; k < D; ++k) sum += (double)e[k] * w.att_v[k];
      scores[(std::size_t)b * S + j] = (float)sum;
    }
  r.section("scores", "attention scores = v . energy_j (pad positions -inf)", {B, S});
  r.text(matrix(scores.data(), B, S, "b", "j", 3));

  r.section("attention", "attention weights a = softmax_j(scores)", {B, S});
  r.text(matrix(attn.data(), B, S, "b", "j", 3));
  if (o.model.empty()) r.print("(untrained: the scores are tiny, so a is almost uniform, 1/len)\n");
  nlohmann::json row_sums = nlohmann::json::array();
  double attn_pad_max = 0.0, softmax_diff = 0.0;
  for (int b = 0; b < B; ++b) {
    double sum = 0.0, mx = -INFINITY;
    for (int j = 0; j < S; ++j) {
      sum += attn[(std::size_t)b * S + j];
      if (j >= batch.src_lengths[b])
        attn_pad_max = std::max(attn_pad_max, (double)std::fabs(attn[(std::size_t)b * S + j]));
    }
    for (int j = 0; j < batch.src_lengths[b]; ++j)
      mx = std::max(mx, (double)scores[(std::size_t)b * S + j]);
    double z = 0.0;
    for (int j = 0; j < batch.src_lengths[b]; ++j)
      z += std::exp(scores[(std::size_t)b * S + j] - mx);
    for (int j = 0; j < batch.src_lengths[b]; ++j)
      softmax_diff =
          std::max(softmax_diff, std::fabs(std::exp(scores[(std::size_t)b * S + j] - mx) / z -
                                           attn[(std::size_t)b * S + j]));
    row_sums.push_back(sum);
  }
  {
    std::string sums;
    char buf[32];
    for (const auto& v : row_sums) {
      std::snprintf(buf, sizeof buf, " %.6f", v.get<double>());
      sums += buf;
    }
    r.print("row sums:%s\n", sums.c_str());
    r.print("pad positions: max weight %g; softmax(scores) vs a: max difference %.1e\n",
            attn_pad_max, softmax_diff);
  }

  r.section("context", "context w = sum_j a_j Hs_j", {B, C});
  for (int b = 0; b < 2; ++b)
    r.print("w[%d,:%d] %s\n", b, kShow,
            values(ctx.data() + (std::size_t)b * C, std::min(kShow, C)).c_str());

  // ---- 3. Decoder, first step: input <sos>, state s0 ----
  r.heading("3. Decoder (first step: input <sos>, state s0)");
  r.section("trg_ids", "target ids (one column per sentence)", {T, B});
  r.text(id_matrix(batch.trg, T, B));
  r.print("row 0 is all <sos> = %d, the first decoder input; row t+1 is what step t predicts\n",
          text::SOS);

  const int XI = E + C, LO = D + C + E;
  std::vector<float> x((std::size_t)B * XI), gi((std::size_t)B * 3 * D), gh((std::size_t)B * 3 * D),
      cache((std::size_t)B * 4 * D), s1((std::size_t)B * D), out((std::size_t)B * LO),
      logits((std::size_t)B * Vt);
  const int* y = batch.trg.data();  // row 0: <sos> for every sentence
  layers::embedding_forward(B, E, y, w.dec_emb, nullptr, x.data(), XI);
  for (int b = 0; b < B; ++b) {
    std::memcpy(x.data() + (std::size_t)b * XI + E, ctx.data() + (std::size_t)b * C,
                sizeof(float) * C);
    std::memcpy(out.data() + (std::size_t)b * LO + D, ctx.data() + (std::size_t)b * C,
                sizeof(float) * C);
    std::memcpy(out.data() + (std::size_t)b * LO + D + C, x.data() + (std::size_t)b * XI,
                sizeof(float) * E);
  }
  r.section("decoder_embedded", "decoder input embedding e = Emb_trg[<sos>]", {B, E});
  r.print("e[0,:%d] %s\n(all 8 rows are the <sos> embedding; dropout off)\n", kShow,
          values(x.data(), std::min(kShow, E)).c_str());

  ops::linear_forward(B, XI, 3 * D, x.data(), w.dec_w_ih, w.dec_b_ih, gi.data());
  ops::linear_forward(B, D, 3 * D, enc.s0.data(), w.dec_w_hh, w.dec_b_hh, gh.data());
  layers::gru_cell_forward(B, D, gi.data(), gh.data(), enc.s0.data(), s1.data(), cache.data());
  r.section("s1", "decoder state s1 = GRU([e ; w], s0)", {B, D});
  r.print("(GRU input width E + 2H = %d)\n", XI);
  for (int b = 0; b < 2; ++b)
    r.print("s1[%d,:%d] %s\n", b, kShow,
            values(s1.data() + (std::size_t)b * D, std::min(kShow, D)).c_str());

  for (int b = 0; b < B; ++b)
    std::memcpy(out.data() + (std::size_t)b * LO, s1.data() + (std::size_t)b * D,
                sizeof(float) * D);
  ops::linear_forward(B, LO, Vt, out.data(), w.out_w, w.out_b, logits.data());
  std::vector<int> best(B);
  layers::argmax_rows(B, Vt, logits.data(), best.data());
  r.section("logits", "prediction logits = W_out [s1 ; w ; e] + b_out", {B, Vt});
  r.print("(input width D + 2H + E = %d)\n", LO);
  for (int b = 0; b < 2; ++b)
    r.print("logits[%d,:%d] %s\n", b, kShow,
            values(logits.data() + (std::size_t)b * Vt, std::min(kShow, Vt)).c_str());
  r.print("argmax (the first predicted word) vs the reference's first word:\n");
  for (int b = 0; b < B; ++b) {
    const int ref = T > 1 ? batch.trg[(std::size_t)B + b] : text::PAD;
    r.print("  b%d  %-14s (logit %+.4f)   reference %s\n", b,
            ("'" + m.trg_vocab.token(best[b]) + "'").c_str(), logits[(std::size_t)b * Vt + best[b]],
            ("'" + m.trg_vocab.token(ref) + "'").c_str());
  }
  r.print(
      "(the next steps repeat 2-3 with s1, s2, ...; training feeds the reference or the argmax "
      "by a teacher-forcing coin)\n");

  // ---- Parameters ----
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
  if (E == seed_cfg.emb_dim && H == seed_cfg.enc_hid_dim && D == seed_cfg.dec_hid_dim)
    r.print("(with the seed's vocabularies, Vs = 7,853 and Vt = 5,893: %s)\n",
            grouped(model::parameter_count(seed_cfg)).c_str());

  if (r.json()) {
    nlohmann::json j = {{"batch", B},
                        {"src_len", S},
                        {"trg_len", T},
                        {"src_vocab_size", Vs},
                        {"trg_vocab_size", Vt},
                        {"tensors", r.tensors()},
                        {"parameter_count", count},
                        {"parameters", params},
                        {"checks",
                         {{"attention_row_sums", row_sums},
                          {"attention_pad_max", attn_pad_max},
                          {"softmax_max_diff", softmax_diff},
                          {"encoder_pad_max_abs", pad_max},
                          {"h_n_matches_outputs", fwd_eq && bwd_eq}}}};
    std::printf("%s\n", j.dump().c_str());
  }
}

}  // namespace

void add_explain(CLI::App& app) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain", "The seed walkthrough on a real batch of 8: every tensor's shape and values");
  cmd->add_option("--model", o->model,
                  "Model directory (default: the seed preset, randomly initialised)");
  cmd->add_option("--data", o->data, "Multi30k directory (default: the bundled copy)");
  cmd->add_option("--seed", o->seed, "Random init seed when no --model is given")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the tensors' names and shapes as one JSON object");
  cmd->callback([o] { run_explain(*o); });
}

}  // namespace nmt::cli
