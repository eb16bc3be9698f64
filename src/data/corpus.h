#pragma once
// The data layer, below the model and training: where a corpus's files are (Multi30k's naming,
// the bundled data directory, the default languages: each written once, here), reading aligned
// pairs (any language pair, plain or gzip), building vocabularies and encoding each sentence
// framed as <sos> t1..tn <eos> by a codec and vocabulary (design §1).
#include <string>
#include <utility>
#include <vector>

#include "text/codec.h"
#include "text/corpus.h"
#include "text/vocab.h"

namespace nmt::data {

// The bundled Multi30k de/en (the source tree's data/multi30k, else ./data/multi30k) and the
// direction used when none is named.
std::string default_data_dir();
inline const std::string kDefaultSrcLang = "de", kDefaultTrgLang = "en";

// Path of a Multi30k split in DIR: split is "train", "val" or "test" (test_2016_flickr);
// prefers "<name>.<lang>.gz", falls back to plain "<name>.<lang>".
std::string split_path(const std::string& dir, const std::string& split, const std::string& lang);

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
                                const std::string& src_lang = kDefaultSrcLang,
                                const std::string& trg_lang = kDefaultTrgLang);

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

}  // namespace nmt::data
