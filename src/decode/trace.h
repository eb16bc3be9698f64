#pragma once
// What the real forward pass computed, for whoever shows it (`nmt explain`, the page's "Inside
// the model", the Python module): a Translator given a TraceSink calls it with the encoder's
// activations and, after each decoder step, that step's buffers. Nothing is recomputed for a
// trace, so what it shows is what decoding used.
#include <vector>

#include "model/seq2seq.h"

namespace nmt::decode {

// One decoder step of n rows (greedy: one per running sentence; beam: one per live beam).
struct StepTrace {
  int t = 0;                 // step (0: input <sos>, previous state s0)
  int n = 0;                 // rows
  const int* cols = nullptr; // [n] encoder column of each row (TraceSink::encoder's order)
  const int* y = nullptr;    // [n] input tokens
  const float* s_prev = nullptr;  // [n,D] previous states
  const float* s_new = nullptr;   // [n,D] new states
  const model::DecoderStepBuffers* buf = nullptr;  // q, attn, ctx, x, out, logits (and energy,
                                                   // scores when wants_energies())
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  // The encoder over the batch; encoder column i holds the caller's sentence order[i].
  virtual void encoder(const model::Encoder& enc, const std::vector<int>& order) = 0;
  virtual void step(const StepTrace& s) = 0;
  // Whether steps also record the attention energies [n,S,D] and scores [n,S].
  virtual bool wants_energies() const { return false; }
};

}  // namespace nmt::decode
