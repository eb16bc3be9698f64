// Corpus reading: plain and gzip files, strict UTF-8, aligned parallel files, split paths.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/corpus.h"
#include "test_util.h"
#include "text/corpus.h"

namespace nmt::text {
namespace {

namespace fs = std::filesystem;


class Corpus : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  std::string write_gz(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    gzFile f = gzopen(p.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
              static_cast<int>(text.size()));
    gzclose(f);
    return p;
  }

  nmt::testing::TempDir tmp_;  // removed with the fixture
  fs::path dir_{tmp_.path()};
};

TEST(CorpusUtf8, ValidatesStrictly) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("Männer „Büsche“ straße"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the largest code point
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000, just above them

  EXPECT_FALSE(is_valid_utf8("a\x80z"));            // lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xbf"));              // lone continuation byte
  EXPECT_FALSE(is_valid_utf8("\xff"));              // never valid
  EXPECT_FALSE(is_valid_utf8("\xfe"));              // never valid
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));  // overlong 4-byte
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated at the end
  EXPECT_FALSE(is_valid_utf8("\xe2\x82z"));         // truncated before ASCII
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated 2-byte
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));      // surrogate U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));  // lead byte beyond U+10FFFF
  EXPECT_FALSE(is_valid_utf8("ok \xc3\xa4\xc3"));   // valid, then truncated
}

TEST_F(Corpus, BundledSplitsHaveTheirSizes) {
  EXPECT_EQ(read_lines(data::split_path("data/multi30k", "train", "de")).size(), 29000u);
  EXPECT_EQ(read_lines(data::split_path("data/multi30k", "train", "en")).size(), 29000u);
  EXPECT_EQ(read_lines(data::split_path("data/multi30k", "val", "de")).size(), 1014u);
  EXPECT_EQ(read_lines(data::split_path("data/multi30k", "test", "en")).size(), 1000u);
  const auto de = read_lines("data/multi30k/train.de.gz");
  const auto en = read_lines("data/multi30k/train.en.gz");
  EXPECT_EQ(de[0], "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.");
  EXPECT_EQ(en[0], "Two young, White males are outside near many bushes.");
  EXPECT_EQ(en.back(),
            "A man in shorts and a Hawaiian shirt leans over the rail of a pilot boat, "
            "with fog and mountains in the background.");
  const auto pc = read_parallel("data/multi30k/val.de.gz", "data/multi30k/val.en.gz");
  EXPECT_EQ(pc.src.size(), 1014u);
  EXPECT_EQ(pc.trg.size(), 1014u);
  EXPECT_EQ(pc.skipped_empty, 0u);
}

TEST_F(Corpus, GzipDetectedByMagicBytesNotName) {
  const std::string text = "erste Zeile\nzweite Zeile mit Ümlaut\r\ndritte ohne Zeilenende";
  const std::vector<std::string> want = {"erste Zeile", "zweite Zeile mit Ümlaut",
                                         "dritte ohne Zeilenende"};
  EXPECT_EQ(read_lines(write("plain.txt", text)), want);
  EXPECT_EQ(read_lines(write_gz("zipped.txt", text)), want);  // gzip without .gz
  EXPECT_EQ(read_lines(write("plain.gz", text)), want);       // plain text named .gz
  EXPECT_EQ(read_lines(write_gz("zipped.gz", text)), want);
}

TEST_F(Corpus, LineEndings) {
  EXPECT_EQ(read_lines(write("a", "x\r\ny\r\n")), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(read_lines(write("b", "x\n\ny\n")), (std::vector<std::string>{"x", "", "y"}));
  EXPECT_EQ(read_lines(write("c", "x")), (std::vector<std::string>{"x"}));
  EXPECT_EQ(read_lines(write("d", "x\n\n")), (std::vector<std::string>{"x", ""}));
  EXPECT_EQ(read_lines(write("e", "\xef\xbb\xbfx\n")), (std::vector<std::string>{"x"}));  // BOM
  EXPECT_TRUE(read_lines(write("f", "")).empty());
  EXPECT_TRUE(read_lines(write_gz("g.gz", "")).empty());
}

TEST_F(Corpus, MissingFileOrDirectory) {
  const std::string missing = (dir_ / "nope.de.gz").string();
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(missing); }),
            missing + ": cannot open (No such file or directory)");
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(dir_.string()); }),
            dir_.string() + ": cannot open (Is a directory)");
  const std::string ok = write("ok.en", "a\n");
  const std::string msg = nmt::testing::error_of([&] { read_parallel(missing, ok); });
  EXPECT_NE(msg.find(missing + ": cannot open"), std::string::npos) << msg;
}

