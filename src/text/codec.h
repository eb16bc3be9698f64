#pragma once
// One side's text codec: a line of text -> tokens -> (through the model's Vocab) ids, and
// output tokens -> detokenized text. Picked by config.json's "tokenizer"; two implementations:
//   word  the seed's rule-based word tokenizer (design §1), optionally lowercasing;
//   spm   SentencePiece subwords (cased, byte fallback: no character is ever lost).
// A codec's tokens are exactly its vocabulary's tokens, so ids stay text::Vocab's business.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace nmt::text {

struct CodecSpec {
  std::string type = "word";  // "word" | "spm"
  std::string lang = "en";    // word: its language rules ("de", "en"; others get neutral rules)
  bool lowercase = true;      // word
  bool split_hyphens = true;  // word
  std::string spm_model;      // spm: path of the SentencePiece model file
};

class Codec {
 public:
  virtual ~Codec() = default;
  // Tokens of one line (words or subword pieces), without <sos>/<eos>.
  virtual std::vector<std::string> tokenize(std::string_view line) const = 0;
  // Text of output tokens (the inverse of tokenize, up to whitespace and, for word, case).
  virtual std::string detokenize(const std::vector<std::string>& tokens) const = 0;
  // The vocabulary the codec itself defines (spm: its pieces in id order); none for word,
  // whose vocabulary is counted from the training data.
  virtual std::optional<Vocab> own_vocab() const { return std::nullopt; }
};

// Throws nmt::Error naming the model file when it cannot be read.
std::unique_ptr<Codec> make_codec(const CodecSpec& spec);

// Training a SentencePiece model on sentences (done inside `nmt train --tokenizer spm`).
struct SpmTrainOptions {
  int vocab_size = 8000;
  std::string type = "unigram";  // "unigram" | "bpe"
  std::uint64_t seed = 1234;
  int threads = 2;
};
// Writes the model file atomically to out_path. Its ids 0-3 are <unk> <pad> <sos> <eos> (design
// §1's specials), identity normalization (cased, nothing folded), byte fallback. Throws
// nmt::Error with SentencePiece's reason (e.g. a vocabulary size the data cannot support).
void train_spm(const std::vector<std::string>& sentences, const SpmTrainOptions& opt,
               const std::string& out_path);

}  // namespace nmt::text
