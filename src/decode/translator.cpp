#include "decode/translator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "common/error.h"
#include "model/layers.h"
#include "tensor/ops.h"
#include "text/vocab.h"

namespace nmt::decode {

template <typename T>
static T* grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

static float log_sum_exp(const float* x, int V) {
  const float mx = ops::max_of(x, V);
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int k = 0; k < V; ++k) s += ops::fast_exp(x[k] - mx);
  return mx + std::log(s);
}

void round_weights(model::Model& m, Precision p) {
  model::EncoderMatrices::round_in_place(m.config, m.w, p);
  model::DecoderMatrices::round_in_place(m.config, m.w, p);
}

Translator::Translator(const model::Model& m, Precision p)
    : m_(m),
      precision_(ops::resolve(p, ops::Workload::Decoding).used),
      enc_mats_(model::EncoderMatrices::of(m.config, m.w, precision_)),
      mats_(model::DecoderMatrices::of(m.config, m.w, precision_)) {}

void Translator::step(int t, int n, const int* cols, const int* y, const float* s, float* s_new,
                      float* attn, float* logits) {
  const auto& c = m_.config;
  const int E = c.emb_dim, D = c.dec_hid_dim, C = 2 * c.enc_hid_dim;
  model::DecoderStepBuffers buf{grow(q_, (std::size_t)n * D),
                                      attn,
                                      grow(ctx_, (std::size_t)n * C),
                                      grow(x_, (std::size_t)n * (E + C)),
                                      grow(gi_, (std::size_t)n * 3 * D),
                                      grow(gh_, (std::size_t)n * 3 * D),
                                      grow(cache_, (std::size_t)n * 4 * D),
                                      grow(out_, (std::size_t)n * (D + C + E)),
                                      logits};
  if (trace_ && trace_->wants_energies()) {
    buf.energy = grow(energy_, (std::size_t)n * enc_.S * D);
    buf.scores = grow(scores_, (std::size_t)n * enc_.S);
  }
  model::decoder_step(c, m_.w, enc_, n, cols, y, nullptr, s, s_new, buf, mats_);
  if (trace_) trace_->step({t, n, cols, y, s, s_new, &buf});
}

std::vector<Hypothesis> Translator::translate(const std::vector<std::vector<int>>& src,
                                              const DecodeOptions& opt, TraceSink* trace) {
  const int B = (int)src.size();
  if (B == 0) return {};
  int S = 0;
  for (const auto& s : src) S = std::max(S, (int)s.size());
  // Longest sentence first: the encoder then computes only the sentences still running at
  // each step (no work on padding). Results go back to the caller's order at the end.
  std::vector<int> order(B);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return src[a].size() > src[b].size(); });
  std::vector<int> ids((std::size_t)S * B, text::PAD), len(B);
  for (int i = 0; i < B; ++i) {
    const auto& sentence = src[order[i]];
    len[i] = (int)sentence.size();
    for (int t = 0; t < len[i]; ++t) ids[(std::size_t)t * B + i] = sentence[t];
  }
  enc_.set_input(S, B, ids.data(), len.data());
  enc_.forward(m_.config, m_.w, 0.0f, nullptr, &enc_mats_);
  trace_ = trace;
  if (trace_) trace_->encoder(enc_, order);
  auto sorted = opt.beam <= 1 ? greedy(B, opt) : beam_search(B, opt);
  trace_ = nullptr;
  std::vector<Hypothesis> hyps(B);
  for (int i = 0; i < B; ++i) hyps[order[i]] = std::move(sorted[i]);
  return hyps;
}

