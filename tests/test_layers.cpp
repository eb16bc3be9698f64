// Every layer's backward against central finite differences (fp32 layers, objective
// L = sum(out ⊙ R) with a fixed random R), the whole TrainingGraph with dropout and mixed
// teacher-forcing coins, the fast math functions, Adam, and batch invariance (design §2).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>

#include "common/rng.h"
#include "model/layers.h"
#include "model/params.h"
#include "model/seq2seq.h"
#include "tensor/ops.h"
#include "test_util.h"
#include "train/updater.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

constexpr float kSentinel = 12345.0f;

// Indices of a strided [rows, cols] block (row stride ld).
std::vector<std::size_t> strided_indices(int rows, int cols, int ld) {
  std::vector<std::size_t> v;
  for (int i = 0; i < rows; ++i)
    for (int k = 0; k < cols; ++k) v.push_back((std::size_t)i * ld + k);
  return v;
}

// Finite-difference tolerance of the layer checks (see kFdFloor in test_util.h): tight enough
// that a gate gradient off by 1% (relative error 0.01 / 2.01 on |fd| + |an|) fails.
constexpr double kFdRtol = 2e-3;

#define EXPECT_GRAD_OK(res)                                               \
  do {                                                                    \
    const auto& r_ = (res);                                               \
    EXPECT_GT(r_.checked, 0);                                             \
    EXPECT_EQ(r_.failed, 0) << r_.first << " (worst " << r_.worst << ")"; \
  } while (0)

}  // namespace

// ---------------------------------------------------------------------------------------------
// Embedding and dropout

TEST(Layers, DropoutMaskValuesAndRate) {
  Rng rng(7);
  std::vector<float> mask(20000);
  layers::dropout_mask((std::int64_t)mask.size(), 0.0f, rng, mask.data());
  for (float m : mask) ASSERT_EQ(m, 1.0f);
  layers::dropout_mask((std::int64_t)mask.size(), 0.5f, rng, mask.data());
  int zeros = 0;
  for (float m : mask) {
    ASSERT_TRUE(m == 0.0f || m == 2.0f) << m;
    zeros += m == 0.0f;
  }
  EXPECT_NEAR(zeros / (double)mask.size(), 0.5, 0.02);
  layers::dropout_mask((std::int64_t)mask.size(), 0.2f, rng, mask.data());
  zeros = 0;
  for (float m : mask) {
    ASSERT_TRUE(m == 0.0f || m == 1.25f) << m;
    zeros += m == 0.0f;
  }
  EXPECT_NEAR(zeros / (double)mask.size(), 0.2, 0.02);
  // Same seed, same mask.
  Rng a(99), b(99);
  std::vector<float> ma(1000), mb(1000);
  layers::dropout_mask(1000, 0.5f, a, ma.data());
  layers::dropout_mask(1000, 0.5f, b, mb.data());
  EXPECT_EQ(ma, mb);
}

TEST(Layers, EmbeddingForwardAndBackwardWithDropout) {
  for (bool use_mask : {false, true}) {
    SCOPED_TRACE(use_mask ? "with dropout mask" : "without mask");
    Rng rng(11);
    const int V = 7, E = 5, n = 6, ld = 8;
    const std::vector<int> ids{3, 0, 3, 6, 2, 3};  // row 3 three times: gradients accumulate
    auto table = uniform_vec(rng, (std::size_t)V * E);
    std::vector<float> mask((std::size_t)n * E);
    layers::dropout_mask((std::int64_t)mask.size(), 0.5f, rng, mask.data());
    const float* mp = use_mask ? mask.data() : nullptr;
    const auto R = uniform_vec(rng, (std::size_t)n * E, -1.0f, 1.0f);
    std::vector<float> out((std::size_t)n * ld, kSentinel);
    auto f = [&] {
      layers::embedding_forward(n, E, ids.data(), table.data(), mp, out.data(), ld);
      return dot_objective(out.data(), R.data(), n, E, ld);
    };
    f();
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < ld; ++k) {
        const float o = out[(std::size_t)i * ld + k];
        if (k >= E) {
          EXPECT_EQ(o, kSentinel) << "wrote past E in the strided output";
        } else {
          const float want = table[(std::size_t)ids[i] * E + k] * (mp ? mp[i * E + k] : 1.0f);
          EXPECT_EQ(o, want);
        }
      }
    // dout with its own stride; dtable is accumulated into (starts at 0.25).
    const int ldd = 9;
    std::vector<float> dout((std::size_t)n * ldd, kSentinel);
    for (int i = 0; i < n; ++i)
      std::memcpy(dout.data() + (std::size_t)i * ldd, R.data() + i * E, sizeof(float) * E);
    std::vector<float> dtable((std::size_t)V * E, 0.25f);
    layers::embedding_backward(n, E, ids.data(), dout.data(), ldd, mp, dtable.data());
    for (auto& g : dtable) g -= 0.25f;
    // Rows never looked up (1, 4, 5) get no gradient.
    for (int row : {1, 4, 5})
      for (int k = 0; k < E; ++k) EXPECT_EQ(dtable[(std::size_t)row * E + k], 0.0f);
    EXPECT_GRAD_OK(check_gradient(f, table.data(), dtable.data(), all_indices(table.size()), 1e-2f,
                                  kFdRtol, "dtable"));
  }
}

// ---------------------------------------------------------------------------------------------
// Linear (ops::linear_forward / linear_backward) with row strides

TEST(Layers, LinearBackwardWithStridesAndBias) {
  Rng rng(21);
  const int N = 4, in = 5, out = 3, ldx = 7, ldy = 6, lddx = 9;
  auto x = uniform_vec(rng, (std::size_t)N * ldx);
  auto W = uniform_vec(rng, (std::size_t)out * in);
  auto b = uniform_vec(rng, out);
  const auto R = uniform_vec(rng, (std::size_t)N * out, -1.0f, 1.0f);
  std::vector<float> y((std::size_t)N * ldy, kSentinel);
  auto f = [&] {
    ops::linear_forward(N, in, out, x.data(), W.data(), b.data(), y.data(), ldx, ldy);
    return dot_objective(y.data(), R.data(), N, out, ldy);
  };
  f();
  for (int i = 0; i < N; ++i)
    for (int o = 0; o < ldy; ++o) {
      if (o >= out) {
        EXPECT_EQ(y[(std::size_t)i * ldy + o], kSentinel);
        continue;
      }
      double ref = b[o];
      for (int k = 0; k < in; ++k) ref += (double)x[(std::size_t)i * ldx + k] * W[o * in + k];
      EXPECT_NEAR(y[(std::size_t)i * ldy + o], ref, 1e-5);
    }
  std::vector<float> dy((std::size_t)N * ldy, kSentinel);
  for (int i = 0; i < N; ++i)
    std::memcpy(dy.data() + (std::size_t)i * ldy, R.data() + i * out, sizeof(float) * out);
  std::vector<float> dx((std::size_t)N * lddx, kSentinel), dW(W.size(), 0.5f), db(out, 0.25f);
  ops::linear_backward(N, in, out, dy.data(), x.data(), W.data(), dx.data(), dW.data(), db.data(),
                       false, ldx, ldy, lddx);
  for (auto& g : dW) g -= 0.5f;  // dW and db accumulate
  for (auto& g : db) g -= 0.25f;
  for (int i = 0; i < N; ++i)
    for (int k = in; k < lddx; ++k) EXPECT_EQ(dx[(std::size_t)i * lddx + k], kSentinel);
  // Map dx (stride lddx) onto x's layout (stride ldx) for the check.
  std::vector<float> dx_x(x.size(), 0.0f);
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < in; ++k) dx_x[(std::size_t)i * ldx + k] = dx[(std::size_t)i * lddx + k];
  EXPECT_GRAD_OK(
      check_gradient(f, x.data(), dx_x.data(), strided_indices(N, in, ldx), 1e-2f, kFdRtol, "dx"));
  EXPECT_GRAD_OK(
      check_gradient(f, W.data(), dW.data(), all_indices(W.size()), 1e-2f, kFdRtol, "dW"));
  EXPECT_GRAD_OK(
      check_gradient(f, b.data(), db.data(), all_indices(b.size()), 1e-2f, kFdRtol, "db"));

  // accumulate_dx adds to what is there; without it dx is overwritten.
  std::vector<float> dx2((std::size_t)N * lddx, 1.0f);
  ops::linear_backward(N, in, out, dy.data(), x.data(), W.data(), dx2.data(), nullptr, nullptr,
                       true, ldx, ldy, lddx);
  std::vector<float> dx3((std::size_t)N * lddx, 7.0f);
  ops::linear_backward(N, in, out, dy.data(), x.data(), W.data(), dx3.data(), nullptr, nullptr,
                       false, ldx, ldy, lddx);
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < in; ++k) {
      const std::size_t j = (std::size_t)i * lddx + k;
      EXPECT_NEAR(dx2[j], 1.0f + dx[j], 1e-6);
      EXPECT_FLOAT_EQ(dx3[j], dx[j]);
    }

  // No bias: y = x W^T.
  f();  // y again with the unperturbed inputs
  std::vector<float> y0((std::size_t)N * ldy, kSentinel);
  ops::linear_forward(N, in, out, x.data(), W.data(), nullptr, y0.data(), ldx, ldy);
  for (int i = 0; i < N; ++i)
    for (int o = 0; o < out; ++o)
      EXPECT_NEAR(y0[(std::size_t)i * ldy + o], y[(std::size_t)i * ldy + o] - b[o], 1e-5);
}

