#pragma once
// A small, portable, fully specified RNG (xoshiro256**, seeded by splitmix64): the same seed
// gives the same numbers on every platform and standard library, and its state is 4 words
// that a checkpoint can store.
#include <array>
#include <cmath>
#include <cstdint>

namespace nmt {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 24 random bits.
  float uniform() { return (next() >> 40) * (1.0f / 16777216.0f); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return (std::uint64_t)(((__uint128_t)next() * n) >> 64); }
  // Standard normal (Box-Muller, one value per call).
  double normal() {
    double u1 = ((next() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (next() >> 11) * (1.0 / 9007199254740992.0);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  std::array<std::uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace nmt