std::vector<Hypothesis> Translator::greedy(int B, const DecodeOptions& opt) {
  const int D = m_.config.dec_hid_dim, V = m_.config.trg_vocab_size, S = enc_.S;
  std::vector<Hypothesis> hyps(B);
  std::vector<int> cols(B), y(B, text::SOS), tok(B);
  std::vector<float> lse(B);
  std::iota(cols.begin(), cols.end(), 0);
  std::vector<float> s(enc_.s0.begin(), enc_.s0.begin() + (std::size_t)B * D);
  std::vector<float> s_new((std::size_t)B * D), attn((std::size_t)B * S),
      logits((std::size_t)B * V);
  int n = B;
  for (int t = 0; n > 0; ++t) {
    step(t, n, cols.data(), y.data(), s.data(), s_new.data(), attn.data(), logits.data());
    layers::argmax_rows(n, V, logits.data(), tok.data());
#pragma omp parallel for schedule(static) if (n >= 4)
    for (int i = 0; i < n; ++i) lse[i] = log_sum_exp(logits.data() + (std::size_t)i * V, V);
    int kept = 0;
    for (int i = 0; i < n; ++i) {
      Hypothesis& h = hyps[cols[i]];
      const float* l = logits.data() + (std::size_t)i * V;
      const bool eos = tok[i] == text::EOS;
      if (t == opt.max_len && !eos) {  // cut: out of length budget
        continue;
      }
      h.log_prob += l[tok[i]] - lse[i];
      if (opt.keep_attention)
        h.attention.insert(h.attention.end(), attn.begin() + (std::size_t)i * S,
                           attn.begin() + (std::size_t)(i + 1) * S);
      if (eos) {
        h.finished = true;
        continue;
      }
      h.ids.push_back(tok[i]);
      cols[kept] = cols[i];
      y[kept] = tok[i];
      std::memcpy(s.data() + (std::size_t)kept * D, s_new.data() + (std::size_t)i * D,
                  sizeof(float) * D);
      ++kept;
    }
    n = kept;
  }
  for (auto& h : hyps)
    h.score = h.log_prob / std::pow((float)(h.ids.size() + 1), opt.length_penalty);
  return hyps;
}

namespace {

// The state of a beam search over B sentences: each sentence's live beams (each with the row of
// its decoder state) and finished hypotheses, and the rows the next decoder step runs.
class BeamState {
 public:
  BeamState(int B, int K, int D, int S, int V, const DecodeOptions& opt, const float* s0)
      : cols(B), y(B, text::SOS), s(s0, s0 + (std::size_t)B * D), B_(B), K_(K), D_(D), S_(S),
        V_(V), opt_(opt), alive_(B), done_(B) {
    for (int b = 0; b < B; ++b) alive_[b].push_back({Hypothesis{}, b});
    std::iota(cols.begin(), cols.end(), 0);
  }
  // Extends every live sentence by one step from the step's logits, attention and new states
  // (rows as in cols/y/s), then keeps only the rows of beams still alive.
  void advance(int t, const float* logits, const float* attn, const float* s_new) {
    next_cols_.clear(), next_y_.clear(), next_s_.clear();
    for (int b = 0; b < B_; ++b)
      if (!alive_[b].empty()) extend(b, t, logits, attn, s_new);
    compact();
  }
  int rows() const { return (int)cols.size(); }
  // The best finished hypothesis of each sentence, with the nbest-1 runners-up.
  std::vector<Hypothesis> results();
  std::vector<int> cols, y;  // the next step's rows: encoder column and input token
  std::vector<float> s;      // [rows, D] their states

 private:
  struct Beam {
    Hypothesis h;
    int row;  // row of its state
  };
  struct Cand {
    float score;
    int beam, tok;
  };
  void candidates(int b, const float* logits);
  void extend(int b, int t, const float* logits, const float* attn, const float* s_new);
  void compact();

