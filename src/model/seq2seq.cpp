#include "model/seq2seq.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>
#include <utility>

#include "common/error.h"
#include "common/rng.h"
#include "model/layers.h"
#include "tensor/ops.h"
#include "text/vocab.h"

namespace nmt::model {

template <typename T>
static T* grow(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

void Encoder::set_input(int S_, int B_, const int* src, const int* src_len) {
  S = S_;
  B = B_;
  ids.assign(src, src + (std::size_t)S * B);
  len.assign(src_len, src_len + B);
  mask.resize((std::size_t)S * B);
  for (int t = 0; t < S; ++t)
    for (int b = 0; b < B; ++b) mask[(std::size_t)t * B + b] = t < len[b];
}

void Encoder::forward(const ModelConfig& c, const Weights& w, float p, Rng* rng,
                      const EncoderMatrices* mats) {
  const EncoderMatrices own = mats ? EncoderMatrices{} : EncoderMatrices::of(c, w);
  const EncoderMatrices& m = mats ? *mats : own;
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim;
  const std::size_t SB = (std::size_t)S * B;
  float* x = grow(X, SB * E);
  float* dm = nullptr;
  if (p > 0.0f) {
    dm = grow(drop, SB * E);
    if (given_drop)
      std::memcpy(dm, given_drop, sizeof(float) * SB * E);
    else
      layers::dropout_mask((std::int64_t)(SB * E), p, *rng, dm);
  } else {
    drop.clear();  // the backward must not apply an earlier batch's mask
  }
  layers::embedding_forward((int)SB, E, ids.data(), w.enc_emb, dm, x, E);
  float* hs = grow(outputs, SB * 2 * H);
  grow(gh, (std::size_t)B * 3 * H);
  grow(h, (std::size_t)B * H);
  // When the lengths do not increase along the batch (the translator orders sentences so), the
  // columns still inside their sentence at step t are a prefix, and only they are computed;
  // otherwise every column is, with the mask keeping padded ones unchanged.
  const bool prefix = std::is_sorted(len.rbegin(), len.rend());
  for (int d = 0; d < 2; ++d) {
    // Input projections of all time steps in one GEMM; only W_hh h stays in the time loop.
    m.w_ih[d].linear((int)SB, x, E, w.enc_b_ih[d], grow(gi[d], SB * 3 * H), 3 * H);
    grow(hprev[d], SB * H);
    grow(cache[d], SB * 4 * H);
    std::fill(h.begin(), h.begin() + (std::size_t)B * H, 0.0f);
    for (int p_ = 0; p_ < S; ++p_) {
      const int t = d == 0 ? p_ : S - 1 - p_;
      float* hp = hprev[d].data() + (std::size_t)t * B * H;
      std::memcpy(hp, h.data(), sizeof(float) * B * H);
      int n = B;
      if (prefix)
        while (n > 0 && len[n - 1] <= t) --n;
      m.w_hh[d].linear(n, hp, H, w.enc_b_hh[d], gh.data(), 3 * H);
      layers::gru_cell_forward(n, H, gi[d].data() + (std::size_t)t * B * 3 * H, gh.data(), hp,
                               h.data(), cache[d].data() + (std::size_t)t * B * 4 * H,
                               mask.data() + (std::size_t)t * B);
      for (int b = 0; b < B; ++b) {
        float* o = hs + ((std::size_t)t * B + b) * 2 * H + d * H;
        if (mask[(std::size_t)t * B + b])
          std::memcpy(o, h.data() + (std::size_t)b * H, sizeof(float) * H);
        else
          std::memset(o, 0, sizeof(float) * H);
      }
    }
    // Final state: forward direction after its last real token, backward after position 0.
    float* hc = grow(hcat, (std::size_t)B * 2 * H);
    for (int b = 0; b < B; ++b)
      std::memcpy(hc + (std::size_t)b * 2 * H + d * H, h.data() + (std::size_t)b * H,
                  sizeof(float) * H);
  }
  float* s = grow(s0, (std::size_t)B * D);
  m.fc.linear(B, hcat.data(), 2 * H, w.enc_fc_b, s, D);
  for (std::size_t i = 0; i < (std::size_t)B * D; ++i) s[i] = std::tanh(s[i]);
  // Attention keys W_h Hs + b_att, once per batch (W_h = last 2H columns of W_att).
  m.att_wh.linear((int)SB, hs, 2 * H, w.att_b, grow(keys, SB * D), D);
}

void Encoder::backward(const ModelConfig& c, const Weights& w, const float* ds0, Weights& g) {
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim;
  const std::size_t SB = (std::size_t)S * B;
  // Keys: dW_h += dK^T Hs, db_att += colsum dK, dHs += dK W_h.
  ops::gemm(true, false, D, 2 * H, (int)SB, 1.0f, d_keys.data(), D, outputs.data(), 2 * H, 1.0f,
            g.att_w + D, D + 2 * H);
  ops::add_colsum((int)SB, D, d_keys.data(), D, g.att_b);
  ops::gemm(false, false, (int)SB, 2 * H, D, 1.0f, d_keys.data(), D, w.att_w + D, D + 2 * H, 1.0f,
            d_outputs.data(), 2 * H);
  // s0 = tanh(fc(hcat)).
  std::vector<float>& dpre = dh_direct;  // reuse as [B,D] scratch before the GRU loop
  grow(dpre, (std::size_t)B * std::max(D, H));
  for (std::size_t i = 0; i < (std::size_t)B * D; ++i) dpre[i] = ds0[i] * (1.0f - s0[i] * s0[i]);
  float* dhc = grow(dhcat, (std::size_t)B * 2 * H);
  ops::linear_backward(B, 2 * H, D, dpre.data(), hcat.data(), w.enc_fc_w, dhc, g.enc_fc_w,
                       g.enc_fc_b, false);
  float* dx = grow(dX, SB * E);
  grow(dh, (std::size_t)B * H);
  for (int d = 0; d < 2; ++d) {
    grow(dgi[d], SB * 3 * H);
    grow(dgh[d], SB * 3 * H);
    for (int b = 0; b < B; ++b)
      std::memcpy(dh.data() + (std::size_t)b * H, dhc + (std::size_t)b * 2 * H + d * H,
                  sizeof(float) * H);
    for (int p_ = S - 1; p_ >= 0; --p_) {
      const int t = d == 0 ? p_ : S - 1 - p_;
      const unsigned char* m = mask.data() + (std::size_t)t * B;
      for (int b = 0; b < B; ++b) {
        if (!m[b]) continue;
        const float* src = d_outputs.data() + ((std::size_t)t * B + b) * 2 * H + d * H;
        float* dst = dh.data() + (std::size_t)b * H;
        for (int k = 0; k < H; ++k) dst[k] += src[k];
      }
      float* dgh_t = dgh[d].data() + (std::size_t)t * B * 3 * H;
      layers::gru_cell_backward(B, H, dh.data(), hprev[d].data() + (std::size_t)t * B * H,
                                cache[d].data() + (std::size_t)t * B * 4 * H,
                                dgi[d].data() + (std::size_t)t * B * 3 * H, dgh_t, dh_direct.data(),
                                m);
      std::memcpy(dh.data(), dh_direct.data(), sizeof(float) * B * H);
      ops::gemm(false, false, B, H, 3 * H, 1.0f, dgh_t, 3 * H, w.enc_w_hh[d], H, 1.0f, dh.data(),
                H);
    }
    // Weight gradients of all time steps in one GEMM each.
    ops::linear_backward((int)SB, E, 3 * H, dgi[d].data(), X.data(), w.enc_w_ih[d], dx,
                         g.enc_w_ih[d], g.enc_b_ih[d], d == 1);
    ops::linear_backward((int)SB, H, 3 * H, dgh[d].data(), hprev[d].data(), nullptr, nullptr,
                         g.enc_w_hh[d], g.enc_b_hh[d], false);
  }
  layers::embedding_backward((int)SB, E, ids.data(), dx, E, drop.empty() ? nullptr : drop.data(),
                             g.enc_emb);
}

namespace {

struct MatrixView {
  float* W;
  int rows, cols, ld;
};

// Encoder::forward's matrices in w, in EncoderMatrices' order.
std::array<MatrixView, 6> encoder_matrices(const ModelConfig& c, const Weights& w) {
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim;
  return {{{w.enc_w_ih[0], 3 * H, E, E},
           {w.enc_w_ih[1], 3 * H, E, E},
           {w.enc_w_hh[0], 3 * H, H, H},
           {w.enc_w_hh[1], 3 * H, H, H},
           {w.enc_fc_w, D, 2 * H, 2 * H},
           {w.att_w + D, D, 2 * H, D + 2 * H}}};
}

// decoder_step's four matrices in w, in DecoderMatrices' order.
std::array<MatrixView, 4> decoder_matrices(const ModelConfig& c, const Weights& w) {
  const int E = c.emb_dim, D = c.dec_hid_dim, C = 2 * c.enc_hid_dim, V = c.trg_vocab_size;
  return {{{w.att_w, D, D, D + C},
           {w.dec_w_ih, 3 * D, E + C, E + C},
           {w.dec_w_hh, 3 * D, D, D},
           {w.out_w, V, D + C + E, D + C + E}}};
}

}  // namespace

EncoderMatrices EncoderMatrices::of(const ModelConfig& c, const Weights& w, ops::Precision p) {
  const auto m = encoder_matrices(c, w);
  auto make = [&](int i) { return ops::WeightMatrix(m[i].W, m[i].rows, m[i].cols, m[i].ld, p); };
  return {{make(0), make(1)}, {make(2), make(3)}, make(4), make(5)};
}

void EncoderMatrices::round_in_place(const ModelConfig& c, const Weights& w, ops::Precision p) {
  for (const auto& [W, rows, cols, ld] : encoder_matrices(c, w))
    ops::WeightMatrix::round_in_place(W, rows, cols, ld, p);
}

DecoderMatrices DecoderMatrices::of(const ModelConfig& c, const Weights& w, ops::Precision p) {
  const auto m = decoder_matrices(c, w);
  auto make = [&](int i) { return ops::WeightMatrix(m[i].W, m[i].rows, m[i].cols, m[i].ld, p); };
  return {make(0), make(1), make(2), make(3)};
}

void DecoderMatrices::round_in_place(const ModelConfig& c, const Weights& w, ops::Precision p) {
  for (const auto& [W, rows, cols, ld] : decoder_matrices(c, w))
    ops::WeightMatrix::round_in_place(W, rows, cols, ld, p);
}

void decoder_step(const ModelConfig& c, const Weights& w, const Encoder& enc, int n,
                  const int* cols, const int* y, const float* drop, const float* s_prev,
                  float* s_new, const DecoderStepBuffers& b, const DecoderMatrices& mats,
                  const float* out_drop) {
  const int E = c.emb_dim, D = c.dec_hid_dim, C = 2 * c.enc_hid_dim;
  const int XI = E + C, LO = D + C + E;
  // Attention on the previous state: q = W_s s (W_s = first D columns of W_att).
  mats.att_ws.linear(n, s_prev, D, nullptr, b.q, D);
  layers::attention_forward(n, enc.S, enc.B, D, C, b.q, enc.keys.data(), enc.outputs.data(),
                            w.att_v, enc.len.data(), b.attn, b.ctx, cols, b.energy, b.scores);
  layers::embedding_forward(n, E, y, w.dec_emb, drop, b.x, XI);
  for (int i = 0; i < n; ++i) {
    const float* ctx = b.ctx + (std::size_t)i * C;
    std::memcpy(b.x + (std::size_t)i * XI + E, ctx, sizeof(float) * C);
    std::memcpy(b.out + (std::size_t)i * LO + D, ctx, sizeof(float) * C);
    std::memcpy(b.out + (std::size_t)i * LO + D + C, b.x + (std::size_t)i * XI, sizeof(float) * E);
  }
  mats.w_ih.linear(n, b.x, XI, w.dec_b_ih, b.gi, 3 * D);
  mats.w_hh.linear(n, s_prev, D, w.dec_b_hh, b.gh, 3 * D);
  layers::gru_cell_forward(n, D, b.gi, b.gh, s_prev, s_new, b.cache);
  for (int i = 0; i < n; ++i)
    std::memcpy(b.out + (std::size_t)i * LO, s_new + (std::size_t)i * D, sizeof(float) * D);
  if (out_drop)
    for (std::size_t k = 0; k < (std::size_t)n * LO; ++k) b.out[k] *= out_drop[k];
  mats.out_w.linear(n, b.out, LO, w.out_b, b.logits, c.trg_vocab_size);
}

namespace {

// The internal row order: longest target first, so step t works on rows [0, n_t).
std::vector<int> longest_target_first(const text::Batch& batch) {
  std::vector<int> order(batch.batch);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return batch.trg_lengths[a] > batch.trg_lengths[b]; });
  return order;
}

// n_t: how many rows (in that order) are still running at decoder step t.
int rows_at_step(const text::Batch& batch, const std::vector<int>& order, int t) {
  int n = 0;
  while (n < batch.batch && batch.trg_lengths[order[n]] > t) ++n;
  return n;
}

}  // namespace

