// Vocabulary: order, specials, encode/decode, save/load, and the sizes on bundled Multi30k.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/corpus.h"
#include "test_util.h"
#include "text/corpus.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace nmt::text {
namespace {

namespace fs = std::filesystem;
using Sentences = std::vector<std::vector<std::string>>;

std::vector<std::string> all_tokens(const Vocab& v) {
  std::vector<std::string> out;
  for (int i = 0; i < v.size(); ++i) out.push_back(v.token(i));
  return out;
}

Sentences tokenized_train(const char* lang) {
  Sentences out;
  for (const auto& line : read_lines(data::split_path("data/multi30k", "train", lang)))
    out.push_back(tokenize(line, lang_from_code(lang)));
  return out;
}

class VocabFile : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  nmt::testing::TempDir tmp_;  // removed with the fixture
  fs::path dir_{tmp_.path()};
};

TEST(Vocab, SpecialIdsAreFixed) {
  EXPECT_EQ(UNK, 0);
  EXPECT_EQ(PAD, 1);
  EXPECT_EQ(SOS, 2);
  EXPECT_EQ(EOS, 3);
  const Vocab v = Vocab::build({});
  ASSERT_EQ(v.size(), 4);
  EXPECT_EQ(all_tokens(v), (std::vector<std::string>{"<unk>", "<pad>", "<sos>", "<eos>"}));
}

TEST(Vocab, OrderByCountThenBytesWithMinFreq) {
  const Sentences s = {{"b", "a", "c", "a", "ä", "Z"},
                       {"c", "b", "a", "ä", "Z", "once"},
                       {"b", "c", "a", "x", "x", "y"}};
  // a:4, b:3, c:3, x:2, Z:2, ä:2 (byte order: "Z" 0x5a < "x" 0x78 < "ä" 0xc3), once/y: 1
  const Vocab v = Vocab::build(s, 2);
  EXPECT_EQ(all_tokens(v), (std::vector<std::string>{"<unk>", "<pad>", "<sos>", "<eos>", "a", "b",
                                                     "c", "Z", "x", "ä"}));
  EXPECT_EQ(Vocab::build(s, 1).size(), 12);
  EXPECT_EQ(Vocab::build(s, 3).size(), 7);
  EXPECT_EQ(Vocab::build(s, 5).size(), 4);
}

TEST(Vocab, SpecialsInTheDataAreNotDuplicated) {
  const Vocab v = Vocab::build({{"<unk>", "<pad>", "w", "<eos>"}, {"w", "<sos>", "<unk>"}});
  EXPECT_EQ(all_tokens(v), (std::vector<std::string>{"<unk>", "<pad>", "<sos>", "<eos>", "w"}));
}

TEST(Vocab, EncodeDecode) {
  const Vocab v = Vocab::build({{"ein", "hund", "."}, {"ein", "hund", "."}});
  EXPECT_EQ(v.id("ein"), 4 + 1);  // ".", "ein", "hund" all twice: byte order
  EXPECT_EQ(v.id("."), 4);
  EXPECT_EQ(v.id("katze"), UNK);
  EXPECT_EQ(v.token(PAD), "<pad>");
  EXPECT_THROW(v.token(-1), Error);
  EXPECT_THROW(v.token(v.size()), Error);
  const auto ids = v.encode({"ein", "katze", "hund", "."});
  EXPECT_EQ(ids, (std::vector<int>{SOS, 5, UNK, 6, 4, EOS}));
  EXPECT_EQ(v.decode(ids), (std::vector<std::string>{"ein", "<unk>", "hund", "."}));
  EXPECT_EQ(v.decode({SOS, 5, PAD, 6, EOS, 4, 4}), (std::vector<std::string>{"ein", "hund"}));
  EXPECT_EQ(v.decode({5, 6}), (std::vector<std::string>{"ein", "hund"}));  // no <eos>: all
  EXPECT_EQ(v.encode({}), (std::vector<int>{SOS, EOS}));
}

