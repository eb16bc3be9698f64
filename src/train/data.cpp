#include "train/data.h"

namespace nmt::train {

text::ParallelCorpus read_split(const std::string& dir, const std::string& split, long limit) {
  auto pc =
      text::read_parallel(text::split_path(dir, split, "de"), text::split_path(dir, split, "en"));
  if (limit > 0 && (long)pc.src.size() > limit) {
    pc.src.resize(limit);
    pc.trg.resize(limit);
  }
  return pc;
}

TokenizedCorpus tokenize_corpus(const text::ParallelCorpus& pc, const model::ModelConfig& c) {
  const auto src_lang = text::lang_from_code(c.src_lang),
             trg_lang = text::lang_from_code(c.trg_lang);
  TokenizedCorpus tc;
  tc.src.reserve(pc.src.size());
  tc.trg.reserve(pc.trg.size());
  for (const auto& s : pc.src)
    tc.src.push_back(text::tokenize(s, src_lang, c.lowercase, c.split_hyphens));
  for (const auto& s : pc.trg)
    tc.trg.push_back(text::tokenize(s, trg_lang, c.lowercase, c.split_hyphens));
  return tc;
}

static std::vector<int> encode_one(const std::vector<std::string>& toks, const text::Vocab& v,
                                   int max_len, long& truncated) {
  std::vector<int> ids = v.encode(toks);
  if (max_len >= 3 && (int)ids.size() > max_len) {
    ids.resize(max_len);
    ids.back() = text::EOS;
    ++truncated;
  }
  return ids;
}

EncodedCorpus encode_corpus(const TokenizedCorpus& tc, const text::Vocab& src_vocab,
                            const text::Vocab& trg_vocab, int max_len) {
  EncodedCorpus ec;
  for (const auto& s : tc.src) ec.src.push_back(encode_one(s, src_vocab, max_len, ec.truncated));
  for (const auto& s : tc.trg) ec.trg.push_back(encode_one(s, trg_vocab, max_len, ec.truncated));
  return ec;
}

}  // namespace nmt::train