TEST_F(Corpus, InvalidUtf8NamesFileLineAndColumn) {
  const std::string p = write("bad.de",
                              "gut\nab\xff"
                              "cd\n");
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p); }), p + ":2: invalid UTF-8 (byte 0xff at column 3)");

  struct Bad {
    std::string bytes, detail;
  };
  const std::vector<Bad> kinds = {
      {"x\x80y", "unexpected continuation byte 0x80 at column 2"},
      {"x\xc0\xaf", "overlong sequence starting with byte 0xc0 at column 2"},
      {"x\xe0\x80\xaf", "overlong sequence 0xe0 0x80 0xaf at column 2"},
      {"Stra\xc3", "truncated sequence 0xc3 at column 5"},
      {"x\xe2\x82y", "truncated sequence 0xe2 0x82 at column 2"},
      {"x\xed\xa0\x80", "surrogate 0xed 0xa0 0x80 at column 2"},
      {"x\xf4\x90\x80\x80", "code point above U+10FFFF 0xf4 0x90 0x80 0x80 at column 2"},
  };
  for (const auto& bad : kinds) {
    SCOPED_TRACE(bad.detail);
    const std::string path = write("kind", "fine line\n" + bad.bytes + "\n");
    EXPECT_EQ(nmt::testing::error_of([&] { read_lines(path); }), path + ":2: invalid UTF-8 (" + bad.detail + ")");
  }
  // Inside a gzip file too, with the line number of the decompressed text.
  const std::string gz = write_gz("bad.gz", "a\nb\nc\xed\xbf\xbf\n");
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(gz); }),
            gz + ":3: invalid UTF-8 (surrogate 0xed 0xbf 0xbf at column 2)");
}

TEST_F(Corpus, CorruptGzip) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "Ein Mann mit Hut Nummer " + std::to_string(i) + ".\n";
  const std::string good = nmt::testing::read_file(write_gz("good.gz", text));
  ASSERT_GT(good.size(), 200u);
  ASSERT_EQ(read_lines(write("good_copy.gz", good)).size(), 2000u);

  std::string flipped = good;  // garbage in the deflate stream
  for (std::size_t i = 40; i < 80; ++i) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  const std::string p1 = write("flipped.gz", flipped);
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p1); }).rfind(p1 + ": corrupt gzip (", 0), 0u);

  const std::string p2 = write("truncated.gz", good.substr(0, good.size() / 2));
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p2); }),
            p2 + ": corrupt gzip (unexpected end of file: truncated?)");

  std::string bad_crc = good;  // the CRC-32 is the 8th-to-last..5th-to-last byte
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 1);
  const std::string p3 = write("crc.gz", bad_crc);
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p3); }), p3 + ": corrupt gzip (incorrect data check)");

  const std::string p4 = write("header_only.gz", good.substr(0, 2));
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p4); }).rfind(p4 + ": corrupt gzip (", 0), 0u);

  const std::string p5 = write("trailing.gz", good + "junk");
  EXPECT_EQ(nmt::testing::error_of([&] { read_lines(p5); }),
            p5 + ": corrupt gzip (trailing garbage after compressed data)");
}

TEST_F(Corpus, ConcatenatedGzipMembers) {
  const std::string a = nmt::testing::read_file(write_gz("a.gz", "eins\nzwei\n"));
  const std::string b = nmt::testing::read_file(write_gz("b.gz", "drei\n"));
  EXPECT_EQ(read_lines(write("ab.gz", a + b)), (std::vector<std::string>{"eins", "zwei", "drei"}));
}

TEST_F(Corpus, ParallelLineCountMismatch) {
  const std::string de = write("x.de", "a\nb\nc\n");
  const std::string en = write_gz("x.en.gz", "a\nb\n");
  EXPECT_EQ(nmt::testing::error_of([&] { read_parallel(de, en); }),
            "line counts differ: " + de + " has 3 lines, " + en + " has 2");
}

TEST_F(Corpus, ParallelSkipsEmptyAndWhitespacePairs) {
  const std::string de = write("y.de", "Ein Hund.\n\nZwei Katzen.\n  \t\nDrei.\nVier.\n");
  const std::string en = write("y.en", "A dog.\nignored\n\nnot empty\nThree.\n\xc2\xa0\n");
  const ParallelCorpus pc = read_parallel(de, en);
  EXPECT_EQ(pc.src, (std::vector<std::string>{"Ein Hund.", "Drei."}));
  EXPECT_EQ(pc.trg, (std::vector<std::string>{"A dog.", "Three."}));
  EXPECT_EQ(pc.skipped_empty, 4u);
}

TEST_F(Corpus, SplitPath) {
  EXPECT_EQ(data::split_path("data/multi30k", "train", "de"), "data/multi30k/train.de.gz");
  EXPECT_EQ(data::split_path("data/multi30k", "val", "en"), "data/multi30k/val.en.gz");
  EXPECT_EQ(data::split_path("data/multi30k", "test", "de"), "data/multi30k/test_2016_flickr.de.gz");

  const std::string d = dir_.string();
  write("train.de", "x\n");
  EXPECT_EQ(data::split_path(d, "train", "de"), d + "/train.de");  // plain fallback
  write("train.de.gz", "x\n");
  EXPECT_EQ(data::split_path(d, "train", "de"), d + "/train.de.gz");  // .gz preferred
  write("test_2016_flickr.en", "x\n");
  EXPECT_EQ(data::split_path(d, "test", "en"), d + "/test_2016_flickr.en");

  EXPECT_EQ(nmt::testing::error_of([&] { data::split_path(d, "val", "de"); }),
            d + ": no val.de.gz or val.de for split 'val'");
  EXPECT_EQ(nmt::testing::error_of([&] { data::split_path(d, "dev", "de"); }),
            "unknown split 'dev' (expected train, val or test)");
}

}  // namespace
}  // namespace nmt::text
