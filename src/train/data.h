#pragma once
// A run's parallel text (any language pair, plain or gzip files) and its id-encoded form: each
// sentence framed as <sos> t1..tn <eos> by the model's codecs and vocabularies (design §1).
#include <string>
#include <utility>
#include <vector>

#include "model/checkpoint.h"
#include "text/codec.h"
#include "text/corpus.h"
#include "text/vocab.h"

namespace nmt::train {

// The four files of a run: from --data DIR (DIR/train.L1, DIR/val.L2, ... with .gz preferred)
// unless named directly.
struct DataFiles {
  std::string train_src, train_trg, valid_src, valid_trg;
};
// Fills the files not given from dir and the language codes; throws nmt::Error naming the
// missing file (or the directory and language when neither DIR/x.L nor DIR/x.L.gz exists).
DataFiles resolve_data_files(DataFiles given, const std::string& dir, const std::string& src_lang,
                             const std::string& trg_lang);

// Reads two aligned files, keeping the first `limit` pairs if > 0.
text::ParallelCorpus read_pairs(const std::string& src, const std::string& trg, long limit = 0);
// Split "train"/"val"/"test" of a Multi30k-style DIR in one direction.
text::ParallelCorpus read_split(const std::string& dir, const std::string& split, long limit = 0,
                                const std::string& src_lang = "de",
                                const std::string& trg_lang = "en");

struct EncodedCorpus {
  std::vector<std::vector<int>> src, trg;  // framed ids
  long truncated = 0;                      // sentences cut to max_len
};

// The vocabularies of a new model: the codec's own (spm) or counted from the text with
// min_freq (word), one side at a time so that no token list of the corpus is ever held.
std::pair<text::Vocab, text::Vocab> build_vocabs(const text::ParallelCorpus& pc,
                                                 const text::Codec& src, const text::Codec& trg,
                                                 int min_freq);
// Tokenizes, frames and encodes; sentences longer than max_len ids (incl. <sos>/<eos>) are
// truncated when max_len >= 3.
EncodedCorpus encode_corpus(const text::ParallelCorpus& pc, const text::Codec& src_codec,
                            const text::Codec& trg_codec, const text::Vocab& src_vocab,
                            const text::Vocab& trg_vocab, int max_len);

// The seed preset (model/preset.h: sizes, word codecs, min_freq) freshly initialised with
// `seed` on the vocabularies of pc (what `nmt bench` and `nmt explain` use without --model).
model::Model seed_model(const text::ParallelCorpus& pc, std::uint64_t seed);

}  // namespace nmt::train
