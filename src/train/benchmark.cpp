#include "train/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/peak_memory.h"
#include "common/rng.h"
#include "data/corpus.h"
#include "decode/translator.h"
#include "tensor/cpu.h"
#include "tensor/ops.h"
#include "text/batch.h"
#include "train/presets.h"
#include "train/updater.h"

namespace nmt::train {

// Training speed of the seed model on real shuffled batches, at one precision (fp32 or bf16);
// returns target tokens/s.
double training_speed(const SpeedSettings& o, const text::ParallelCorpus& pc,
                      ops::Precision precision) {
  using clock = std::chrono::steady_clock;
  model::Model m = seed_model(pc, 1234);
  const auto data =
      data::encode_corpus(pc, *m.src_codec, *m.trg_codec, m.src_vocab, m.trg_vocab, 100);
  std::vector<int> lengths(data.src.size());
  for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (int)data.src[i].size();
  const auto batches = text::plan_batches(lengths, {o.batch, true, false, 1234}, 0);
  TrainOptions topt;
  topt.precision = precision;
  Updater up(m);
  Rng rng(1);
  long tokens = 0;
  double seconds = 0, loss = 0;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    const auto batch = text::make_batch(data.src, data.trg, batches[i % batches.size()]);
    const auto t0 = clock::now();
    const double loss_sum = up.step(batch, rng, topt);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (i >= o.warmup) {
      tokens += up.tokens();
      seconds += dt;
      loss += loss_sum;
    }
  }
  // One epoch of the bundled train set has about this many target tokens.
  long epoch_tokens = 0;
  for (const auto& t : data.trg) epoch_tokens += (long)t.size() - 1;
  const nlohmann::json j = {{"what", "train"},
                            {"impl", "nmt"},
                            {"precision", ops::precision_name(precision)},
                            {"threads", ops::threads()},
                            {"batch", o.batch},
                            {"steps", o.steps},
                            {"tokens", tokens},
                            {"seconds", seconds},
                            {"tokens_per_s", tokens / seconds},
                            {"mean_loss", loss / tokens},
                            {"epoch_minutes_est", epoch_tokens / (tokens / seconds) / 60.0},
                            {"peak_rss_mb", peak_rss_mb()},
                            {"blas_core", ops::blas_core_name()}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  return tokens / seconds;
}

double translation_speed(const SpeedSettings& o, const model::Model& m,
                         const std::vector<std::string>& lines, const char* what, int beam,
                         int batch, std::size_t count, ops::Precision precision) {
  using clock = std::chrono::steady_clock;
  decode::Translator tr(m, precision);
  decode::DecodeOptions dopt;
  dopt.beam = beam;
  count = std::min(count, lines.size());
  long out_tokens = 0;
  std::vector<double> latencies;
  const auto t0 = clock::now();
  for (std::size_t start = 0; start < count; start += batch) {
    const std::vector<std::string> slice(lines.begin() + start,
                                         lines.begin() + std::min(count, start + batch));
    const auto t1 = clock::now();
    for (const auto& r : decode::translate_lines(m, tr, slice, dopt))
      out_tokens += (long)r.hyp.ids.size() + 1;
    latencies.push_back(std::chrono::duration<double>(clock::now() - t1).count() * 1e3);
  }
  const double secs = std::chrono::duration<double>(clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  nlohmann::json j = {{"what", what},
                      {"impl", "nmt"},
                      {"threads", ops::threads()},
                      {"beam", beam},
                      {"precision", ops::precision_name(precision)},
                      {"batch", batch},
                      {"sentences", count},
                      {"seconds", secs},
                      {"sentences_per_s", count / secs},
                      {"tokens_per_s", out_tokens / secs},
                      {"trained_model", o.trained_model},
                      {"peak_rss_mb", peak_rss_mb()},
                      {"kernels", ops::cpu_kernels()}};
  if (batch == 1) j["median_ms"] = latencies[latencies.size() / 2];
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  return count / secs;
}

}  // namespace nmt::train