TEST(Layers, AddColsumWithStride) {
  const int N = 3, C = 4, ld = 6;
  std::vector<float> dy((std::size_t)N * ld);
  for (std::size_t i = 0; i < dy.size(); ++i) dy[i] = (float)i;
  std::vector<float> db(C, 1.0f);
  ops::add_colsum(N, C, dy.data(), ld, db.data());
  for (int c = 0; c < C; ++c) EXPECT_EQ(db[c], 1.0f + c + (ld + c) + (2 * ld + c));
}

// ---------------------------------------------------------------------------------------------
// GRU cell

namespace {

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct GruCase {
  int n = 4, H = 5;
  std::vector<float> gi, gh, hp, R, h, cache;
  std::vector<unsigned char> mask;
  explicit GruCase(std::uint64_t seed, bool masked) {
    Rng rng(seed);
    gi = uniform_vec(rng, (std::size_t)n * 3 * H, -1.0f, 1.0f);
    gh = uniform_vec(rng, (std::size_t)n * 3 * H, -1.0f, 1.0f);
    hp = uniform_vec(rng, (std::size_t)n * H);
    R = uniform_vec(rng, (std::size_t)n * H, -1.0f, 1.0f);
    h.assign((std::size_t)n * H, kSentinel);
    cache.assign((std::size_t)n * 4 * H, 0.0f);
    if (masked) mask = {1, 0, 1, 0};
  }
  const unsigned char* m() const { return mask.empty() ? nullptr : mask.data(); }
  double forward() {
    layers::gru_cell_forward(n, H, gi.data(), gh.data(), hp.data(), h.data(), cache.data(), m());
    return dot_objective(h.data(), R.data(), n, H, H);
  }
};

}  // namespace

TEST(Layers, GruCellForwardMatchesPyTorchDefinition) {
  GruCase c(31, false);
  c.forward();
  const int H = c.H;
  for (int b = 0; b < c.n; ++b)
    for (int k = 0; k < H; ++k) {
      const float* gi = c.gi.data() + (std::size_t)b * 3 * H;
      const float* gh = c.gh.data() + (std::size_t)b * 3 * H;
      const double r = sigmoid_ref((double)gi[k] + gh[k]);
      const double z = sigmoid_ref((double)gi[H + k] + gh[H + k]);
      const double nn = std::tanh((double)gi[2 * H + k] + r * gh[2 * H + k]);
      const double want = (1 - z) * nn + z * c.hp[(std::size_t)b * H + k];
      EXPECT_NEAR(c.h[(std::size_t)b * H + k], want, 2e-6) << "row " << b << " unit " << k;
    }
}

TEST(Layers, GruCellBackward) {
  for (bool masked : {false, true}) {
    SCOPED_TRACE(masked ? "with mask" : "without mask");
    GruCase c(41, masked);
    const int n = c.n, H = c.H;
    c.forward();
    std::vector<float> dgi((std::size_t)n * 3 * H, kSentinel),
        dgh((std::size_t)n * 3 * H, kSentinel);
    std::vector<float> dhp((std::size_t)n * H, kSentinel);
    layers::gru_cell_backward(n, H, c.R.data(), c.hp.data(), c.cache.data(), dgi.data(), dgh.data(),
                              dhp.data(), c.m());
    if (masked) {
      for (int b : {1, 3}) {
        for (int k = 0; k < H; ++k) {
          // Inactive rows pass h through and get exactly dh back, with zero gate gradients.
          EXPECT_EQ(c.h[(std::size_t)b * H + k], c.hp[(std::size_t)b * H + k]);
          EXPECT_EQ(dhp[(std::size_t)b * H + k], c.R[(std::size_t)b * H + k]);
        }
        for (int k = 0; k < 3 * H; ++k) {
          EXPECT_EQ(dgi[(std::size_t)b * 3 * H + k], 0.0f);
          EXPECT_EQ(dgh[(std::size_t)b * 3 * H + k], 0.0f);
        }
      }
    }
    auto f = [&] { return c.forward(); };
    EXPECT_GRAD_OK(check_gradient(f, c.gi.data(), dgi.data(), all_indices(c.gi.size()), 1e-2f,
                                  kFdRtol, "dgi"));
    EXPECT_GRAD_OK(check_gradient(f, c.gh.data(), dgh.data(), all_indices(c.gh.size()), 1e-2f,
                                  kFdRtol, "dgh"));
    EXPECT_GRAD_OK(check_gradient(f, c.hp.data(), dhp.data(), all_indices(c.hp.size()), 1e-2f,
                                  kFdRtol, "dh_prev"));
  }
}

