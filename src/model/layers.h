#pragma once
// The model's layers as forward/backward pairs of plain functions over flat row-major arrays.
// Backward functions accumulate parameter gradients with += and say when they overwrite.
#include <cstdint>

namespace nmt {
class Rng;
}

namespace nmt::layers {

// Embedding lookup with dropout: out[n,E] = table[ids[n]] * mask[n,E]; mask may be null.
void embedding_forward(int n, int E, const int* ids, const float* table, const float* mask,
                       float* out, int ld_out);
// Sparse gradient: dtable[ids[i]] += dout[i] * mask[i] (only the rows that were used).
void embedding_backward(int n, int E, const int* ids, const float* dout, int ld_dout,
                        const float* mask, float* dtable);

// Inverted dropout mask [n]: 0 with probability p, else 1/(1-p). p == 0 gives all ones.
void dropout_mask(std::int64_t n, float p, Rng& rng, float* mask);

// GRU cell, PyTorch gate order (r, z, n), for rows [n]:
// gi[n,3H] = x W_ih^T + b_ih, gh[n,3H] = h W_hh^T + b_hh (precomputed by GEMMs),
// h_out[n,H]; cache[n,4H] keeps r | z | n | gh_n for backward.
// With mask (row b inactive when mask[b]==0) an inactive row keeps h_prev.
void gru_cell_forward(int n, int H, const float* gi, const float* gh, const float* h_prev,
                      float* h_out, float* cache, const unsigned char* mask = nullptr);
// From dh_out[n,H]: dgi[n,3H], dgh[n,3H] (overwritten; zero on inactive rows) and
// dh_prev_direct[n,H] = dh_out * z (= dh_out on inactive rows), the part not through W_hh.
void gru_cell_backward(int n, int H, const float* dh_out, const float* h_prev, const float* cache,
                       float* dgi, float* dgh, float* dh_prev_direct,
                       const unsigned char* mask = nullptr);

// Additive attention step for rows b < n over a source of S positions stored time-major with
// batch stride B: keys [S,B,D] (= Hs W_h^T + b_att), values [S,B,C] (= Hs), q[n,D] (= s W_s^T).
// score_j = tanh(keys_j + q)·v, masked to j < src_len[b]; attn[n,S] softmax weights
// (0 beyond src_len), ctx[n,C] = sum_j attn_j values_j.
// Row b reads source column cols[b] (cols == null: column b), as beams and compacted batches do.
// A trace (decode/trace.h) also gets what the kernel otherwise does not keep: energy[n,S,D] =
// tanh(keys_j + q) and scores[n,S] (-inf beyond src_len; energies there 0), when not null.
void attention_forward(int n, int S, int B, int D, int C, const float* q, const float* keys,
                       const float* values, const float* v, const int* src_len, float* attn,
                       float* ctx, const int* cols = nullptr, float* energy = nullptr,
                       float* scores = nullptr);
// Given dctx[n,C] and the forward's q, keys and attn: dq[n,D] (overwritten), dkeys[S,B,D] +=,
// dvalues[S,B,C] +=, dv[D] +=.
void attention_backward(int n, int S, int B, int D, int C, const float* dctx, const float* q,
                        const float* keys, const float* attn, const float* values, const float* v,
                        const int* src_len, float* dq, float* dkeys, float* dvalues, float* dv);

// Softmax cross-entropy of logits[n,V] against targets[n]; returns the summed loss and stores
// each row's log-sum-exp in lse[n] for the backward. With label smoothing ls (PyTorch's
// CrossEntropyLoss(label_smoothing=ls)) the target is (1 - ls) onehot + ls / V:
// loss = lse - (1 - ls) x[target] - ls mean(x). ls = 0 is the plain loss, bit for bit.
double softmax_ce_forward(int n, int V, const float* logits, const int* targets, float* lse,
                          float ls = 0.0f);
// dlogits[n,V] = (softmax(logits) - (1 - ls) onehot(target) - ls / V) * scale; may alias logits.
void softmax_ce_backward(int n, int V, const float* logits, const int* targets, const float* lse,
                         float scale, float* dlogits, float ls = 0.0f);

// Index of the largest value of each row of x[n,V] (first one on ties, like torch.argmax).
void argmax_rows(int n, int V, const float* x, int* out);

}  // namespace nmt::layers
