// Micro-benchmarks of the hot kernels at the seed preset's sizes (batch 128):
// GRU step, attention step, output layer + softmax-CE, Adam.
// Build: cmake -B build -DNMT_BUILD_BENCH=ON && cmake --build build --target nmt_bench_kernels
#include <benchmark/benchmark.h>

#include <vector>

#include "common/rng.h"
#include "model/layers.h"
#include "tensor/ops.h"

using namespace nmt;

namespace {

constexpr int B = 128, E = 256, H = 512, D = 512, C = 2 * H, S = 20, V = 5893;

std::vector<float> random_vec(std::size_t n, float scale = 0.1f, std::uint64_t seed = 1) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = (float)(rng.normal() * scale);
  return v;
}

// Decoder GRU step: gi = [e;w] W_ih^T, gh = s W_hh^T, the cell.
void BM_DecoderGruStep(benchmark::State& st) {
  auto x = random_vec((std::size_t)B * (E + C)), s = random_vec((std::size_t)B * D);
  auto w_ih = random_vec((std::size_t)3 * D * (E + C)), w_hh = random_vec((std::size_t)3 * D * D);
  auto b = random_vec(3 * D);
  std::vector<float> gi((std::size_t)B * 3 * D), gh(gi.size()), h((std::size_t)B * D),
      cache((std::size_t)B * 4 * D);
  for (auto _ : st) {
    ops::linear_forward(B, E + C, 3 * D, x.data(), w_ih.data(), b.data(), gi.data());
    ops::linear_forward(B, D, 3 * D, s.data(), w_hh.data(), b.data(), gh.data());
    layers::gru_cell_forward(B, D, gi.data(), gh.data(), s.data(), h.data(), cache.data());
    benchmark::DoNotOptimize(h.data());
  }
  st.SetItemsProcessed(st.iterations() * B);
}
BENCHMARK(BM_DecoderGruStep)->Unit(benchmark::kMillisecond);

// Attention step: q = s W_s^T, energies, softmax, context (keys precomputed).
void BM_AttentionStep(benchmark::State& st) {
  auto s = random_vec((std::size_t)B * D), w_att = random_vec((std::size_t)D * (D + C));
  auto keys = random_vec((std::size_t)S * B * D), values = random_vec((std::size_t)S * B * C);
  auto v = random_vec(D);
  std::vector<int> len(B, S);
  std::vector<float> q((std::size_t)B * D), attn((std::size_t)B * S), ctx((std::size_t)B * C);
  for (auto _ : st) {
    ops::gemm(false, true, B, D, D, 1.0f, s.data(), D, w_att.data(), D + C, 0.0f, q.data(), D);
    layers::attention_forward(B, S, B, D, C, q.data(), keys.data(), values.data(), v.data(),
                              len.data(), attn.data(), ctx.data());
    benchmark::DoNotOptimize(ctx.data());
  }
  st.SetItemsProcessed(st.iterations() * B);
}
BENCHMARK(BM_AttentionStep)->Unit(benchmark::kMillisecond);

// Output layer + softmax-CE forward and backward for N target tokens.
void BM_OutputLayerSoftmaxCE(benchmark::State& st) {
  const int N = (int)st.range(0), LO = D + C + E;
  auto out = random_vec((std::size_t)N * LO), w = random_vec((std::size_t)V * LO, 0.01f);
  auto b = random_vec(V);
  std::vector<float> logits((std::size_t)N * V), lse(N), dout((std::size_t)N * LO),
      dw((std::size_t)V * LO), db(V);
  std::vector<int> tgt(N);
  for (int i = 0; i < N; ++i) tgt[i] = (i * 37) % V;
  for (auto _ : st) {
    ops::linear_forward(N, LO, V, out.data(), w.data(), b.data(), logits.data());
    layers::softmax_ce_forward(N, V, logits.data(), tgt.data(), lse.data());
    layers::softmax_ce_backward(N, V, logits.data(), tgt.data(), lse.data(), 1.0f / N,
                                logits.data());
    ops::linear_backward(N, LO, V, logits.data(), out.data(), w.data(), dout.data(), dw.data(),
                         db.data(), false);
    benchmark::DoNotOptimize(dw.data());
  }
  st.SetItemsProcessed(st.iterations() * N);
  st.counters["GFLOP/s"] = benchmark::Counter(
      6.0 * N * LO * V * st.iterations(), benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_OutputLayerSoftmaxCE)->Arg(128)->Arg(1792)->Unit(benchmark::kMillisecond);

// Adam over the seed model's 20.5M parameters.
void BM_Adam(benchmark::State& st) {
  const std::size_t n = 20518405;
  auto w = random_vec(n), g = random_vec(n, 0.01f, 2);
  std::vector<float> m(n), v(n);
  long step = 0;
  for (auto _ : st) {
    ops::adam_update(w.data(), g.data(), m.data(), v.data(), n, 1e-3f, 0.9f, 0.999f, 1e-8f, ++step);
    benchmark::DoNotOptimize(w.data());
  }
  st.SetBytesProcessed(st.iterations() * (std::int64_t)n * 5 * sizeof(float));
}
BENCHMARK(BM_Adam)->Unit(benchmark::kMillisecond);

}  // namespace
