#pragma once
// Tokenized, id-encoded parallel data (design §1): each sentence framed as <sos> w1..wn <eos>.
#include <string>
#include <vector>

#include "model/config.h"
#include "text/corpus.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace nmt::train {

struct TokenizedCorpus {
  std::vector<std::vector<std::string>> src, trg;
};

struct EncodedCorpus {
  std::vector<std::vector<int>> src, trg;  // framed ids
  long truncated = 0;                      // sentences cut to max_len
};

// Reads split "train"/"val"/"test" of DIR (de→en), keeping the first `limit` pairs if > 0.
text::ParallelCorpus read_split(const std::string& dir, const std::string& split, long limit = 0);

// With the text settings of a model (languages, lowercase, split_hyphens).
TokenizedCorpus tokenize_corpus(const text::ParallelCorpus& pc, const model::ModelConfig& c);
// Frames and encodes; sentences longer than max_len ids (incl. <sos>/<eos>) are truncated.
EncodedCorpus encode_corpus(const TokenizedCorpus& tc, const text::Vocab& src_vocab,
                            const text::Vocab& trg_vocab, int max_len);

}  // namespace nmt::train
