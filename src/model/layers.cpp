#include "model/layers.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/rng.h"
#include "tensor/ops.h"

namespace nmt::layers {

using ops::fast_exp;
using ops::fast_sigmoid;
using ops::fast_tanh;

void embedding_forward(int n, int E, const int* ids, const float* table, const float* mask,
                       float* out, int ld_out) {
  for (int i = 0; i < n; ++i) {
    const float* row = table + (std::size_t)ids[i] * E;
    float* o = out + (std::size_t)i * ld_out;
    if (mask) {
      const float* m = mask + (std::size_t)i * E;
#pragma omp simd
      for (int k = 0; k < E; ++k) o[k] = row[k] * m[k];
    } else {
      std::memcpy(o, row, sizeof(float) * E);
    }
  }
}

void embedding_backward(int n, int E, const int* ids, const float* dout, int ld_dout,
                        const float* mask, float* dtable) {
  for (int i = 0; i < n; ++i) {
    float* g = dtable + (std::size_t)ids[i] * E;
    const float* d = dout + (std::size_t)i * ld_dout;
    if (mask) {
      const float* m = mask + (std::size_t)i * E;
#pragma omp simd
      for (int k = 0; k < E; ++k) g[k] += d[k] * m[k];
    } else {
#pragma omp simd
      for (int k = 0; k < E; ++k) g[k] += d[k];
    }
  }
}

void dropout_mask(std::int64_t n, float p, Rng& rng, float* mask) {
  const float keep = 1.0f / (1.0f - p);
  for (std::int64_t i = 0; i < n; ++i) mask[i] = (p > 0.0f && rng.uniform() < p) ? 0.0f : keep;
}

void gru_cell_forward(int n, int H, const float* gi, const float* gh, const float* h_prev,
                      float* h_out, float* cache, const unsigned char* mask) {
#pragma omp parallel for schedule(static) if (n * H >= 32768)
  for (int b = 0; b < n; ++b) {
    const float* xi = gi + (std::size_t)b * 3 * H;
    const float* hh = gh + (std::size_t)b * 3 * H;
    const float* hp = h_prev + (std::size_t)b * H;
    float* ho = h_out + (std::size_t)b * H;
    if (mask && !mask[b]) {
      std::memcpy(ho, hp, sizeof(float) * H);
      continue;
    }
    float* c = cache + (std::size_t)b * 4 * H;
#pragma omp simd
    for (int k = 0; k < H; ++k) {
      const float r = fast_sigmoid(xi[k] + hh[k]);
      const float z = fast_sigmoid(xi[H + k] + hh[H + k]);
      const float nn = fast_tanh(xi[2 * H + k] + r * hh[2 * H + k]);
      ho[k] = (1.0f - z) * nn + z * hp[k];
      c[k] = r;
      c[H + k] = z;
      c[2 * H + k] = nn;
      c[3 * H + k] = hh[2 * H + k];
    }
  }
}

void gru_cell_backward(int n, int H, const float* dh_out, const float* h_prev, const float* cache,
                       float* dgi, float* dgh, float* dh_prev_direct, const unsigned char* mask) {
#pragma omp parallel for schedule(static) if (n * H >= 32768)
  for (int b = 0; b < n; ++b) {
    const float* dh = dh_out + (std::size_t)b * H;
    float* di = dgi + (std::size_t)b * 3 * H;
    float* dhh = dgh + (std::size_t)b * 3 * H;
    float* dp = dh_prev_direct + (std::size_t)b * H;
    if (mask && !mask[b]) {
      std::memset(di, 0, sizeof(float) * 3 * H);
      std::memset(dhh, 0, sizeof(float) * 3 * H);
      std::memcpy(dp, dh, sizeof(float) * H);
      continue;
    }
    const float* hp = h_prev + (std::size_t)b * H;
    const float* c = cache + (std::size_t)b * 4 * H;
#pragma omp simd
    for (int k = 0; k < H; ++k) {
      const float r = c[k], z = c[H + k], nn = c[2 * H + k], ghn = c[3 * H + k];
      const float dn = dh[k] * (1.0f - z);
      const float dz = dh[k] * (hp[k] - nn);
      const float dn_pre = dn * (1.0f - nn * nn);
      const float dr_pre = dn_pre * ghn * r * (1.0f - r);
      const float dz_pre = dz * z * (1.0f - z);
      di[k] = dr_pre;
      di[H + k] = dz_pre;
      di[2 * H + k] = dn_pre;
      dhh[k] = dr_pre;
      dhh[H + k] = dz_pre;
      dhh[2 * H + k] = dn_pre * r;
      dp[k] = dh[k] * z;
    }
  }
}

// The energies and scores of one row of attention_forward, as it computes them.
static void trace_attention(int row, int b, int len, int S, int B, int D, const float* qb,
                            const float* keys, const float* v, float* energy, float* scores) {
  for (int j = 0; j < S; ++j) {
    float* e = energy ? energy + ((std::size_t)row * S + j) * D : nullptr;
    if (j >= len) {
      if (e) std::memset(e, 0, sizeof(float) * D);
      if (scores) scores[(std::size_t)row * S + j] = -std::numeric_limits<float>::infinity();
      continue;
    }
    const float* kj = keys + ((std::size_t)j * B + b) * D;
    float score = 0.0f;
#pragma omp simd reduction(+ : score)
    for (int k = 0; k < D; ++k) score += fast_tanh(kj[k] + qb[k]) * v[k];
    if (scores) scores[(std::size_t)row * S + j] = score;
    if (e)
      for (int k = 0; k < D; ++k) e[k] = fast_tanh(kj[k] + qb[k]);
  }
}

void attention_forward(int n, int S, int B, int D, int C, const float* q, const float* keys,
                       const float* values, const float* v, const int* src_len, float* attn,
                       float* ctx, const int* cols, float* energy, float* scores) {
#pragma omp parallel for schedule(static) if (n * S * D >= 65536)
  for (int row = 0; row < n; ++row) {
    const int b = cols ? cols[row] : row;
    const int len = src_len[b];
    const float* qb = q + (std::size_t)row * D;
    float* a = attn + (std::size_t)row * S;
    float max_score = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < len; ++j) {
      const float* kj = keys + ((std::size_t)j * B + b) * D;
      float score = 0.0f;
#pragma omp simd reduction(+ : score)
      for (int k = 0; k < D; ++k) score += fast_tanh(kj[k] + qb[k]) * v[k];
      a[j] = score;
      max_score = std::fmax(max_score, score);
    }
    float total = 0.0f;
    for (int j = 0; j < len; ++j) {
      a[j] = std::exp(a[j] - max_score);
      total += a[j];
    }
    const float inv = 1.0f / total;
    for (int j = 0; j < len; ++j) a[j] *= inv;
    for (int j = len; j < S; ++j) a[j] = 0.0f;
    if (energy || scores) trace_attention(row, b, len, S, B, D, qb, keys, v, energy, scores);
    float* cb = ctx + (std::size_t)row * C;
    std::memset(cb, 0, sizeof(float) * C);
    for (int j = 0; j < len; ++j) {
      const float* vj = values + ((std::size_t)j * B + b) * C;
      const float aj = a[j];
#pragma omp simd
      for (int k = 0; k < C; ++k) cb[k] += aj * vj[k];
    }
  }
}

