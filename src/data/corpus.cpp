#include "data/corpus.h"

#include <filesystem>

#include <unordered_map>

#include "common/error.h"

namespace nmt::data {

namespace {

text::Vocab vocab_of(const std::vector<std::string>& lines, const text::Codec& codec,
                     int min_freq) {
  if (auto own = codec.own_vocab()) return std::move(*own);
  std::unordered_map<std::string, long long> counts;
  for (const auto& line : lines)
    for (auto& t : codec.tokenize(line)) ++counts[std::move(t)];
  return text::Vocab::from_counts(counts, min_freq);
}

std::vector<int> encode_one(const std::string& line, const text::Codec& codec, const text::Vocab& v,
                            int max_len, long& truncated) {
  std::vector<int> ids = v.encode(codec.tokenize(line));
  if (max_len >= 3 && (int)ids.size() > max_len) {
    ids.resize(max_len);
    ids.back() = text::EOS;
    ++truncated;
  }
  return ids;
}

}  // namespace

DataFiles resolve_data_files(DataFiles f, const std::string& dir, const std::string& src_lang,
                             const std::string& trg_lang) {
  if (src_lang == trg_lang) throw Error("--src-lang and --trg-lang are both '" + src_lang + "'");
  for (auto [file, name, lang] :
       {std::tuple{&f.train_src, "train", &src_lang}, std::tuple{&f.train_trg, "train", &trg_lang},
        std::tuple{&f.valid_src, "val", &src_lang}, std::tuple{&f.valid_trg, "val", &trg_lang}}) {
    if (file->empty()) *file = split_path(dir, name, *lang);
  }
  return f;
}

text::ParallelCorpus read_pairs(const std::string& src, const std::string& trg, long limit) {
  auto pc = text::read_parallel(src, trg);
  if (limit > 0 && (long)pc.src.size() > limit) {
    pc.src.resize(limit);
    pc.trg.resize(limit);
  }
  return pc;
}

text::ParallelCorpus read_split(const std::string& dir, const std::string& split, long limit,
                                const std::string& src_lang, const std::string& trg_lang) {
  return read_pairs(split_path(dir, split, src_lang), split_path(dir, split, trg_lang),
                    limit);
}

std::pair<text::Vocab, text::Vocab> build_vocabs(const text::ParallelCorpus& pc,
                                                 const text::Codec& src, const text::Codec& trg,
                                                 int min_freq) {
  return {vocab_of(pc.src, src, min_freq), vocab_of(pc.trg, trg, min_freq)};
}

EncodedCorpus encode_corpus(const text::ParallelCorpus& pc, const text::Codec& src_codec,
                            const text::Codec& trg_codec, const text::Vocab& src_vocab,
                            const text::Vocab& trg_vocab, int max_len) {
  EncodedCorpus ec;
  ec.src.reserve(pc.src.size());
  ec.trg.reserve(pc.trg.size());
  for (const auto& s : pc.src)
    ec.src.push_back(encode_one(s, src_codec, src_vocab, max_len, ec.truncated));
  for (const auto& s : pc.trg)
    ec.trg.push_back(encode_one(s, trg_codec, trg_vocab, max_len, ec.truncated));
  return ec;
}

std::string default_data_dir() {
  const std::string built_in = std::string(NMT_SOURCE_DIR) + "/data/multi30k";
  if (std::filesystem::is_directory(built_in)) return built_in;
  return "data/multi30k";
}

std::string split_path(const std::string& dir, const std::string& split, const std::string& lang) {
  std::string name;
  if (split == "train" || split == "val")
    name = split;
  else if (split == "test" || split == "test_2016_flickr")
    name = "test_2016_flickr";
  else
    throw Error("unknown split '" + split + "' (expected train, val or test)");
  const std::string base = (std::filesystem::path(dir) / (name + "." + lang)).string();
  std::error_code ec;
  if (std::filesystem::is_regular_file(base + ".gz", ec)) return base + ".gz";
  if (std::filesystem::is_regular_file(base, ec)) return base;
  throw Error(dir + ": no " + name + "." + lang + ".gz or " + name + "." + lang + " for split '" +
              split + "'");
}

}  // namespace nmt::data
