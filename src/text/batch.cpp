// Padded time-major batches and the per-epoch batch plan (design §1).
//
// Shuffling uses its own RNG (splitmix64) and Fisher-Yates with rejection sampling, so a
// (seed, epoch) pair gives the same batches with every compiler and standard library.
#include "text/batch.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "common/error.h"
#include "text/vocab.h"

namespace nmt::text {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng(std::uint64_t seed, int epoch) {
    std::uint64_t s = seed;
    state_ = splitmix64(s);
    std::uint64_t e =
        static_cast<std::uint64_t>(static_cast<std::int64_t>(epoch)) ^ 0x6A09E667F3BCC909ull;
    state_ ^= splitmix64(e);
  }
  std::uint64_t next() { return splitmix64(state_); }
  // Uniform in [0, bound), bound > 0, without modulo bias.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  std::uint64_t state_;
};

template <typename T>
void fisher_yates(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

Batch make_batch(const std::vector<std::vector<int>>& src, const std::vector<std::vector<int>>& trg,
                 const std::vector<std::size_t>& idx) {
  const bool with_trg = !trg.empty();
  if (with_trg && trg.size() != src.size()) {
    throw Error("make_batch: " + std::to_string(src.size()) + " source but " +
                std::to_string(trg.size()) + " target sentences");
  }
  Batch b;
  b.batch = static_cast<int>(idx.size());
  b.index = idx;
  for (std::size_t i : idx) {
    if (i >= src.size()) {
      throw Error("make_batch: sentence index " + std::to_string(i) + " out of range (" +
                  std::to_string(src.size()) + " sentences)");
    }
    b.src_lengths.push_back(static_cast<int>(src[i].size()));
    b.src_len = std::max(b.src_len, b.src_lengths.back());
    if (with_trg) {
      b.trg_lengths.push_back(static_cast<int>(trg[i].size()));
      b.trg_len = std::max(b.trg_len, b.trg_lengths.back());
    }
  }
  const std::size_t B = idx.size();
  b.src.assign(static_cast<std::size_t>(b.src_len) * B, PAD);
  for (std::size_t col = 0; col < B; ++col) {
    const auto& s = src[idx[col]];
    for (std::size_t t = 0; t < s.size(); ++t) b.src[t * B + col] = s[t];
  }
  if (with_trg) {
    b.trg.assign(static_cast<std::size_t>(b.trg_len) * B, PAD);
    for (std::size_t col = 0; col < B; ++col) {
      const auto& s = trg[idx[col]];
      for (std::size_t t = 0; t < s.size(); ++t) b.trg[t * B + col] = s[t];
    }
  }
  return b;
}

Batch columns(const Batch& b, int begin, int end) {
  Batch s;
  s.batch = end - begin;
  s.src_lengths.assign(b.src_lengths.begin() + begin, b.src_lengths.begin() + end);
  s.trg_lengths.assign(b.trg_lengths.begin() + begin, b.trg_lengths.begin() + end);
  s.index.assign(b.index.begin() + begin, b.index.begin() + end);
  for (int l : s.src_lengths) s.src_len = std::max(s.src_len, l);
  for (int l : s.trg_lengths) s.trg_len = std::max(s.trg_len, l);
  auto copy = [&](const std::vector<int>& from, int len, std::vector<int>& to) {
    to.resize((std::size_t)len * s.batch);
    for (int t = 0; t < len; ++t)
      std::copy_n(from.begin() + (std::size_t)t * b.batch + begin, s.batch,
                  to.begin() + (std::size_t)t * s.batch);
  };
  copy(b.src, s.src_len, s.src);
  if (!b.trg.empty()) copy(b.trg, s.trg_len, s.trg);
  return s;
}

std::vector<std::vector<std::size_t>> plan_batches(const std::vector<int>& lengths,
                                                   const BatchPlan& plan, int epoch) {
  if (plan.batch_size <= 0)
    throw Error("batch size must be positive, got " + std::to_string(plan.batch_size));
  const std::size_t n = lengths.size();
  const auto bs = static_cast<std::size_t>(plan.batch_size);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng(plan.seed, epoch);
  if (plan.shuffle) fisher_yates(order, rng);
  if (plan.bucket) {
    // Sort by source length within windows of 100 batches; stable, so ties keep the shuffle.
    const std::size_t window = bs * 100;
    for (std::size_t w = 0; w < n; w += window) {
      const auto first = order.begin() + static_cast<std::ptrdiff_t>(w);
      const auto last = order.begin() + static_cast<std::ptrdiff_t>(std::min(n, w + window));
      std::stable_sort(first, last,
                       [&](std::size_t a, std::size_t b) { return lengths[a] < lengths[b]; });
    }
  }
  std::vector<std::vector<std::size_t>> batches;
  batches.reserve((n + bs - 1) / bs);
  for (std::size_t i = 0; i < n; i += bs)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + bs)));
  if (plan.bucket && plan.shuffle) fisher_yates(batches, rng);
  return batches;
}

}  // namespace nmt::text