double TrainingGraph::forward(const ModelConfig& c, const Weights& w, const text::Batch& batch,
                              const std::vector<unsigned char>& coins, float dropout, Rng* rng) {
  S_ = batch.src_len;
  T_ = batch.trg_len;
  B_ = batch.batch;
  V_ = c.trg_vocab_size;
  C_ = 2 * c.enc_hid_dim;
  D_ = c.dec_hid_dim;
  if (T_ < 2) throw Error("target batch needs at least <sos> and <eos>");
  if ((int)coins.size() < T_) throw Error("teacher-forcing coins shorter than the target");
  encode(c, w, batch, dropout, rng);
  plan_steps(batch);
  draw_step_masks(c, dropout, rng);
  return decode_steps(c, w, coins);
}

// The encoder over the batch's columns in internal order (longest target first), with the given
// source dropout mask if any (reordered the same way).
void TrainingGraph::encode(const ModelConfig& c, const Weights& w, const text::Batch& batch,
                           float dropout, Rng* rng) {
  const int E = c.emb_dim, S = S_, T = T_, B = B_;
  order_ = longest_target_first(batch);
  row_of_.resize(B);
  for (int i = 0; i < B; ++i) row_of_[order_[i]] = i;
  std::vector<int> src((std::size_t)S * B);  // columns in internal order
  std::vector<int> len(B);
  trg_.resize((std::size_t)T * B);
  for (int i = 0; i < B; ++i) {
    const int b = order_[i];
    len[i] = batch.src_lengths[b];
    for (int t = 0; t < S; ++t) src[(std::size_t)t * B + i] = batch.src[(std::size_t)t * B + b];
    for (int t = 0; t < T; ++t) trg_[(std::size_t)t * B + i] = batch.trg[(std::size_t)t * B + b];
  }
  enc_.set_input(S, B, src.data(), len.data());
  if (!given_src_drop_.empty()) {
    if (given_src_drop_.size() != (std::size_t)S * B * E ||
        given_trg_drop_.size() != (std::size_t)T * B * E)
      throw Error("dropout masks do not match the batch");
    given_src_ordered_.resize((std::size_t)S * B * E);
    for (int t = 0; t < S; ++t)
      for (int i = 0; i < B; ++i)
        std::memcpy(given_src_ordered_.data() + ((std::size_t)t * B + i) * E,
                    given_src_drop_.data() + ((std::size_t)t * B + order_[i]) * E,
                    sizeof(float) * E);
    enc_.given_drop = given_src_ordered_.data();
  }
  enc_.forward(c, w, dropout, rng);
  enc_.given_drop = nullptr;
}