TEST_F(VocabFile, SaveLoadRoundTripIsAtomic) {
  const Vocab v = Vocab::build({{"ein", "hund", "ä", "."}, {"ein", "hund", "ä", "."}}, 1);
  const std::string path = (dir_ / "vocab.de").string();
  write("vocab.de", "old contents\n");
  v.save(path);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  std::ifstream in(path, std::ios::binary);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(text, "<unk>\n<pad>\n<sos>\n<eos>\n.\nein\nhund\n\xc3\xa4\n");
  const Vocab back = Vocab::load(path);
  EXPECT_EQ(all_tokens(back), all_tokens(v));
  EXPECT_EQ(back.id("hund"), v.id("hund"));
  EXPECT_EQ(back.id("nope"), UNK);

  const std::string missing_dir = (dir_ / "no" / "such" / "vocab").string();
  EXPECT_THROW(v.save(missing_dir), Error);
  EXPECT_FALSE(fs::exists(missing_dir));
}

TEST_F(VocabFile, LoadRejectsBadFiles) {
  const std::string empty = write("empty", "");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(empty); }), empty + ": empty vocabulary file");

  const std::string dup = write("dup", "<unk>\n<pad>\n<sos>\n<eos>\nhund\nkatze\nhund\n");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(dup); }),
            dup + ":7: duplicate token 'hund' (first at line 5)");

  const std::string order = write("order", "<pad>\n<unk>\n<sos>\n<eos>\nhund\n");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(order); }),
            order + ":1: expected special token <unk> at id 0, found '<pad>'");

  const std::string nospecial = write("nospecial", "der\ndie\ndas\n.\n,\n");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(nospecial); }),
            nospecial + ":1: expected special token <unk> at id 0, found 'der'");

  const std::string short_file = write("short", "<unk>\n<pad>\n");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(short_file); }),
            short_file + ": vocabulary has 2 lines, expected at least the 4 special tokens");

  const std::string blank = write("blank", "<unk>\n<pad>\n<sos>\n<eos>\n\nhund\n");
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(blank); }), blank + ":5: empty token");

  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(nmt::testing::error_of([&] { Vocab::load(missing); }),
            missing + ": cannot open (No such file or directory)");
}

// Design §1: the seed's spaCy pipeline gave 7,853 German and 5,893 English entries.
TEST_F(VocabFile, BundledTrainSizesMatchTheSeed) {
  const Sentences de = tokenized_train("de");
  const Sentences en = tokenized_train("en");
  const Vocab vde = Vocab::build(de, 2);
  const Vocab ven = Vocab::build(en, 2);
  std::cout << "[ vocab    ] de " << vde.size() << " (seed 7853), en " << ven.size()
            << " (seed 5893)\n";
  RecordProperty("vocab_de", vde.size());
  RecordProperty("vocab_en", ven.size());
  EXPECT_NEAR(vde.size(), 7853, 7853 * 0.03);
  EXPECT_NEAR(ven.size(), 5893, 5893 * 0.03);
  // The most frequent words come first.
  EXPECT_EQ(vde.token(4), ".");
  EXPECT_EQ(vde.token(5), "ein");
  EXPECT_EQ(ven.token(4), "a");
  EXPECT_EQ(ven.token(5), ".");
  // Every vocabulary word occurs at least twice; every word occurring twice is in.
  std::unordered_map<std::string, int> counts;
  for (const auto& s : de)
    for (const auto& t : s) ++counts[t];
  int twice = 0;
  for (const auto& [t, c] : counts) twice += c >= 2;
  EXPECT_EQ(vde.size(), twice + 4);
  for (int i = 4; i < vde.size(); ++i) ASSERT_GE(counts[vde.token(i)], 2) << vde.token(i);

  // Deterministic: again, and from the sentences in reverse order, gives the same list.
  const Sentences reversed(de.rbegin(), de.rend());
  EXPECT_EQ(all_tokens(Vocab::build(de, 2)), all_tokens(vde));
  EXPECT_EQ(all_tokens(Vocab::build(reversed, 2)), all_tokens(vde));

  const std::string path = (dir_ / "vocab.de").string();
  vde.save(path);
  EXPECT_EQ(all_tokens(Vocab::load(path)), all_tokens(vde));
}

}  // namespace
}  // namespace nmt::text
