#pragma once
// Batched greedy and beam-search decoding (design §5). Sentences of different lengths share a
// batch with the encoder and attention masked, so each result is what the sentence gets alone.
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "decode/options.h"
#include "decode/trace.h"
#include "model/seq2seq.h"
#include "tensor/weight.h"

namespace nmt::decode {

// fp32: the model's exact math (what training computes). bf16: the weight matrices of the
// encoder (W_ih, W_hh per direction, fc, W_h) and the decoder (W_s, W_ih, W_hh, fc_out) rounded
// to bfloat16, fp32 arithmetic. int8: the same matrices quantized per row to int8, int8 x int8
// -> int32 products (oneDNN, VNNI). Embeddings, biases and the recurrences' state stay fp32.
using ops::parse_precision;
using ops::Precision;
// Rounds in place the weights that precision p keeps in bf16 or int8 (none for fp32), so that
// the training graph scores exactly the weights the translator decodes with.
void round_weights(model::Model& m, Precision p);

struct Hypothesis {
  std::vector<int> ids;          // output ids, without <sos>/<eos>
  std::vector<float> attention;  // [ids.size()+1, S]: weights at each step (incl. <eos>)
  float log_prob = 0.0f;         // sum of token log-probabilities (incl. <eos>)
  bool finished = false;         // ended with <eos> (not cut at max_len)
  float score = 0.0f;            // what the search ranks: log_prob / length^length_penalty (beam)
  std::vector<Hypothesis> alternatives;  // beam with nbest > 1: the runners-up, best first
};

// A prepared model: made once from a checkpoint and a precision (resolved here: auto becomes
// what this build has; one unavailable here throws nmt::Error with one line), which it keeps.
class Translator {
 public:
  explicit Translator(const model::Model& m, Precision p = Precision::Fp32);
  Precision precision() const { return precision_; }  // the effective one (never auto)
  // src: framed ids (<sos> ... <eos>) per sentence; returns one hypothesis per sentence. A trace
  // (if given) sees the encoder and every decoder step as computed.
  std::vector<Hypothesis> translate(const std::vector<std::vector<int>>& src,
                                    const DecodeOptions& opt, TraceSink* trace = nullptr);
  const model::Encoder& encoder() const { return enc_; }

 private:
  // Decoder step t for n rows: row i continues state s[i] from token y[i], reading source
  // column cols[i]. Writes the new state into s_new, attention [n,S] and logits [n,Vt].
  void step(int t, int n, const int* cols, const int* y, const float* s, float* s_new,
            float* attn, float* logits);
  std::vector<Hypothesis> greedy(int B, const DecodeOptions& opt);
  std::vector<Hypothesis> beam_search(int B, const DecodeOptions& opt);

  const model::Model& m_;
  Precision precision_;
  // The model's matrices at that precision (fp32: views of the weights; else copies).
  model::EncoderMatrices enc_mats_;
  model::DecoderMatrices mats_;
  model::Encoder enc_;
  std::vector<float> q_, ctx_, x_, gi_, gh_, out_, cache_, energy_, scores_;
  TraceSink* trace_ = nullptr;  // during translate() only
};

// Tokenizes, encodes, translates and detokenizes lines of text (empty lines give empty output).
// Lines longer than max_src_len tokens are truncated with a warning naming their line number
// (lines[0] is line first_line of the input).
struct TextTranslation {
  std::string text;
  std::vector<std::string> src_tokens, out_tokens;
  Hypothesis hyp;
  std::size_t truncated_from = 0;  // the line's token count when it was cut to max_src_len
  int attention_cols = 0;  // columns of each hyp.attention row (the batch's padded source length)
};
// warn: print the truncation warnings on stderr (a server reports them in its answer instead).
std::vector<TextTranslation> translate_lines(const model::Model& m, Translator& tr,
                                             const std::vector<std::string>& lines,
                                             const DecodeOptions& opt, bool replace_unk = false,
                                             int max_src_len = 200, long first_line = 1,
                                             bool warn = true);
// The same from each sentence's tokens (the source codec's; e.g. tokenized piece by piece).
std::vector<TextTranslation> translate_tokens(const model::Model& m, Translator& tr,
                                              std::vector<std::vector<std::string>> tokens,
                                              const DecodeOptions& opt, bool replace_unk = false,
                                              int max_src_len = 200);
// translate_lines over all lines in slices of `batch` (line numbers of warnings count from 1).
std::vector<TextTranslation> translate_in_batches(const model::Model& m, Translator& tr,
                                                  const std::vector<std::string>& lines,
                                                  const DecodeOptions& opt, int batch,
                                                  int max_src_len = 200, bool warn = true);
// Output tokens of a hypothesis, <unk> replaced by the most attended source token when asked.
std::vector<std::string> output_tokens(const model::Model& m, const Hypothesis& h,
                                       const std::vector<std::string>& src_tokens, int S,
                                       bool replace_unk);

}  // namespace nmt::decode
