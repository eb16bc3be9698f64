#include "model/params.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "common/rng.h"

namespace nmt::model {

std::vector<ParamInfo> param_table(const ModelConfig& c, std::size_t* total_floats) {
  const std::int64_t E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim;
  const std::int64_t Vs = c.src_vocab_size, Vt = c.trg_vocab_size;
  std::vector<ParamInfo> t;
  auto add = [&](std::string name, std::vector<std::int64_t> shape) {
    ParamInfo p;
    p.is_bias = name.find("bias") != std::string::npos;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.size = 1;
    for (auto d : p.shape) p.size *= (std::size_t)d;
    t.push_back(std::move(p));
  };
  add("encoder.embedding.weight", {Vs, E});
  for (const char* sfx : {"", "_reverse"}) {
    add(std::string("encoder.rnn.weight_ih_l0") + sfx, {3 * H, E});
    add(std::string("encoder.rnn.weight_hh_l0") + sfx, {3 * H, H});
    add(std::string("encoder.rnn.bias_ih_l0") + sfx, {3 * H});
    add(std::string("encoder.rnn.bias_hh_l0") + sfx, {3 * H});
  }
  add("encoder.fc.weight", {D, 2 * H});
  add("encoder.fc.bias", {D});
  add("decoder.attention.attn.weight", {D, D + 2 * H});
  add("decoder.attention.attn.bias", {D});
  add("decoder.attention.v.weight", {1, D});
  add("decoder.embedding.weight", {Vt, E});
  add("decoder.rnn.weight_ih_l0", {3 * D, E + 2 * H});
  add("decoder.rnn.weight_hh_l0", {3 * D, D});
  add("decoder.rnn.bias_ih_l0", {3 * D});
  add("decoder.rnn.bias_hh_l0", {3 * D});
  add("decoder.fc_out.weight", {Vt, D + 2 * H + E});
  add("decoder.fc_out.bias", {Vt});
  std::size_t off = 0;
  for (auto& p : t) {
    p.offset = off;
    off += (p.size + 15) / 16 * 16;
  }
  if (total_floats) *total_floats = off;
  return t;
}

std::size_t parameter_count(const ModelConfig& c) {
  std::size_t n = 0;
  for (const auto& p : param_table(c)) n += p.size;
  return n;
}

Weights bind_weights(float* base, const ModelConfig& c) {
  const auto t = param_table(c);
  std::size_t i = 0;
  auto next = [&] { return base + t[i++].offset; };
  Weights w;
  w.enc_emb = next();
  for (int d = 0; d < 2; ++d) {
    w.enc_w_ih[d] = next();
    w.enc_w_hh[d] = next();
    w.enc_b_ih[d] = next();
    w.enc_b_hh[d] = next();
  }
  w.enc_fc_w = next();
  w.enc_fc_b = next();
  w.att_w = next();
  w.att_b = next();
  w.att_v = next();
  w.dec_emb = next();
  w.dec_w_ih = next();
  w.dec_w_hh = next();
  w.dec_b_ih = next();
  w.dec_b_hh = next();
  w.out_w = next();
  w.out_b = next();
  return w;
}

ParamBuffer::ParamBuffer(std::size_t n) : size_(n) {
  data_ = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64 + 64));
  if (!data_) throw std::bad_alloc();
  zero();
}
ParamBuffer::ParamBuffer(ParamBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
ParamBuffer& ParamBuffer::operator=(ParamBuffer&& o) noexcept {
  std::swap(data_, o.data_);
  std::swap(size_, o.size_);
  return *this;
}
ParamBuffer::~ParamBuffer() { std::free(data_); }
void ParamBuffer::zero() {
  if (data_) std::memset(data_, 0, size_ * sizeof(float));
}

void init_params(float* base, const ModelConfig& c, std::uint64_t seed, float std) {
  Rng rng(seed);
  for (const auto& p : param_table(c)) {
    float* w = base + p.offset;
    for (std::size_t i = 0; i < p.size; ++i) w[i] = p.is_bias ? 0.0f : (float)(rng.normal() * std);
  }
}

}  // namespace nmt::model