// n_[t] rows run at decoder step t (t = 1..T-1), from row r_[t] of the N_ rows in all.
void TrainingGraph::plan_steps(const text::Batch& batch) {
  n_.assign(T_ + 1, 0);
  r_.assign(T_ + 1, 0);
  N_ = 0;
  for (int t = 1; t < T_; ++t) {
    n_[t] = rows_at_step(batch, order_, t);
    r_[t] = (int)N_;
    N_ += n_[t];
  }
  r_[T_] = (int)N_;
}

// The decoder's dropout masks by row: embedding dropout [N,E], then output dropout [N,LO],
// drawn in that order (or the given ones, by batch column, gathered into rows).
void TrainingGraph::draw_step_masks(const ModelConfig& c, float dropout, Rng* rng) {
  const int E = c.emb_dim, LO = D_ + C_ + E, T = T_, B = B_;
  const std::size_t N = (std::size_t)N_;
  auto gather = [&](const std::vector<float>& mask, int W, float* rows) {
    if (mask.size() != (std::size_t)T * B * W) throw Error("dropout masks do not match the batch");
    for (int t = 1; t < T; ++t)
      for (int i = 0; i < n_[t]; ++i)
        std::memcpy(rows + ((std::size_t)r_[t] + i) * W,
                    mask.data() + ((std::size_t)t * B + order_[i]) * W, sizeof(float) * W);
  };
  float* dm = dropout > 0.0f ? grow(drop_, N * E) : nullptr;
  if (dm && !given_src_drop_.empty())
    gather(given_trg_drop_, E, dm);
  else if (dm)
    layers::dropout_mask((std::int64_t)(N * E), dropout, *rng, dm);
  else
    drop_.clear();
  float* om = out_p_ > 0.0f ? grow(out_drop_, N * LO) : nullptr;
  if (om && !given_out_drop_.empty())
    gather(given_out_drop_, LO, om);
  else if (om)
    layers::dropout_mask((std::int64_t)(N * LO), out_p_, *rng, om);
  else
    out_drop_.clear();
}