TEST(Layers, GradientCheckCatchesWrongGradients) {
  GruCase c(43, false);
  const int n = c.n, H = c.H;
  c.forward();
  std::vector<float> dgi((std::size_t)n * 3 * H), dgh((std::size_t)n * 3 * H),
      dhp((std::size_t)n * H);
  layers::gru_cell_backward(n, H, c.R.data(), c.hp.data(), c.cache.data(), dgi.data(), dgh.data(),
                            dhp.data());
  auto f = [&] { return c.forward(); };
  // A sign error in one gate's gradient.
  auto wrong = dgh;
  for (int b = 0; b < n; ++b)
    for (int k = 0; k < H; ++k) wrong[(std::size_t)b * 3 * H + H + k] *= -1.0f;  // z gate
  auto r = check_gradient(f, c.gh.data(), wrong.data(), all_indices(c.gh.size()), 1e-2f);
  EXPECT_GT(r.failed, 0) << "a negated z-gate gradient went unnoticed";
  // An index error: gradients of the r and n gates swapped.
  wrong = dgi;
  for (int b = 0; b < n; ++b)
    for (int k = 0; k < H; ++k)
      std::swap(wrong[(std::size_t)b * 3 * H + k], wrong[(std::size_t)b * 3 * H + 2 * H + k]);
  r = check_gradient(f, c.gi.data(), wrong.data(), all_indices(c.gi.size()), 1e-2f);
  EXPECT_GT(r.failed, 0) << "swapped gate gradients went unnoticed";
  // A single negated entry.
  wrong = dhp;
  wrong[7] = -wrong[7];
  r = check_gradient(f, c.hp.data(), wrong.data(), all_indices(c.hp.size()), 1e-2f);
  EXPECT_EQ(r.failed, 1) << "one negated dh_prev entry should fail exactly once";
  // One gate's gradient 1% off (dz_pre * 1.01 in gru_cell_backward): the old check
  // (|fd - an| / max(1, |fd|) <= 2e-2) passed this.
  wrong = dgh;
  for (int b = 0; b < n; ++b)
    for (int k = 0; k < H; ++k) wrong[(std::size_t)b * 3 * H + H + k] *= 1.01f;
  r = check_gradient(f, c.gh.data(), wrong.data(), all_indices(c.gh.size()), 1e-2f);
  EXPECT_GT(r.failed, 0) << "a z-gate gradient 1% off went unnoticed";
  // A small gradient returned as 0 (the old check let any |g| < 2e-2 through).
  wrong = dhp;
  std::size_t small = 0;
  for (std::size_t i = 0; i < dhp.size(); ++i)
    if (std::fabs(dhp[i]) > 1e-3f && (small == 0 || std::fabs(dhp[i]) < std::fabs(dhp[small])))
      small = i;
  ASSERT_LT(std::fabs(dhp[small]), 2e-2f) << "the case needs a small gradient";
  wrong[small] = 0.0f;
  r = check_gradient(f, c.hp.data(), wrong.data(), all_indices(c.hp.size()), 1e-2f);
  EXPECT_EQ(r.failed, 1) << "a zeroed gradient of " << dhp[small] << " went unnoticed";
  // And the correct gradients pass the same check.
  EXPECT_EQ(check_gradient(f, c.hp.data(), dhp.data(), all_indices(c.hp.size()), 1e-2f).failed, 0);
}

// ---------------------------------------------------------------------------------------------
// Attention

namespace {

struct AttCase {
  int n = 3, S = 5, B = 4, D = 4, C = 6;
  std::vector<int> len{5, 2, 4, 1};
  std::vector<float> q, keys, values, v, R, attn, ctx;
  explicit AttCase(std::uint64_t seed) {
    Rng rng(seed);
    q = uniform_vec(rng, (std::size_t)n * D);
    keys = uniform_vec(rng, (std::size_t)S * B * D, -1.0f, 1.0f);
    values = uniform_vec(rng, (std::size_t)S * B * C, -1.0f, 1.0f);
    v = uniform_vec(rng, D, -1.5f, 1.5f);
    R = uniform_vec(rng, (std::size_t)n * C, -1.0f, 1.0f);
  }
  double forward(const int* cols = nullptr, int rows = -1) {
    const int nr = rows < 0 ? n : rows;
    attn.assign((std::size_t)nr * S, kSentinel);
    ctx.assign((std::size_t)nr * C, kSentinel);
    layers::attention_forward(nr, S, B, D, C, q.data(), keys.data(), values.data(), v.data(),
                              len.data(), attn.data(), ctx.data(), cols);
    return dot_objective(ctx.data(), R.data(), nr, C, C);
  }
  // Reference in double for query row `row` reading source column b.
  void reference(int row, int b, std::vector<double>& a, std::vector<double>& c) const {
    a.assign(S, 0.0);
    c.assign(C, 0.0);
    double mx = -1e300;
    for (int j = 0; j < len[b]; ++j) {
      double s = 0;
      for (int k = 0; k < D; ++k)
        s += v[k] * std::tanh((double)keys[((std::size_t)j * B + b) * D + k] + q[row * D + k]);
      a[j] = s;
      mx = std::max(mx, s);
    }
    double tot = 0;
    for (int j = 0; j < len[b]; ++j) tot += (a[j] = std::exp(a[j] - mx));
    for (int j = 0; j < len[b]; ++j) {
      a[j] /= tot;
      for (int k = 0; k < C; ++k) c[k] += a[j] * values[((std::size_t)j * B + b) * C + k];
    }
  }
};

}  // namespace