void attention_backward(int n, int S, int B, int D, int C, const float* dctx, const float* q,
                        const float* keys, const float* attn, const float* values, const float* v,
                        const int* src_len, float* dq, float* dkeys, float* dvalues, float* dv) {
  // Rows touch disjoint parts of dkeys/dvalues; dv gets one partial sum per thread. The
  // energies tanh(k_j + q) are recomputed rather than kept from the forward: [N,S,D] floats
  // would be the largest activation of a batch, the recomputation costs < 1% of a step.
  const int nthreads = ops::threads();
  thread_local std::vector<float> dv_part;
  if (dv_part.size() < (std::size_t)nthreads * D) dv_part.resize((std::size_t)nthreads * D);
  std::fill_n(dv_part.data(), (std::size_t)nthreads * D, 0.0f);
  float* dv_all = dv_part.data();
#pragma omp parallel num_threads(nthreads) if (n * S * D >= 65536)
  {
    const int tid = omp_get_thread_num();
    float* dvp = dv_all + (std::size_t)tid * D;
    thread_local std::vector<float> da;
    if (da.size() < (std::size_t)S) da.resize(S);
#pragma omp for schedule(static)
    for (int b = 0; b < n; ++b) {
      const int len = src_len[b];
      const float* g = dctx + (std::size_t)b * C;
      const float* a = attn + (std::size_t)b * S;
      float dot = 0.0f;
      for (int j = 0; j < len; ++j) {
        const float* vj = values + ((std::size_t)j * B + b) * C;
        float* dvj = dvalues + ((std::size_t)j * B + b) * C;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int k = 0; k < C; ++k) {
          s += g[k] * vj[k];
          dvj[k] += a[j] * g[k];
        }
        da[j] = s;
        dot += a[j] * s;
      }
      const float* qb = q + (std::size_t)b * D;
      float* dqb = dq + (std::size_t)b * D;
      std::memset(dqb, 0, sizeof(float) * D);
      for (int j = 0; j < len; ++j) {
        const float dscore = a[j] * (da[j] - dot);
        const float* kj = keys + ((std::size_t)j * B + b) * D;
        float* dkj = dkeys + ((std::size_t)j * B + b) * D;
#pragma omp simd
        for (int k = 0; k < D; ++k) {
          const float e = fast_tanh(kj[k] + qb[k]);
          dvp[k] += dscore * e;
          const float dpre = dscore * v[k] * (1.0f - e * e);
          dkj[k] += dpre;
          dqb[k] += dpre;
        }
      }
    }
  }
  for (int t = 0; t < nthreads; ++t)
    for (int k = 0; k < D; ++k) dv[k] += dv_all[(std::size_t)t * D + k];
}