// Decoder steps 1..T-1 over the planned rows (each feeding the reference or the argmax by its
// coin), then the summed cross-entropy.
double TrainingGraph::decode_steps(const ModelConfig& c, const Weights& w,
                                   const std::vector<unsigned char>& coins) {
  const int E = c.emb_dim, D = D_, C = C_, V = V_, XI = E + C, LO = D + C + E;
  const int S = S_, T = T_, B = B_;
  const std::size_t N = (std::size_t)N_;
  int* y = grow(y_in_, N);
  int* tgt = grow(target_, N);
  float* dm = drop_.empty() ? nullptr : drop_.data();
  float* om = out_drop_.empty() ? nullptr : out_drop_.data();
  float* sp_all = grow(s_prev_, N * D);
  float* cache = grow(cache_, N * 4 * D);
  float* attn = grow(attn_, N * S);
  float* x = grow(x_, N * XI);
  float* out = grow(out_, N * LO);
  float* logits = grow(logits_, N * V);
  float* s = grow(s_, (std::size_t)B * D);
  float* q_all = grow(q_, N * D);  // queries of every step, for the backward
  float* gi = grow(gi_, (std::size_t)B * 3 * D);
  float* gh = grow(gh_, (std::size_t)B * 3 * D);
  float* ctx = grow(ctx_, (std::size_t)B * C);
  std::memcpy(s, enc_.s0.data(), sizeof(float) * B * D);
  for (int i = 0; i < n_[1]; ++i) y[i] = trg_[i];  // <sos>
  const DecoderMatrices mats = DecoderMatrices::of(c, w);
  for (int t = 1; t < T; ++t) {
    const int n = n_[t];
    const std::size_t r = r_[t];
    for (int i = 0; i < n; ++i) tgt[r + i] = trg_[(std::size_t)t * B + i];
    float* sp = sp_all + r * D;
    std::memcpy(sp, s, sizeof(float) * n * D);
    float* lt = logits + r * V;
    const DecoderStepBuffers buf{q_all + r * D,     attn + r * S, ctx, x + r * XI, gi, gh,
                                 cache + r * 4 * D, out + r * LO, lt};
    decoder_step(c, w, enc_, n, nullptr, y + r, dm ? dm + r * E : nullptr, sp, s, buf, mats,
                 om ? om + r * LO : nullptr);
    if (t + 1 < T) {
      const int n_next = n_[t + 1];
      int* y_next = y + r_[t + 1];
      if (coins[t]) {
        for (int i = 0; i < n_next; ++i) y_next[i] = trg_[(std::size_t)t * B + i];
      } else {
        layers::argmax_rows(n_next, V, lt, y_next);
      }
    }
  }
  return layers::softmax_ce_forward((int)N, V, logits, tgt, grow(lse_, N), ls_);
}