  const int B_, K_, D_, S_, V_;
  const DecodeOptions& opt_;
  std::vector<std::vector<Beam>> alive_;
  std::vector<std::vector<Hypothesis>> done_;
  std::vector<Cand> cands_;
  std::vector<int> next_cols_, next_y_;
  std::vector<float> next_s_;
};

// The K best continuations of each live beam of sentence b, best first (ties: earlier beam).
void BeamState::candidates(int b, const float* logits) {
  const auto& beams = alive_[b];
  cands_.clear();
  for (int k = 0; k < (int)beams.size(); ++k) {
    const float* l = logits + (std::size_t)beams[k].row * V_;
    const float lse = log_sum_exp(l, V_);
    // The K best tokens of this beam (K small: a running insertion list).
    std::vector<std::pair<float, int>> best;
    for (int v = 0; v < V_; ++v) {
      if ((int)best.size() == K_ && l[v] <= best.back().first) continue;
      auto it = std::upper_bound(best.begin(), best.end(), std::make_pair(l[v], v),
                                 [](auto& a, auto& c) { return a.first > c.first; });
      best.insert(it, {l[v], v});
      if ((int)best.size() > K_) best.pop_back();
    }
    for (auto& [lv, v] : best) cands_.push_back({beams[k].h.log_prob + lv - lse, k, v});
  }
  std::stable_sort(cands_.begin(), cands_.end(),
                   [](const Cand& a, const Cand& c) { return a.score > c.score; });
}

// Sentence b's next beams: the best K candidates; <eos> ones finish. The sentence is done when K
// hypotheses finished or none continues (then, if none finished, the beams cut at max_len count).
void BeamState::extend(int b, int t, const float* logits, const float* attn, const float* s_new) {
  candidates(b, logits);
  auto& beams = alive_[b];
  auto& done = done_[b];
  std::vector<Beam> next;
  for (const auto& cd : cands_) {
    if ((int)next.size() == K_) break;
    const Beam& from = beams[cd.beam];
    Hypothesis h = from.h;
    h.log_prob = cd.score;
    if (opt_.keep_attention)
      h.attention.insert(h.attention.end(), attn + (std::size_t)from.row * S_,
                         attn + (std::size_t)(from.row + 1) * S_);
    if (cd.tok == text::EOS) {
      h.finished = true;
      done.push_back(std::move(h));
      if ((int)done.size() >= K_) break;
      continue;
    }
    if (t == opt_.max_len) continue;  // out of length budget
    h.ids.push_back(cd.tok);
    next.push_back({std::move(h), (int)next_cols_.size()});
    next_cols_.push_back(b);
    next_y_.push_back(cd.tok);
    next_s_.insert(next_s_.end(), s_new + (std::size_t)from.row * D_,
                   s_new + (std::size_t)(from.row + 1) * D_);
  }
  if ((int)done.size() >= K_ || next.empty()) {
    if (done.empty())
      for (auto& bm : beams) done.push_back(std::move(bm.h));
    // Their rows stay in next_cols_ but are never read again (harmless, keeps indices simple).
    next.clear();
  }
  beams = std::move(next);
}

// Keeps only the rows of beams still alive.
void BeamState::compact() {
  std::vector<int> keep_cols, keep_y;
  std::vector<float> keep_s;
  for (int b = 0; b < B_; ++b)
    for (auto& bm : alive_[b]) {
      const int r = bm.row;
      bm.row = (int)keep_cols.size();
      keep_cols.push_back(next_cols_[r]);
      keep_y.push_back(next_y_[r]);
      keep_s.insert(keep_s.end(), next_s_.begin() + (std::size_t)r * D_,
                    next_s_.begin() + (std::size_t)(r + 1) * D_);
    }
  cols = std::move(keep_cols);
  y = std::move(keep_y);
  s = std::move(keep_s);
}

std::vector<Hypothesis> BeamState::results() {
  std::vector<Hypothesis> result(B_);
  for (int b = 0; b < B_; ++b) {
    auto& d = done_[b];
    if (d.empty()) continue;
    for (auto& h : d) h.score = h.log_prob / std::pow((float)(h.ids.size() + 1), opt_.length_penalty);
    // Best first; ties keep the order they finished in (max_element took the first too).
    std::stable_sort(d.begin(), d.end(), [](auto& a, auto& c) { return a.score > c.score; });
    result[b] = std::move(d[0]);
    for (std::size_t k = 1; k < d.size() && (int)k < opt_.nbest; ++k)
      result[b].alternatives.push_back(std::move(d[k]));
  }
  return result;
}

}  // namespace

