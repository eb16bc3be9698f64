// Text codecs (text/codec.h): SentencePiece trained in-process (round trips on every bundled
// test line and on text in any script, determinism, clear errors) and the word codec.
#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"
#include "text/codec.h"
#include "text/corpus.h"
#include "data/corpus.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

const std::vector<std::string> kMixedScript = {
    "日本語の文章には空白がありません。",                         // CJK without spaces
    "中文句子也没有空格，对吧？",                                 // Chinese, full-width punctuation
    "Emoji 😀👍🏽 and a family 👨‍👩‍👧 (ZWJ).",  // astral plane, skin tone, ZWJ
                                                                  // sequence
    "Combining: e\xCC\x81 n\xCC\x83 a\xCC\x8A vs precomposed é ñ å",
    "שלום עולם, זה טקסט מימין לשמאל.",         // Hebrew (RTL)
    "مرحبا بالعالم! ١٢٣",                      // Arabic (RTL) with Arabic-Indic digits
    "Привет, мир! Ελληνικά. ქართული. हिन्दी.",  // Cyrillic, Greek, Georgian, Devanagari
    "Ein Mann fährt Fahrrad. ẞ ß Ærø Œuvre ǅ", "\xEF\xBB\xBF\xE2\x80\x8B zero width and BOM"};

// SentencePiece folds runs of spaces and trims the ends (remove_extra_whitespaces).
std::string squeeze_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A small joint SentencePiece model on the bundled training text, trained once per process.
const std::string& spm_model() {
  static TempDir dir;
  static const std::string path = [] {
    const auto pc = data::read_split(repo_path("data/multi30k"), "train", 3000);
    std::vector<std::string> text = pc.src;
    text.insert(text.end(), pc.trg.begin(), pc.trg.end());
    const std::string p = dir / "spm.model";
    text::train_spm(text, {2000, "unigram", 1234, 2}, p);
    return p;
  }();
  return path;
}

std::unique_ptr<text::Codec> spm_codec() {
  text::CodecSpec spec;
  spec.type = "spm";
  spec.spm_model = spm_model();
  return text::make_codec(spec);
}

}  // namespace

TEST(Spm, RoundTripsEveryBundledTestLine) {
  const auto codec = spm_codec();
  const auto vocab = *codec->own_vocab();
  for (const char* lang : {"de", "en"}) {
    const auto lines = text::read_lines(data::split_path(repo_path("data/multi30k"), "test", lang));
    ASSERT_EQ(lines.size(), 1000u);
    int bad = 0, unk = 0;
    for (const auto& line : lines) {
      const auto pieces = codec->tokenize(line);
      for (const auto& p : pieces) unk += vocab.id(p) == text::UNK;
      if (codec->detokenize(pieces) != squeeze_spaces(line) && ++bad <= 3)
        ADD_FAILURE() << lang << ": '" << line << "' -> '" << codec->detokenize(pieces) << "'";
    }
    EXPECT_EQ(bad, 0) << lang;
    EXPECT_EQ(unk, 0) << lang << ": every piece is in the vocabulary (byte fallback)";
  }
}

TEST(Spm, TextInAnyScriptIsLossless) {
  const auto codec = spm_codec();
  const auto vocab = *codec->own_vocab();
  for (const auto& line : kMixedScript) {
    SCOPED_TRACE(line);
    const auto pieces = codec->tokenize(line);
    EXPECT_EQ(codec->detokenize(pieces), squeeze_spaces(line));
    // Through ids and back, as the model sees it: no <unk>, the same text.
    std::vector<std::string> back;
    for (const auto& p : pieces) {
      EXPECT_NE(vocab.id(p), text::UNK) << "piece '" << p << "'";
      back.push_back(vocab.token(vocab.id(p)));
    }
    EXPECT_EQ(codec->detokenize(back), squeeze_spaces(line));
  }
}

TEST(Spm, KeepsCase) {
  const auto codec = spm_codec();
  EXPECT_EQ(codec->detokenize(codec->tokenize("Ein Mann in BLAU")), "Ein Mann in BLAU");
}

TEST(Spm, SameDataGivesTheSameModel) {
  TempDir tmp;
  const auto pc = data::read_split(repo_path("data/multi30k"), "val");
  for (const char* type : {"unigram", "bpe"}) {
    SCOPED_TRACE(type);
    text::train_spm(pc.src, {500, type, 7, 2}, tmp / "a.model");
    text::train_spm(pc.src, {500, type, 7, 2}, tmp / "b.model");
    EXPECT_EQ(read_file(tmp / "a.model"), read_file(tmp / "b.model"));
  }
}

TEST(Spm, ClearErrors) {
  TempDir tmp;
  const auto pc = data::read_split(repo_path("data/multi30k"), "val", 20);
  expect_error(
      [&] {
        text::train_spm(pc.src, {50000, "unigram", 1, 1}, tmp / "m");
      },
      {"--vocab-size"});
  EXPECT_FALSE(fs::exists(tmp / "m"));
  expect_error([&] { text::train_spm({"", ""}, {100, "unigram", 1, 1}, tmp / "m"); }, {"no text"});
  expect_error([&] { text::train_spm(pc.src, {100, "word", 1, 1}, tmp / "m"); }, {"--spm-type"});
  write_file(tmp / "junk.model", "not a model");
  text::CodecSpec spec;
  spec.type = "spm";
  spec.spm_model = tmp / "junk.model";
  expect_error([&] { text::make_codec(spec); }, {"junk.model"});
  spec.spm_model = tmp / "missing.model";
  expect_error([&] { text::make_codec(spec); }, {"missing.model"});
  spec.type = "bytes";
  expect_error([&] { text::make_codec(spec); }, {"unknown tokenizer 'bytes'"});
}

TEST(WordCodec, AnyScriptKeepsEveryCharacter) {
  // The word tokenizer splits punctuation off but drops nothing (cased: lowercase off) except
  // what it treats as whitespace: the zero-width space and a BOM (the last line).
  for (const char* lang : {"de", "en", "fr"}) {
    text::CodecSpec spec;
    spec.lang = lang;
    spec.lowercase = false;
    const auto codec = text::make_codec(spec);
    for (std::size_t i = 0; i + 1 < kMixedScript.size(); ++i) {
      const std::string& line = kMixedScript[i];
      SCOPED_TRACE(std::string(lang) + ": " + line);
      std::string in, out;
      for (char c : line) in += c == ' ' ? "" : std::string(1, c);
      for (const auto& t : codec->tokenize(line)) out += t;
      // HTML entities and apostrophes are the only rewrites; none occur in these lines.
      EXPECT_EQ(out, in);
    }
  }
}
