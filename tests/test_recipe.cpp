// The recipe options beyond the seed (label smoothing, learning-rate schedule, early stopping),
// the option table and presets.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.h"
#include "common/rng.h"
#include "model/layers.h"
#include "model/preset.h"
#include "test_util.h"
#include "train/options.h"
#include "train/schedule.h"

using namespace nmt;
using namespace nmt::testing;

TEST(LabelSmoothing, LossAndGradientMatchADoubleReference) {
  const int n = 5, V = 9;
  Rng rng(31);
  std::vector<float> logits((std::size_t)n * V);
  for (auto& x : logits) x = (float)(3.0 * rng.normal());
  logits[7] = 25.0f;
  const std::vector<int> targets{0, 8, 3, 3, 1};
  for (float ls : {0.1f, 0.3f}) {
    SCOPED_TRACE(ls);
    std::vector<float> lse(n);
    const double loss =
        layers::softmax_ce_forward(n, V, logits.data(), targets.data(), lse.data(), ls);
    const float scale = 0.7f;
    std::vector<float> d((std::size_t)n * V);
    layers::softmax_ce_backward(n, V, logits.data(), targets.data(), lse.data(), scale, d.data(),
                                ls);
    double ref = 0;
    for (int i = 0; i < n; ++i) {
      const float* x = logits.data() + (std::size_t)i * V;
      double mx = -1e300, s = 0, sum = 0;
      for (int k = 0; k < V; ++k) mx = std::max(mx, (double)x[k]);
      for (int k = 0; k < V; ++k) s += std::exp(x[k] - mx), sum += x[k];
      const double l = mx + std::log(s);
      // PyTorch: (1 - ls) * CE(onehot) + ls * mean_k CE(k)
      ref += (1 - ls) * (l - x[targets[i]]) + ls * (l - sum / V);
      for (int k = 0; k < V; ++k) {
        const double want =
            scale * (std::exp(x[k] - l) - (1 - ls) * (k == targets[i]) - (double)ls / V);
        EXPECT_NEAR(d[(std::size_t)i * V + k], want, 1e-6) << "row " << i << " col " << k;
      }
    }
    EXPECT_NEAR(loss, ref, 1e-5 * ref);
  }
}

TEST(LabelSmoothing, ZeroIsThePlainLossBitForBit) {
  const int n = 4, V = 1000;  // above the OpenMP threshold too
  Rng rng(5);
  std::vector<float> logits((std::size_t)n * V);
  for (auto& x : logits) x = (float)rng.normal();
  const std::vector<int> t{1, 2, 999, 0};
  std::vector<float> lse_a(n), lse_b(n), da(logits.size()), db(logits.size());
  const double a = layers::softmax_ce_forward(n, V, logits.data(), t.data(), lse_a.data());
  const double b = layers::softmax_ce_forward(n, V, logits.data(), t.data(), lse_b.data(), 0.0f);
  EXPECT_EQ(a, b);
  layers::softmax_ce_backward(n, V, logits.data(), t.data(), lse_a.data(), 0.5f, da.data());
  layers::softmax_ce_backward(n, V, logits.data(), t.data(), lse_a.data(), 0.5f, db.data(), 0.0f);
  EXPECT_EQ(da, db);
}