std::vector<Hypothesis> Translator::beam_search(int B, const DecodeOptions& opt) {
  const int D = m_.config.dec_hid_dim, V = m_.config.trg_vocab_size, S = enc_.S;
  BeamState st(B, opt.beam, D, S, V, opt, enc_.s0.data());
  std::vector<float> s_new, attn, logits;
  for (int t = 0; st.rows() > 0; ++t) {
    const int n = st.rows();
    grow(s_new, (std::size_t)n * D);
    grow(attn, (std::size_t)n * S);
    grow(logits, (std::size_t)n * V);
    step(t, n, st.cols.data(), st.y.data(), st.s.data(), s_new.data(), attn.data(), logits.data());
    st.advance(t, logits.data(), attn.data(), s_new.data());
  }
  return st.results();
}

std::vector<TextTranslation> translate_lines(const model::Model& m, Translator& tr,
                                             const std::vector<std::string>& lines,
                                             const DecodeOptions& opt, bool replace_unk,
                                             int max_src_len, long first_line, bool warn) {
  std::vector<std::vector<std::string>> tokens;
  tokens.reserve(lines.size());
  for (const auto& line : lines) tokens.push_back(m.src_codec->tokenize(line));
  auto res = translate_tokens(m, tr, std::move(tokens), opt, replace_unk, max_src_len);
  for (std::size_t i = 0; warn && i < res.size(); ++i)
    if (res[i].truncated_from > 0)
      std::fprintf(stderr, "nmt: warning: input line %ld has %zu tokens; translating the first %d\n",
                   first_line + (long)i, res[i].truncated_from, max_src_len);
  return res;
}

std::vector<TextTranslation> translate_tokens(const model::Model& m, Translator& tr,
                                              std::vector<std::vector<std::string>> tokens,
                                              const DecodeOptions& opt, bool replace_unk,
                                              int max_src_len) {
  std::vector<TextTranslation> res(tokens.size());
  std::vector<std::vector<int>> src;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto& toks = tokens[i];
    if (toks.empty()) continue;
    if ((int)toks.size() > max_src_len) {
      res[i].truncated_from = toks.size();
      toks.resize(max_src_len);
    }
    src.push_back(m.src_vocab.encode(toks));
    res[i].src_tokens = std::move(toks);
    which.push_back(i);
  }
  DecodeOptions o = opt;
  o.keep_attention |= replace_unk;
  auto hyps = tr.translate(src, o);
  const int S = tr.encoder().S;
  for (std::size_t k = 0; k < which.size(); ++k) {
    auto& r = res[which[k]];
    r.hyp = std::move(hyps[k]);
    r.attention_cols = S;
    r.out_tokens = output_tokens(m, r.hyp, r.src_tokens, S, replace_unk);
    r.text = m.trg_codec->detokenize(r.out_tokens);
  }
  return res;
}

std::vector<TextTranslation> translate_in_batches(const model::Model& m, Translator& tr,
                                                  const std::vector<std::string>& lines,
                                                  const DecodeOptions& opt, int batch,
                                                  int max_src_len, bool warn) {
  std::vector<TextTranslation> all;
  all.reserve(lines.size());
  for (std::size_t start = 0; start < lines.size(); start += (std::size_t)batch) {
    const std::vector<std::string> slice(
        lines.begin() + start, lines.begin() + std::min(lines.size(), start + (std::size_t)batch));
    for (auto& r : translate_lines(m, tr, slice, opt, false, max_src_len, (long)start + 1, warn))
      all.push_back(std::move(r));
  }
  return all;
}

std::vector<std::string> output_tokens(const model::Model& m, const Hypothesis& h,
                                       const std::vector<std::string>& src_tokens, int S,
                                       bool replace_unk) {
  std::vector<std::string> out;
  out.reserve(h.ids.size());
  for (std::size_t t = 0; t < h.ids.size(); ++t) {
    const int id = h.ids[t];
    if (id == text::UNK && replace_unk && !src_tokens.empty() &&
        h.attention.size() >= (t + 1) * (std::size_t)S) {
      // The source token this step attended to most (skipping <sos>/<eos>).
      const float* a = h.attention.data() + t * S;
      int best = 1;
      for (int j = 1; j <= (int)src_tokens.size(); ++j)
        if (a[j] > a[best]) best = j;
      out.push_back(src_tokens[best - 1]);
    } else {
      out.push_back(m.trg_vocab.token(id));
    }
  }
  return out;
}

}  // namespace nmt::decode