double softmax_ce_forward(int n, int V, const float* logits, const int* targets, float* lse,
                          float ls) {
  double loss = 0.0;
#pragma omp parallel for reduction(+ : loss) schedule(static) if (n * V >= 65536)
  for (int i = 0; i < n; ++i) {
    const float* x = logits + (std::size_t)i * V;
    const float mx = ops::max_of(x, V);
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < V; ++k) s += fast_exp(x[k] - mx);
    lse[i] = mx + std::log(s);
    if (ls == 0.0f) {
      loss += (double)lse[i] - x[targets[i]];
    } else {
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int k = 0; k < V; ++k) sum += x[k];
      loss += (double)lse[i] - (1.0 - ls) * x[targets[i]] - ls * sum / V;
    }
  }
  return loss;
}

void softmax_ce_backward(int n, int V, const float* logits, const int* targets, const float* lse,
                         float scale, float* dlogits, float ls) {
  const float uniform = ls / V * scale, onehot = (1.0f - ls) * scale;
#pragma omp parallel for schedule(static) if (n * V >= 65536)
  for (int i = 0; i < n; ++i) {
    const float* x = logits + (std::size_t)i * V;
    float* d = dlogits + (std::size_t)i * V;
    const float l = lse[i];
    if (ls == 0.0f) {
#pragma omp simd
      for (int k = 0; k < V; ++k) d[k] = fast_exp(x[k] - l) * scale;
      d[targets[i]] -= scale;
    } else {
#pragma omp simd
      for (int k = 0; k < V; ++k) d[k] = fast_exp(x[k] - l) * scale - uniform;
      d[targets[i]] -= onehot;
    }
  }
}

void argmax_rows(int n, int V, const float* x, int* out) {
#pragma omp parallel for schedule(static) if ((long)n * V >= 65536)
  for (int i = 0; i < n; ++i) {
    const float* r = x + (std::size_t)i * V;
    int best = 0;
    for (int k = 1; k < V; ++k)
      if (r[k] > r[best]) best = k;
    out[i] = best;
  }
}

}  // namespace nmt::layers