TEST(Layers, AttentionForwardMatchesReferenceAndMasks) {
  AttCase c(51);
  c.forward();
  std::vector<double> a, ctx;
  for (int row = 0; row < c.n; ++row) {
    c.reference(row, row, a, ctx);
    double sum = 0;
    for (int j = 0; j < c.S; ++j) {
      const float got = c.attn[(std::size_t)row * c.S + j];
      if (j >= c.len[row]) {
        EXPECT_EQ(got, 0.0f) << "weight beyond src_len, row " << row;
      }
      EXPECT_NEAR(got, a[j], 1e-6);
      sum += got;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
    for (int k = 0; k < c.C; ++k) EXPECT_NEAR(c.ctx[(std::size_t)row * c.C + k], ctx[k], 1e-6);
  }
  // Values and keys beyond src_len (even NaN) do not matter.
  AttCase d = c;
  for (int b = 0; b < c.B; ++b)
    for (int j = c.len[b]; j < c.S; ++j) {
      for (int k = 0; k < c.D; ++k)
        d.keys[((std::size_t)j * c.B + b) * c.D + k] = std::numeric_limits<float>::quiet_NaN();
      for (int k = 0; k < c.C; ++k)
        d.values[((std::size_t)j * c.B + b) * c.C + k] = std::numeric_limits<float>::quiet_NaN();
    }
  d.forward();
  EXPECT_EQ(d.attn, c.attn);
  EXPECT_EQ(d.ctx, c.ctx);
}

TEST(Layers, AttentionColsMapRowsToSourceColumns) {
  AttCase c(53);
  // 6 query rows (e.g. beams) reading source columns in arbitrary order, repeated.
  const std::vector<int> cols{2, 0, 2, 3, 1, 0};
  const int rows = (int)cols.size();
  Rng rng(54);
  c.q = uniform_vec(rng, (std::size_t)rows * c.D);
  c.R = uniform_vec(rng, (std::size_t)rows * c.C, -1.0f, 1.0f);  // the objective spans all rows
  c.forward(cols.data(), rows);
  std::vector<double> a, ctx;
  for (int row = 0; row < rows; ++row) {
    c.reference(row, cols[row], a, ctx);
    for (int j = 0; j < c.S; ++j) {
      EXPECT_NEAR(c.attn[(std::size_t)row * c.S + j], a[j], 1e-6) << "row " << row;
      if (j >= c.len[cols[row]]) {
        EXPECT_EQ(c.attn[(std::size_t)row * c.S + j], 0.0f);
      }
    }
    for (int k = 0; k < c.C; ++k) EXPECT_NEAR(c.ctx[(std::size_t)row * c.C + k], ctx[k], 1e-6);
  }
}

TEST(Layers, AttentionBackward) {
  AttCase c(61);
  c.forward();
  std::vector<float> dq((std::size_t)c.n * c.D, kSentinel);
  std::vector<float> dkeys(c.keys.size(), 0.5f), dvalues(c.values.size(), 0.25f), dv(c.D, 0.125f);
  layers::attention_backward(c.n, c.S, c.B, c.D, c.C, c.R.data(), c.q.data(), c.keys.data(),
                             c.attn.data(), c.values.data(), c.v.data(), c.len.data(), dq.data(),
                             dkeys.data(), dvalues.data(), dv.data());
  for (auto& g : dkeys) g -= 0.5f;  // these accumulate
  for (auto& g : dvalues) g -= 0.25f;
  for (auto& g : dv) g -= 0.125f;
  // Positions beyond src_len and the column no row reads (b = 3 >= n) get nothing.
  for (int b = 0; b < c.B; ++b)
    for (int j = 0; j < c.S; ++j) {
      if (b < c.n && j < c.len[b]) continue;
      for (int k = 0; k < c.D; ++k) EXPECT_EQ(dkeys[((std::size_t)j * c.B + b) * c.D + k], 0.0f);
      for (int k = 0; k < c.C; ++k) EXPECT_EQ(dvalues[((std::size_t)j * c.B + b) * c.C + k], 0.0f);
    }
  auto f = [&] { return c.forward(); };
  EXPECT_GRAD_OK(
      check_gradient(f, c.q.data(), dq.data(), all_indices(c.q.size()), 1e-2f, kFdRtol, "dq"));
  EXPECT_GRAD_OK(check_gradient(f, c.keys.data(), dkeys.data(), all_indices(c.keys.size()), 1e-2f,
                                kFdRtol, "dkeys"));
  EXPECT_GRAD_OK(check_gradient(f, c.values.data(), dvalues.data(), all_indices(c.values.size()),
                                1e-2f, kFdRtol, "dvalues"));
  EXPECT_GRAD_OK(
      check_gradient(f, c.v.data(), dv.data(), all_indices(c.v.size()), 1e-2f, kFdRtol, "dv"));
  // Sanity: the gradients are not trivially small, so the check has teeth.
  double mx = 0;
  for (float g : dq) mx = std::max(mx, (double)std::fabs(g));
  EXPECT_GT(mx, 0.05);
}

TEST(Layers, AttentionBackwardIsIndependentOfThreads) {
  // dv is reduced over per-thread partial sums; a larger problem runs the parallel path.
  Rng rng(63);
  const int n = 64, S = 40, B = 64, D = 32, C = 16;
  std::vector<int> len(B);
  for (int b = 0; b < B; ++b) len[b] = 1 + (int)rng.below(S);
  auto q = uniform_vec(rng, (std::size_t)n * D), keys = uniform_vec(rng, (std::size_t)S * B * D);
  auto values = uniform_vec(rng, (std::size_t)S * B * C), v = uniform_vec(rng, D);
  auto dctx = uniform_vec(rng, (std::size_t)n * C);
  std::vector<float> attn((std::size_t)n * S), ctx((std::size_t)n * C);
  layers::attention_forward(n, S, B, D, C, q.data(), keys.data(), values.data(), v.data(),
                            len.data(), attn.data(), ctx.data());
  auto run = [&](int threads) {
    const int saved = ops::threads();
    ops::set_threads(threads);
    std::vector<float> dq((std::size_t)n * D), dk(keys.size()), dval(values.size()), dv(D);
    layers::attention_backward(n, S, B, D, C, dctx.data(), q.data(), keys.data(), attn.data(),
                               values.data(), v.data(), len.data(), dq.data(), dk.data(),
                               dval.data(), dv.data());
    ops::set_threads(saved);
    return std::make_tuple(dq, dk, dval, dv);
  };
  const auto [dq1, dk1, dval1, dv1] = run(1);
  const auto [dq2, dk2, dval2, dv2] = run(2);
  EXPECT_EQ(dq1, dq2);
  EXPECT_EQ(dk1, dk2);
  EXPECT_EQ(dval1, dval2);
  for (int k = 0; k < D; ++k) EXPECT_NEAR(dv1[k], dv2[k], 1e-5 * std::max(1.0f, std::fabs(dv1[k])));
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy and argmax

TEST(Layers, SoftmaxCrossEntropyForwardAndBackward) {
  Rng rng(71);
  const int n = 5, V = 7;
  auto logits = uniform_vec(rng, (std::size_t)n * V, -2.0f, 2.0f);
  logits[3] = 30.0f;  // a large logit: the max subtraction must keep it finite
  const std::vector<int> targets{0, 6, 3, 3, 1};
  std::vector<float> lse(n);
  const double loss = layers::softmax_ce_forward(n, V, logits.data(), targets.data(), lse.data());
  double ref = 0;
  for (int i = 0; i < n; ++i) {
    double mx = -1e300, s = 0;
    for (int k = 0; k < V; ++k) mx = std::max(mx, (double)logits[i * V + k]);
    for (int k = 0; k < V; ++k) s += std::exp(logits[i * V + k] - mx);
    EXPECT_NEAR(lse[i], mx + std::log(s), 1e-5);
    ref += mx + std::log(s) - logits[i * V + targets[i]];
  }
  EXPECT_NEAR(loss, ref, 1e-5 * std::max(1.0, ref));

  const float scale = 0.7f;
  std::vector<float> d((std::size_t)n * V, kSentinel);
  layers::softmax_ce_backward(n, V, logits.data(), targets.data(), lse.data(), scale, d.data());
  for (int i = 0; i < n; ++i) {  // each row sums to 0
    double s = 0;
    for (int k = 0; k < V; ++k) s += d[i * V + k];
    EXPECT_NEAR(s, 0.0, 1e-6);
  }
  std::vector<float> lse2(n);
  auto f = [&] {
    return scale * layers::softmax_ce_forward(n, V, logits.data(), targets.data(), lse2.data());
  };
  EXPECT_GRAD_OK(check_gradient(f, logits.data(), d.data(), all_indices(logits.size()), 3e-3f,
                                kFdRtol, "dlogits"));
  // In place (dlogits aliasing logits) gives the same.
  auto inplace = logits;
  layers::softmax_ce_backward(n, V, inplace.data(), targets.data(), lse.data(), scale,
                              inplace.data());
  EXPECT_EQ(inplace, d);
}

TEST(Layers, ArgmaxRowsTakesFirstOnTies) {
  const std::vector<float> x{1,  3,  3,  0,   //
                             -1, -1, -1, -1,  //
                             0,  0,  0,  5};
  std::vector<int> out(3);
  layers::argmax_rows(3, 4, x.data(), out.data());
  EXPECT_EQ(out, (std::vector<int>{1, 0, 3}));
}

// ---------------------------------------------------------------------------------------------
// Fast math, Adam

TEST(Layers, FastExpAccuracy) {
  double worst = 0;
  for (double x = -87.0; x <= 88.0; x += 0.001) {
    const double want = std::exp((double)(float)x);
    const double got = ops::fast_exp((float)x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  EXPECT_LT(worst, 5e-7) << "max relative error of fast_exp over [-87, 88]";
  // Clamped far outside: finite, no NaN, monotone at the ends.
  EXPECT_TRUE(std::isfinite(ops::fast_exp(1000.0f)));
  EXPECT_GE(ops::fast_exp(-1000.0f), 0.0f);
  EXPECT_LT(ops::fast_exp(-1000.0f), 1e-37f);
  EXPECT_EQ(ops::fast_exp(0.0f), 1.0f);
}

TEST(Layers, FastTanhAndSigmoidAccuracy) {
  double worst_tanh = 0, worst_sig = 0;
  for (double x = -20.0; x <= 20.0; x += 0.0007) {
    const float xf = (float)x;
    worst_tanh = std::max(worst_tanh, std::fabs(ops::fast_tanh(xf) - std::tanh((double)xf)));
    worst_sig = std::max(worst_sig, std::fabs(ops::fast_sigmoid(xf) - sigmoid_ref(xf)));
  }
  EXPECT_LT(worst_tanh, 5e-7);
  EXPECT_LT(worst_sig, 3e-7);
  // Relative accuracy of sigmoid deep in the tail (where log-probs would care).
  for (float x : {-15.0f, -30.0f, -60.0f})
    EXPECT_NEAR(ops::fast_sigmoid(x) / sigmoid_ref(x), 1.0, 1e-5) << x;
  // Odd symmetry, exact signs and saturation, small arguments.
  for (float x : {1e-6f, 1e-3f, 0.3f, 2.0f, 9.0f})
    EXPECT_EQ(ops::fast_tanh(-x), -ops::fast_tanh(x));
  EXPECT_EQ(ops::fast_tanh(0.0f), 0.0f);
  EXPECT_NEAR(ops::fast_tanh(1e-4f), 1e-4, 1e-10 + 1e-6);
  EXPECT_EQ(ops::fast_tanh(50.0f), 1.0f);
  EXPECT_EQ(ops::fast_tanh(-1000.0f), -1.0f);
  EXPECT_EQ(ops::fast_sigmoid(0.0f), 0.5f);
  EXPECT_EQ(ops::fast_sigmoid(1000.0f), 1.0f);
  EXPECT_GE(ops::fast_sigmoid(-1000.0f), 0.0f);
  EXPECT_FALSE(std::isnan(ops::fast_tanh(std::numeric_limits<float>::infinity())));
}

TEST(Layers, FastMathAndCrossEntropyPropagateNaN) {
  // std::exp/tanh and a softmax over a NaN logit give NaN, which the trainer's finiteness checks
  // rely on to notice a diverged model.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> logits{0.5f, nan, -1.0f, 2.0f};
  const int target = 0;
  float lse = 0;
  const double loss = layers::softmax_ce_forward(1, 4, logits.data(), &target, &lse);
  const bool exp_nan = std::isnan(ops::fast_exp(nan)), tanh_nan = std::isnan(ops::fast_tanh(nan)),
             sig_nan = std::isnan(ops::fast_sigmoid(nan)), loss_nan = std::isnan(loss);
  if (!exp_nan || !tanh_nan || !sig_nan || !loss_nan) {
    FAIL() << "bug: src/tensor/ops.h fast_exp clamps with fmin/fmax, which drop NaN, so "
              "fast_exp(NaN) = "
           << ops::fast_exp(nan) << ", fast_tanh(NaN) = " << ops::fast_tanh(nan)
           << ", fast_sigmoid(NaN) = " << ops::fast_sigmoid(nan)
           << " (expected NaN), and softmax_ce_forward over logits {0.5, NaN, -1, 2} "
              "returns the finite loss "
           << loss << " (layers.cpp also takes the row max with fmax)";
  }
}

TEST(Layers, AdamMatchesPyTorchSteps) {
  // torch.optim.Adam (no weight decay, amsgrad off):
  //   m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2
  //   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
  const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  std::vector<float> w{1.0f, -0.5f, 0.25f, 0.0f, 3.0f};
  std::vector<double> wr(w.begin(), w.end()), mr(w.size(), 0.0), vr(w.size(), 0.0);
  std::vector<float> m(w.size(), 0.0f), v(w.size(), 0.0f);
  const std::vector<std::vector<float>> grads{{0.5f, -0.1f, 1e-3f, 0.0f, 2.0f},
                                              {-0.5f, -0.2f, 2e-3f, 0.0f, 1.0f},
                                              {0.25f, 0.3f, -1e-3f, 1e-9f, -4.0f}};
  for (long t = 1; t <= (long)grads.size(); ++t) {
    const auto& g = grads[t - 1];
    ops::adam_update(w.data(), g.data(), m.data(), v.data(), w.size(), lr, b1, b2, eps, t);
    for (std::size_t i = 0; i < w.size(); ++i) {
      mr[i] = b1 * mr[i] + (1.0 - b1) * g[i];
      vr[i] = b2 * vr[i] + (1.0 - b2) * (double)g[i] * g[i];
      const double denom = std::sqrt(vr[i]) / std::sqrt(1.0 - std::pow((double)b2, t)) + eps;
      wr[i] -= lr / (1.0 - std::pow((double)b1, t)) * mr[i] / denom;
      // fp32 arithmetic ((1 - 0.999f) is 0.00099998713f): relative 1e-5 on the moments.
      EXPECT_NEAR(w[i], wr[i], 1e-6) << "step " << t << " value " << i;
      EXPECT_NEAR(m[i], mr[i], 1e-5 * std::fabs(mr[i]) + 1e-12);
      EXPECT_NEAR(v[i], vr[i], 1e-4 * std::fabs(vr[i]) + 1e-15);
    }
  }
  // Hand-computed first step: m̂ = g, v̂ = g², so w -= lr * g / (|g| + eps) ≈ lr * sign(g).
  std::vector<float> w1{1.0f}, m1{0.0f}, v1{0.0f};
  const float g1 = 0.5f;
  ops::adam_update(w1.data(), &g1, m1.data(), v1.data(), 1, 0.1f, b1, b2, eps, 1);
  EXPECT_NEAR(w1[0], 0.9f, 1e-6);
  EXPECT_NEAR(m1[0], 0.05f, 1e-7);
  EXPECT_NEAR(v1[0], 0.00025f, 1e-8);
  // A zero gradient from zero moments does not move the weight.
  std::vector<float> w0{2.0f}, m0{0.0f}, v0{0.0f};
  const float g0 = 0.0f;
  ops::adam_update(w0.data(), &g0, m0.data(), v0.data(), 1, 0.1f, b1, b2, eps, 1);
  EXPECT_EQ(w0[0], 2.0f);
}

TEST(Layers, SumSquaresScaleAndAllFinite) {
  std::vector<float> x(1001);
  double ref = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = (float)((double)i * 0.01 - 5.0);
    ref += (double)x[i] * x[i];
  }
  EXPECT_NEAR(ops::sum_squares(x.data(), x.size()), ref, 1e-9 * ref);
  ops::scale(x.data(), x.size(), 0.5f);
  EXPECT_NEAR(ops::sum_squares(x.data(), x.size()), ref / 4, 1e-9 * ref);
  EXPECT_TRUE(ops::all_finite(x.data(), x.size()));
  x[500] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(ops::all_finite(x.data(), x.size()));
  x[500] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(ops::all_finite(x.data(), x.size()));
}

// ---------------------------------------------------------------------------------------------
// The whole training graph

namespace {

struct GraphCase {
  model::ModelConfig cfg = tiny_config();
  model::Model m;
  Pairs pairs;
  text::Batch batch;
  std::vector<unsigned char> coins;
  model::TrainingGraph graph;
  float dropout = 0.5f;
  std::uint64_t drop_seed = 2024;

  explicit GraphCase(std::uint64_t seed) : m(tiny_model(cfg, seed)) {
    Rng rng(seed + 1);
    // Different source and target lengths; the longest target is not the first column.
    pairs = random_pairs(rng, cfg, {{6, 5}, {4, 7}, {5, 3}, {3, 6}});
    batch = pairs.all();
    coins = {1, 1, 0, 1, 0, 0, 1};  // mixed: steps 3, 5 and 6 are fed the model's argmax
    coins.resize(batch.trg_len, 1);
  }
  double forward() {
    Rng rng(drop_seed);  // the same dropout masks for every evaluation
    return graph.forward(cfg, m.w, batch, coins, dropout, &rng);
  }
  // Argmax of every logits row (to notice a perturbation that flips a fed-back token).
  std::vector<int> argmaxes() const {
    std::vector<int> r;
    for (int b = 0; b < batch.batch; ++b)
      for (int t = 1; t < batch.trg_lengths[b]; ++t) {
        int best = 0;
        const float* l = graph.logits(t, b);
        layers::argmax_rows(1, cfg.trg_vocab_size, l, &best);
        r.push_back(best);
      }
    return r;
  }
};

// Checks whose probe moves many float values at once (a whole encoder, a decoder step, the whole
// graph) carry more rounding noise in the difference quotient than one layer: a decoder step
// sums 4 cross-entropies over 44 float logits, the graph 17 over 323, and every probe moves
// them all. Measured at eps 1e-2 on these cases, errors reach 9e-4 (encoder, decoder step) and
// 2.7e-3 (graph) with the floor 5e-2; eps 3e-3 doubles them (noise, not truncation). A gate
// gradient 1% off (dz_pre * 1.01) gives 5e-3 to 1.5e-2 in the same tests.
constexpr float kMultiEps = 1e-2f;
constexpr double kMultiRtol = 2e-3, kMultiFloor = 5e-2;  // encoder, decoder step
constexpr double kGraphRtol = 5e-3, kGraphFloor = 5e-2;  // whole graph

// Checks sampled parameters of every tensor (per_tensor <= 0: every entry); returns the result.
// Samples whose perturbation changes a fed-back argmax (the loss is discontinuous there) are
// skipped and counted.
GradCheckResult check_graph_params(GraphCase& gc, const std::vector<float>& grads, int per_tensor,
                                   int* skipped, std::uint64_t seed, float eps = kMultiEps) {
  GradCheckResult total;
  Rng rng(seed);
  gc.forward();
  const auto base_arg = gc.argmaxes();
  std::set<int> src_ids(gc.batch.src.begin(), gc.batch.src.end());
  std::set<int> trg_ids(gc.batch.trg.begin(), gc.batch.trg.end());
  *skipped = 0;
  for (const auto& p : model::param_table(gc.cfg)) {
    std::vector<std::size_t> idx;
    if (per_tensor <= 0) idx = all_indices(p.size);  // every entry
    const bool src_emb = p.name == "encoder.embedding.weight";
    const bool trg_emb = p.name == "decoder.embedding.weight";
    for (int s = 0; s < per_tensor; ++s) {
      std::size_t i = rng.below(p.size);
      if (src_emb || trg_emb) {  // mostly rows the batch actually uses
        const auto& ids = src_emb ? src_ids : trg_ids;
        auto it = ids.begin();
        std::advance(it, rng.below(ids.size()));
        const int E = gc.cfg.emb_dim;
        if (s + 1 < per_tensor) i = (std::size_t)*it * E + rng.below(E);
      }
      idx.push_back(i);
    }
    for (std::size_t i : idx) {
      float* x = gc.m.params.data() + p.offset;
      bool flipped = false;
      auto f = [&] {
        const double l = gc.forward();
        flipped |= gc.argmaxes() != base_arg;
        return l;
      };
      const auto r =
          check_gradient(f, x, grads.data() + p.offset, {i}, eps, kGraphRtol, p.name, kGraphFloor);
      if (flipped) {
        ++*skipped;
        continue;
      }
      total.checked += r.checked;
      total.failed += r.failed;
      total.worst = std::max(total.worst, r.worst);
      if (r.failed && total.first.empty()) total.first = r.first;
    }
  }
  return total;
}

}  // namespace

TEST(Layers, TrainingGraphGradientsMatchFiniteDifferences) {
  GraphCase gc(101);
  const double loss = gc.forward();
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_EQ(gc.graph.tokens(), 4 + 6 + 2 + 5);
  model::ParamBuffer grads(gc.m.params.size());
  auto gw = model::bind_weights(grads.data(), gc.cfg);
  gc.graph.backward(gc.cfg, gc.m.w, gw, 1.0f);
  std::vector<float> g(grads.data(), grads.data() + grads.size());
  int skipped = 0;
  const auto r = check_graph_params(gc, g, 0, &skipped, 5);  // every entry of every tensor
  EXPECT_EQ(r.checked + skipped, (int)model::parameter_count(gc.cfg));
  EXPECT_LE(skipped, (int)model::parameter_count(gc.cfg) / 50);
  EXPECT_EQ(r.failed, 0) << r.first << " (worst " << r.worst << ")";
  std::printf("training graph: %d parameters checked, %d skipped (argmax flip), worst %.2e\n",
              r.checked, skipped, r.worst);
  // Every tensor has a non-zero gradient.
  for (const auto& p : model::param_table(gc.cfg)) {
    double s = 0;
    for (std::size_t i = 0; i < p.size; ++i) s += std::fabs(g[p.offset + i]);
    EXPECT_GT(s, 0.0) << p.name;
  }
}

TEST(Layers, TrainingGraphBackwardScalesAndAccumulates) {
  GraphCase gc(103);
  gc.forward();
  model::ParamBuffer g1(gc.m.params.size()), g2(gc.m.params.size());
  auto w1 = model::bind_weights(g1.data(), gc.cfg);
  auto w2 = model::bind_weights(g2.data(), gc.cfg);
  gc.graph.backward(gc.cfg, gc.m.w, w1, 1.0f);
  gc.forward();
  gc.graph.backward(gc.cfg, gc.m.w, w2, 0.25f);
  gc.forward();
  gc.graph.backward(gc.cfg, gc.m.w, w2, 0.25f);  // += : now 0.5 of g1
  for (std::size_t i = 0; i < g1.size(); ++i)
    ASSERT_NEAR(g2.data()[i], 0.5f * g1.data()[i], 1e-5f * std::max(1.0f, std::fabs(g1.data()[i])))
        << i;
}

TEST(Layers, TrainingGraphWithoutDropoutAfterARunWithDropout) {
  // The same graph object used for a dropout forward and then a dropout-free forward (as when
  // one graph would train and then score) must give the dropout-free gradient.
  GraphCase used(107), fresh(107);
  used.forward();  // dropout 0.5
  used.dropout = 0.0f;
  fresh.dropout = 0.0f;
  const double l_used = used.forward(), l_fresh = fresh.forward();
  EXPECT_EQ(l_used, l_fresh);
  model::ParamBuffer g1(used.m.params.size()), g2(fresh.m.params.size());
  auto w1 = model::bind_weights(g1.data(), used.cfg);
  auto w2 = model::bind_weights(g2.data(), fresh.cfg);
  used.graph.backward(used.cfg, used.m.w, w1, 1.0f);
  fresh.graph.backward(fresh.cfg, fresh.m.w, w2, 1.0f);
  int differ = 0;
  std::string first;
  for (const auto& p : model::param_table(used.cfg))
    for (std::size_t i = 0; i < p.size; ++i)
      if (std::fabs(g1.data()[p.offset + i] - g2.data()[p.offset + i]) >
          1e-6f * std::max(1.0f, std::fabs(g2.data()[p.offset + i]))) {
        if (!differ++) first = p.name;
      }
  if (differ) {
    FAIL() << "bug: src/model/seq2seq.cpp TrainingGraph::backward and Encoder::backward "
              "apply the embedding dropout mask whenever drop_/drop is non-empty, so a "
              "dropout-free forward after a dropout forward on the same object uses the "
              "stale mask in the embedding gradients ("
           << differ << " gradient values differ, first in " << first << ")";
  }
}

// --out-dropout: the mask on the output layer's input [s_new ; w ; emb] enters the forward and
// the backward (every entry of every tensor, with embedding dropout and free-running steps).
TEST(Layers, TrainingGraphWithOutputDropoutGradientsMatchFiniteDifferences) {
  GraphCase gc(113);
  gc.graph.set_output_dropout(0.3f);
  const double with = gc.forward();
  GraphCase plain(113);
  EXPECT_NE(with, plain.forward()) << "the output mask changed nothing";
  model::ParamBuffer grads(gc.m.params.size());
  auto gw = model::bind_weights(grads.data(), gc.cfg);
  gc.graph.backward(gc.cfg, gc.m.w, gw, 1.0f);
  std::vector<float> g(grads.data(), grads.data() + grads.size());
  int skipped = 0;
  const auto r = check_graph_params(gc, g, 0, &skipped, 7);
  EXPECT_LE(skipped, (int)model::parameter_count(gc.cfg) / 50);
  EXPECT_EQ(r.failed, 0) << r.first << " (worst " << r.worst << ")";
  // Zero is the seed's graph: no mask drawn, the same loss as a graph never told.
  gc.graph.set_output_dropout(0.0f);
  EXPECT_EQ(gc.forward(), plain.forward());
}

// A data-parallel shard draws every mask for the whole batch: the shards' gradients add up to
// the whole batch's, with embedding and output dropout and mixed teacher forcing.
TEST(Layers, ShardsWithDropoutAddUpToTheWholeBatchGradient) {
  GraphCase gc(127);
  train::TrainOptions opt;
  opt.dropout = 0.5f;
  opt.out_dropout = 0.3f;
  opt.teacher_forcing = 0.5f;
  opt.precision = ops::Precision::Fp32;
  train::Updater whole(gc.m);
  Rng r_whole(11);
  const double loss = whole.backward(gc.batch, r_whole, opt);
  std::vector<double> sum(gc.m.params.size(), 0.0);
  double loss_sum = 0;
  for (int k = 0; k < 3; ++k) {
    train::Updater part(gc.m);
    part.set_shard(k, 3);
    Rng r(11);
    loss_sum += part.backward(gc.batch, r, opt);
    EXPECT_EQ(r.next(), Rng(r_whole).next()) << "shard " << k << " drew another number of values";
    for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += part.grads().data()[i];
  }
  EXPECT_NEAR(loss_sum, loss, 1e-4 * std::fabs(loss));
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < sum.size(); ++i) {
    const double w = whole.grads().data()[i];
    diff += (sum[i] - w) * (sum[i] - w);
    norm += w * w;
  }
  EXPECT_GT(norm, 0.0);
  EXPECT_LT(std::sqrt(diff / norm), 1e-5);
}

TEST(Layers, TrainingGraphCheckCatchesWrongGradient) {
  GraphCase gc(101);
  gc.forward();
  model::ParamBuffer grads(gc.m.params.size());
  auto gw = model::bind_weights(grads.data(), gc.cfg);
  gc.graph.backward(gc.cfg, gc.m.w, gw, 1.0f);
  std::vector<float> g(grads.data(), grads.data() + grads.size());
  // Negate the whole attention v gradient and the decoder recurrent weights' gradient.
  for (const auto& p : model::param_table(gc.cfg))
    if (p.name == "decoder.attention.v.weight" || p.name == "decoder.rnn.weight_hh_l0")
      for (std::size_t i = 0; i < p.size; ++i) g[p.offset + i] = -g[p.offset + i];
  int skipped = 0;
  const auto r = check_graph_params(gc, g, 3, &skipped, 5);
  EXPECT_GT(r.failed, 0) << "negated gradients went unnoticed";
}

// The bidirectional encoder on its own, over a padded batch whose lengths are in no order (the
// masked path) and with dropout: L = sum(Hs ⊙ R1) + sum(keys ⊙ R2) + sum(s0 ⊙ R3), every entry
// of every encoder parameter (and of the attention's W_h, b_att, which the keys use).
TEST(Layers, EncoderGradientsMatchFiniteDifferencesOverPaddedBatch) {
  const auto cfg = tiny_config(13, 11, 4, 3, 5);  // E, H, D, 2H all distinct
  auto m = tiny_model(cfg, 301);
  const int H = cfg.enc_hid_dim, D = cfg.dec_hid_dim, C = 2 * H;
  const std::vector<int> lens{4, 6, 2, 5};  // padded, unsorted; S = 6
  const int B = (int)lens.size(), S = 6;
  Rng rng(302);
  std::vector<int> ids((std::size_t)S * B, text::PAD);
  for (int b = 0; b < B; ++b) {
    const auto s = random_sentence(rng, lens[b], cfg.src_vocab_size);
    for (int t = 0; t < lens[b]; ++t) ids[(std::size_t)t * B + b] = s[t];
  }
  const auto R1 = uniform_vec(rng, (std::size_t)S * B * C, -1.0f, 1.0f);
  const auto R2 = uniform_vec(rng, (std::size_t)S * B * D, -1.0f, 1.0f);
  const auto R3 = uniform_vec(rng, (std::size_t)B * D, -1.0f, 1.0f);
  model::Encoder enc;
  auto f = [&] {
    Rng drop(303);  // the same dropout mask for every evaluation
    enc.set_input(S, B, ids.data(), lens.data());
    enc.forward(cfg, m.w, 0.5f, &drop);
    return dot_objective(enc.outputs.data(), R1.data(), S * B, C, C) +
           dot_objective(enc.keys.data(), R2.data(), S * B, D, D) +
           dot_objective(enc.s0.data(), R3.data(), B, D, D);
  };
  f();
  enc.d_outputs = R1;
  enc.d_keys = R2;
  model::ParamBuffer grads(m.params.size());
  auto gw = model::bind_weights(grads.data(), cfg);
  enc.backward(cfg, m.w, R3.data(), gw);
  int checked = 0;
  double worst = 0;
  for (const auto& p : model::param_table(cfg)) {
    if (p.name.rfind("encoder.", 0) != 0 && p.name.rfind("decoder.attention.attn", 0) != 0)
      continue;
    const auto r = check_gradient(f, m.params.data() + p.offset, grads.data() + p.offset,
                                  all_indices(p.size), kMultiEps, kMultiRtol, p.name, kMultiFloor);
    EXPECT_EQ(r.failed, 0) << r.first << " (worst " << r.worst << ")";
    checked += r.checked;
    double mx = 0;
    for (std::size_t i = 0; i < p.size; ++i)
      mx = std::max(mx, (double)std::fabs(grads.data()[p.offset + i]));
    if (p.name != "decoder.attention.attn.weight") {
      EXPECT_GT(mx, 1e-2) << p.name;
    }
    worst = std::max(worst, r.worst);
  }
  EXPECT_GT(checked, 300);
  std::printf("encoder: %d entries checked, worst %.2e\n", checked, worst);
}

// One decoder step on its own: targets of length 2 (<sos> <eos>) make the training graph a
// single decoder step; every entry of the decoder's parameters and of the embedding dropout
// path, with the encoder fixed. Rows of different source lengths attend over padded columns.
TEST(Layers, DecoderStepGradientsMatchFiniteDifferences) {
  auto cfg = tiny_config(13, 11, 4, 3, 5);
  auto m = tiny_model(cfg, 311);
  Rng rng(312);
  const auto pairs = random_pairs(rng, cfg, {{4, 2}, {6, 2}, {2, 2}, {5, 2}});
  const auto batch = pairs.all();
  const std::vector<unsigned char> coins(batch.trg_len, 1);
  model::TrainingGraph graph;
  auto f = [&] {
    Rng drop(313);
    return graph.forward(cfg, m.w, batch, coins, 0.5f, &drop);
  };
  f();
  ASSERT_EQ(graph.tokens(), 4);
  model::ParamBuffer grads(m.params.size());
  auto gw = model::bind_weights(grads.data(), cfg);
  graph.backward(cfg, m.w, gw, 1.0f);
  int checked = 0;
  double worst = 0;
  for (const auto& p : model::param_table(cfg)) {
    if (p.name.rfind("decoder.", 0) != 0) continue;
    const auto r = check_gradient(f, m.params.data() + p.offset, grads.data() + p.offset,
                                  all_indices(p.size), kMultiEps, kMultiRtol, p.name, kMultiFloor);
    EXPECT_EQ(r.failed, 0) << r.first << " (worst " << r.worst << ")";
    checked += r.checked;
    worst = std::max(worst, r.worst);
  }
  EXPECT_GT(checked, 400);
  std::printf("decoder step: %d entries checked, worst %.2e\n", checked, worst);
}

// ---------------------------------------------------------------------------------------------
// Batch invariance (design §2): a sentence alone equals the same sentence in a padded batch.

namespace {

double rel_diff(const float* a, const float* b, int n) {
  double d = 0, s = 1e-30;
  for (int i = 0; i < n; ++i) {
    d = std::max(d, (double)std::fabs(a[i] - b[i]));
    s = std::max(s, (double)std::fabs(b[i]));
  }
  return d / s;
}

}  // namespace

TEST(BatchInvariance, EncoderOutputsAndLogitsAloneEqualInBatch) {
  const auto cfg = tiny_config(31, 29, 8, 6, 9);
  const auto m = tiny_model(cfg, 211);
  Rng rng(212);
  const auto pairs = random_pairs(rng, cfg, {{3, 9}, {9, 4}, {6, 6}, {2, 2}, {7, 8}, {5, 3}});
  const auto batch = pairs.all();
  const std::vector<unsigned char> tf(batch.trg_len, 1);
  model::TrainingGraph all;
  const double loss_all = all.forward(cfg, m.w, batch, tf, 0.0f, nullptr);
  const int C = 2 * cfg.enc_hid_dim, V = cfg.trg_vocab_size, D = cfg.dec_hid_dim;
  double loss_sum = 0, worst = 0;
  for (int b = 0; b < batch.batch; ++b) {
    const auto one = pairs.batch({(std::size_t)b});
    model::TrainingGraph g;
    loss_sum += g.forward(cfg, m.w, one, std::vector<unsigned char>(one.trg_len, 1), 0.0f, nullptr);
    const int S = (int)pairs.src[b].size(), T = (int)pairs.trg[b].size();
    for (int j = 0; j < S; ++j)
      worst = std::max(worst, rel_diff(all.encoder_output(j, b), g.encoder_output(j, 0), C));
    for (int j = S; j < batch.src_len; ++j)  // padding positions are exactly zero
      for (int k = 0; k < C; ++k) ASSERT_EQ(all.encoder_output(j, b)[k], 0.0f);
    worst = std::max(worst, rel_diff(all.s0(b), g.s0(0), D));
    for (int t = 1; t < T; ++t) {
      ASSERT_NE(all.logits(t, b), nullptr);
      worst = std::max(worst, rel_diff(all.logits(t, b), g.logits(t, 0), V));
      const float* a = all.attention(t, b);
      worst = std::max(worst, rel_diff(a, g.attention(t, 0), S));
      for (int j = S; j < batch.src_len; ++j) EXPECT_EQ(a[j], 0.0f);
    }
    EXPECT_EQ(all.logits(T, b), nullptr) << "no logits beyond the sentence's target";
  }
  EXPECT_LE(worst, 1e-5);
  EXPECT_NEAR(loss_all, loss_sum, 1e-5 * loss_all);
}

TEST(BatchInvariance, FreeRunningLossAloneEqualsInBatch) {
  // With teacher forcing 0 every sentence feeds back its own argmax, still independently.
  const auto cfg = tiny_config(31, 29, 8, 6, 9);
  const auto m = tiny_model(cfg, 213);
  Rng rng(214);
  const auto pairs = random_pairs(rng, cfg, {{4, 7}, {8, 3}, {2, 5}, {6, 9}, {5, 2}});
  const auto batch = pairs.all();
  model::TrainingGraph all;
  const double loss_all =
      all.forward(cfg, m.w, batch, std::vector<unsigned char>(batch.trg_len, 0), 0.0f, nullptr);
  double loss_sum = 0;
  for (int b = 0; b < batch.batch; ++b) {
    const auto one = pairs.batch({(std::size_t)b});
    model::TrainingGraph g;
    loss_sum += g.forward(cfg, m.w, one, std::vector<unsigned char>(one.trg_len, 0), 0.0f, nullptr);
  }
  EXPECT_NEAR(loss_all, loss_sum, 1e-5 * loss_all);
}

TEST(BatchInvariance, EncoderSkipsFinishedColumnsWhenSortedByLength) {
  // Columns ordered longest first make the encoder compute only the running prefix at each
  // step; the same sentences in another order take the masked path. Outputs, final state and
  // every encoder gradient agree.
  const auto cfg = tiny_config(31, 29, 8, 6, 9);
  const auto m = tiny_model(cfg, 215);
  const int H = cfg.enc_hid_dim, D = cfg.dec_hid_dim, C = 2 * H;
  const std::vector<int> lens{9, 7, 7, 4, 2};  // non-increasing: the prefix path
  const std::vector<int> perm{3, 0, 4, 2, 1};  // column i of the masked run holds sentence perm[i]
  const int B = (int)lens.size(), S = lens[0];
  Rng rng(216);
  std::vector<std::vector<int>> sent(B);
  for (int b = 0; b < B; ++b) sent[b] = random_sentence(rng, lens[b], cfg.src_vocab_size);
  auto run = [&](const std::vector<int>& which, model::Encoder& enc, model::ParamBuffer& grads) {
    std::vector<int> ids((std::size_t)S * B, text::PAD), len(B);
    for (int i = 0; i < B; ++i) {
      len[i] = (int)sent[which[i]].size();
      for (int t = 0; t < len[i]; ++t) ids[(std::size_t)t * B + i] = sent[which[i]][t];
    }
    enc.set_input(S, B, ids.data(), len.data());
    enc.forward(cfg, m.w, 0.0f, nullptr);
    // Upstream gradients that depend on the sentence, not on its column.
    Rng g(217);
    const auto d_out = uniform_vec(g, (std::size_t)S * B * C),
               d_key = uniform_vec(g, (std::size_t)S * B * D);
    const auto ds0 = uniform_vec(g, (std::size_t)B * D);
    enc.d_outputs.assign((std::size_t)S * B * C, 0.0f);
    enc.d_keys.assign((std::size_t)S * B * D, 0.0f);
    std::vector<float> ds(B * D);
    for (int i = 0; i < B; ++i) {
      const int b = which[i];
      for (int t = 0; t < S; ++t) {
        std::copy_n(d_out.begin() + ((std::size_t)t * B + b) * C, C,
                    enc.d_outputs.begin() + ((std::size_t)t * B + i) * C);
        std::copy_n(d_key.begin() + ((std::size_t)t * B + b) * D, D,
                    enc.d_keys.begin() + ((std::size_t)t * B + i) * D);
      }
      std::copy_n(ds0.begin() + (std::size_t)b * D, D, ds.begin() + (std::size_t)i * D);
    }
    auto gw = model::bind_weights(grads.data(), cfg);
    enc.backward(cfg, m.w, ds.data(), gw);
  };
  std::vector<int> identity(B);
  std::iota(identity.begin(), identity.end(), 0);
  model::Encoder sorted, masked;
  model::ParamBuffer g_sorted(m.params.size()), g_masked(m.params.size());
  run(identity, sorted, g_sorted);
  run(perm, masked, g_masked);
  double worst = 0;
  for (int i = 0; i < B; ++i) {
    const int b = perm[i];
    for (int t = 0; t < S; ++t)
      worst = std::max(worst, rel_diff(masked.outputs.data() + ((std::size_t)t * B + i) * C,
                                       sorted.outputs.data() + ((std::size_t)t * B + b) * C, C));
    worst = std::max(worst, rel_diff(masked.s0.data() + (std::size_t)i * D,
                                     sorted.s0.data() + (std::size_t)b * D, D));
  }
  EXPECT_LE(worst, 1e-6);
  for (const auto& p : model::param_table(cfg)) {
    if (p.name.rfind("encoder.", 0) != 0) continue;
    EXPECT_LE(rel_diff(g_masked.data() + p.offset, g_sorted.data() + p.offset, (int)p.size), 1e-5)
        << p.name;
  }
}
