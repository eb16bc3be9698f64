#pragma once
// Batched greedy and beam-search decoding (design §5). Sentences of different lengths share a
// batch with the encoder and attention masked, so each result is what the sentence gets alone.
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/seq2seq.h"

namespace nmt::decode {

struct DecodeOptions {
  int beam = 1;                 // 1 = greedy
  int max_len = 100;            // output tokens at most (besides <eos>)
  float length_penalty = 1.0f;  // beam: final score = log-prob / length^length_penalty
  bool keep_attention = false;
};

struct Hypothesis {
  std::vector<int> ids;          // output ids, without <sos>/<eos>
  std::vector<float> attention;  // [ids.size()+1, S]: weights at each step (incl. <eos>)
  float log_prob = 0.0f;         // sum of token log-probabilities (incl. <eos>)
  bool finished = false;         // ended with <eos> (not cut at max_len)
};

class Translator {
 public:
  explicit Translator(const model::Model& m) : m_(m) {}
  // src: framed ids (<sos> ... <eos>) per sentence; returns one hypothesis per sentence.
  std::vector<Hypothesis> translate(const std::vector<std::vector<int>>& src,
                                    const DecodeOptions& opt);
  const model::Encoder& encoder() const { return enc_; }

 private:
  // One decoder step for n rows: row i continues state s[i] from token y[i], reading source
  // column cols[i]. Writes the new state into s_new, attention [n,S] and logits [n,Vt].
  void step(int n, const int* cols, const int* y, const float* s, float* s_new, float* attn,
            float* logits);
  std::vector<Hypothesis> greedy(int B, const DecodeOptions& opt);
  std::vector<Hypothesis> beam_search(int B, const DecodeOptions& opt);

  const model::Model& m_;
  model::Encoder enc_;
  std::vector<float> q_, ctx_, x_, gi_, gh_, out_, cache_;
};

// Tokenizes, encodes, translates and detokenizes lines of text (empty lines give empty output).
// Lines longer than max_src_len tokens are truncated with a warning naming their line number
// (lines[0] is line first_line of the input).
struct TextTranslation {
  std::string text;
  std::vector<std::string> src_tokens, out_tokens;
  Hypothesis hyp;
};
std::vector<TextTranslation> translate_lines(const model::Model& m, Translator& tr,
                                             const std::vector<std::string>& lines,
                                             const DecodeOptions& opt, bool replace_unk = false,
                                             int max_src_len = 200, long first_line = 1);

}  // namespace nmt::decode
