#pragma once
// All parameters in one flat buffer with a table of named shapes (design §3 = PyTorch's
// state_dict), so Adam, clipping, zeroing and NaN checks are one loop and checkpoints one table.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace nmt::model {

struct ParamInfo {
  std::string name;
  std::vector<std::int64_t> shape;
  std::size_t offset = 0;  // in floats, 16-float aligned
  std::size_t size = 0;    // number of floats
  bool is_bias = false;
};

// The tensor table of design §3 in state_dict order.
std::vector<ParamInfo> param_table(const ModelConfig& c, std::size_t* total_floats = nullptr);
std::size_t parameter_count(const ModelConfig& c);  // sum of sizes (20,518,405 for the seed)

// Typed views into a flat buffer laid out by param_table (weights, gradients or Adam moments).
struct Weights {
  float* enc_emb;                                    // [Vs, E]
  float *enc_w_ih[2], *enc_w_hh[2];                  // [3H, E], [3H, H]; [0]=forward [1]=reverse
  float *enc_b_ih[2], *enc_b_hh[2];                  // [3H]
  float *enc_fc_w, *enc_fc_b;                        // [D, 2H], [D]
  float *att_w, *att_b, *att_v;                      // [D, D+2H], [D], [1, D]
  float* dec_emb;                                    // [Vt, E]
  float *dec_w_ih, *dec_w_hh, *dec_b_ih, *dec_b_hh;  // [3D, E+2H], [3D, D], [3D], [3D]
  float *out_w, *out_b;                              // [Vt, D+2H+E], [Vt]
};
Weights bind_weights(float* base, const ModelConfig& c);

// A 64-byte aligned float buffer of the parameter layout, zero-initialised.
class ParamBuffer {
 public:
  ParamBuffer() = default;
  explicit ParamBuffer(std::size_t n);
  ParamBuffer(ParamBuffer&&) noexcept;
  ParamBuffer& operator=(ParamBuffer&&) noexcept;
  ParamBuffer(const ParamBuffer&) = delete;
  ~ParamBuffer();
  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }
  void zero();

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

// Design §4 init: weights ~ N(0, std), biases 0, deterministic for a seed.
void init_params(float* base, const ModelConfig& c, std::uint64_t seed, float std = 0.01f);

}  // namespace nmt::model