void TrainingGraph::draw_dropout_masks(const ModelConfig& c, const text::Batch& batch, float p,
                                       float p_out, Rng& rng, std::vector<float>& src,
                                       std::vector<float>& trg, std::vector<float>& out) {
  const int E = c.emb_dim, S = batch.src_len, T = batch.trg_len, B = batch.batch;
  const int LO = c.dec_hid_dim + 2 * c.enc_hid_dim + E;
  const std::vector<int> order = longest_target_first(batch);
  src.clear();
  trg.clear();
  out.clear();
  std::vector<float> drawn;
  if (p > 0.0f) {
    drawn.resize((std::size_t)S * B * E);  // [S, B internal, E], as Encoder draws
    layers::dropout_mask((std::int64_t)drawn.size(), p, rng, drawn.data());
    src.resize(drawn.size());
    for (int t = 0; t < S; ++t)
      for (int i = 0; i < B; ++i)
        std::memcpy(src.data() + ((std::size_t)t * B + order[i]) * E,
                    drawn.data() + ((std::size_t)t * B + i) * E, sizeof(float) * E);
  }
  // The decoder's rows over all steps [N, W], as forward() draws them, by batch column [T,B,W].
  auto decoder_mask = [&](float rate, int W, std::vector<float>& mask) {
    std::size_t N = 0;
    for (int t = 1; t < T; ++t) N += rows_at_step(batch, order, t);
    drawn.resize(N * W);
    layers::dropout_mask((std::int64_t)drawn.size(), rate, rng, drawn.data());
    mask.assign((std::size_t)T * B * W, 0.0f);
    std::size_t r = 0;
    for (int t = 1; t < T; ++t)
      for (int i = 0, n = rows_at_step(batch, order, t); i < n; ++i, ++r)
        std::memcpy(mask.data() + ((std::size_t)t * B + order[i]) * W, drawn.data() + r * W,
                    sizeof(float) * W);
  };
  if (p > 0.0f) decoder_mask(p, E, trg);
  if (p_out > 0.0f) decoder_mask(p_out, LO, out);
}

void TrainingGraph::set_dropout_masks(std::vector<float> src, std::vector<float> trg,
                                      std::vector<float> out) {
  given_src_drop_ = std::move(src);
  given_trg_drop_ = std::move(trg);
  given_out_drop_ = std::move(out);
}

void TrainingGraph::backward(const ModelConfig& c, const Weights& w, Weights& g, float scale) {
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim, V = c.trg_vocab_size;
  const int C = 2 * H, XI = E + C, LO = D + C + E;
  const int S = S_, T = T_, B = B_;
  const std::size_t N = (std::size_t)N_;
  const std::size_t SB = (std::size_t)S * B;
  // Output layer, batched over all time steps: dlogits in place of logits.
  float* dl = logits_.data();
  layers::softmax_ce_backward((int)N, V, dl, target_.data(), lse_.data(), scale, dl, ls_);
  float* dout = grow(dout_, N * LO);
  ops::linear_backward((int)N, LO, V, dl, out_.data(), w.out_w, dout, g.out_w, g.out_b, false);
  if (!out_drop_.empty())  // out_ holds the dropped input; its gradient passes the mask
    for (std::size_t k = 0; k < N * LO; ++k) dout[k] *= out_drop_[k];

  float* dgi = grow(dgi_, N * 3 * D);
  float* dgh = grow(dgh_, N * 3 * D);
  float* dq = grow(dq_, N * D);
  float* ds = grow(ds_, (std::size_t)B * D);
  float* dsp = grow(ds_prev_, (std::size_t)B * D);
  float* dx = grow(dx_, (std::size_t)B * XI);
  float* dctx = grow(dctx_, (std::size_t)B * C);
  float* de = grow(de_, (std::size_t)B * E);
  std::fill(ds, ds + (std::size_t)B * D, 0.0f);
  std::fill_n(grow(enc_.d_keys, SB * D), SB * D, 0.0f);
  std::fill_n(grow(enc_.d_outputs, SB * C), SB * C, 0.0f);
  const float* dm = drop_.empty() ? nullptr : drop_.data();
  for (int t = T - 1; t >= 1; --t) {
    const int n = n_[t];
    const std::size_t r = r_[t];
    const float* dot = dout + r * LO;
    for (int i = 0; i < n; ++i) {
      const float* src = dot + (std::size_t)i * LO;
      float* d = ds + (std::size_t)i * D;
      for (int k = 0; k < D; ++k) d[k] += src[k];
    }
    const float* sp = s_prev_.data() + r * D;
    layers::gru_cell_backward(n, D, ds, sp, cache_.data() + r * 4 * D, dgi + r * 3 * D,
                              dgh + r * 3 * D, dsp);
    ops::gemm(false, false, n, XI, 3 * D, 1.0f, dgi + r * 3 * D, 3 * D, w.dec_w_ih, XI, 0.0f, dx,
              XI);
    for (int i = 0; i < n; ++i) {
      const float* o = dot + (std::size_t)i * LO;
      const float* xi = dx + (std::size_t)i * XI;
      float* dc = dctx + (std::size_t)i * C;
      float* dei = de + (std::size_t)i * E;
      for (int k = 0; k < C; ++k) dc[k] = o[D + k] + xi[E + k];
      for (int k = 0; k < E; ++k) dei[k] = o[D + C + k] + xi[k];
    }
    layers::embedding_backward(n, E, y_in_.data() + r, de, E, dm ? dm + r * E : nullptr, g.dec_emb);
    ops::gemm(false, false, n, D, 3 * D, 1.0f, dgh + r * 3 * D, 3 * D, w.dec_w_hh, D, 1.0f, dsp, D);
    layers::attention_backward(n, S, B, D, C, dctx, q_.data() + r * D, enc_.keys.data(),
                               attn_.data() + r * S, enc_.outputs.data(), w.att_v, enc_.len.data(),
                               dq + r * D, enc_.d_keys.data(), enc_.d_outputs.data(), g.att_v);
    ops::gemm(false, false, n, D, D, 1.0f, dq + r * D, D, w.att_w, D + C, 1.0f, dsp, D);
    std::memcpy(ds, dsp, sizeof(float) * n * D);
  }
  // Decoder weight gradients of all steps in one GEMM each.
  ops::linear_backward((int)N, XI, 3 * D, dgi, x_.data(), nullptr, nullptr, g.dec_w_ih, g.dec_b_ih,
                       false);
  ops::linear_backward((int)N, D, 3 * D, dgh, s_prev_.data(), nullptr, nullptr, g.dec_w_hh,
                       g.dec_b_hh, false);
  ops::gemm(true, false, D, D, (int)N, 1.0f, dq, D, s_prev_.data(), D, 1.0f, g.att_w, D + C);
  enc_.backward(c, w, ds, g);
}

const float* TrainingGraph::logits(int t, int b) const {
  const int i = row_of_[b];
  if (t < 1 || t >= T_ || i >= n_[t]) return nullptr;
  return logits_.data() + ((std::size_t)r_[t] + i) * V_;
}

const float* TrainingGraph::attention(int t, int b) const {
  const int i = row_of_[b];
  if (t < 1 || t >= T_ || i >= n_[t]) return nullptr;
  return attn_.data() + ((std::size_t)r_[t] + i) * S_;
}

const float* TrainingGraph::encoder_output(int j, int b) const {
  return enc_.outputs.data() + ((std::size_t)j * B_ + row_of_[b]) * C_;
}

const float* TrainingGraph::s0(int b) const {
  return enc_.s0.data() + (std::size_t)row_of_[b] * D_;
}

}  // namespace nmt::model
