// sacreBLEU-compatible BLEU (src/eval/bleu.h) and `nmt bleu`.
//
// Expected numbers come from two places:
//  * ported from sacreBLEU's own test suite (test/test_bleu.py, test/test_sentence_bleu.py),
//    with that suite's tolerances;
//  * computed with sacreBLEU 2.x itself (its Tokenizer13a, str.lower() and BLEU.corpus_score),
//    for the 13a tokenizer cases (sacreBLEU has no unit tests for it), degenerate corpora with the
//    default 'exp' smoothing, and real Multi30k sentences; those are compared to full precision.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "eval/bleu.h"

namespace {

using nmt::eval::BleuOptions;
using nmt::eval::BleuStats;
using nmt::eval::compute_bleu;
using nmt::eval::corpus_bleu;
using nmt::eval::Smooth;
using Streams = std::vector<std::vector<std::string>>;

constexpr double kEps = 1e-8;  // sacreBLEU test_bleu.py's EPSILON

// ---------------------------------------------------------------------------------------------
// 13a tokenizer: outputs of sacreBLEU's Tokenizer13a on the same inputs.

TEST(BleuTokenizer13a, MatchesSacreBleu) {
  const std::pair<std::string, std::string> cases[] = {
      {"The dog bit the man.", "The dog bit the man ."},
      {"It wasn't surprising.", "It wasn't surprising ."},
      {"Hello, world! (test) [x] {y} a/b", "Hello , world ! ( test ) [ x ] { y } a / b"},
      {"3.14, 1,000 and 5-6 and a-b - c", "3.14 , 1,000 and 5 - 6 and a-b - c"},
      {"&quot;quoted&quot; &amp;amp; &lt;tag&gt; AT&T", "\" quoted \" & amp ; < tag > AT & T"},
      {"<skipped>foo bar<skipped>", "foo bar"},
      {"line-\nbreak\nnext", "linebreak next"},
      {"a..b e.g., U.S.A. end.", "a . . b e . g . , U . S . A . end ."},
      {",start x,y 1.5. $5.00 100% #hash @user", ", start x , y 1.5 . $ 5.00 100 % # hash @ user"},
      {"under_score back`tick caret^ pipe| tilde~ quote\"s semi;colon: q? eq= lt< gt> amp& "
       "star* plus+",
       "under _ score back ` tick caret ^ pipe | tilde ~ quote \" s semi ; colon : q ? eq = lt < "
       "gt > amp & star * plus +"},
      {"Äpfel, Birnen… „Zitat“ — naïve café.", "Äpfel , Birnen… „Zitat“ — naïve café ."},
      {"  multiple   spaces\tand\ttabs  ", "multiple spaces and tabs"},
      {"a\u00a0b\u3000c", "a b c"},  // NBSP and ideographic space split, as in str.split()
      {"", ""},
      {"2-3-4 x-1 1-x 1.-2 .5 5. ,5 5,", "2 - 3 - 4 x-1 1 - x 1 . -2 . 5 5 . , 5 5 ,"},
      {"...", ". . ."},
      {"Mr.Smith,Jones.and 3.x x.3", "Mr . Smith , Jones . and 3 . x x . 3"},
      {"A lady in a red coat, holding a bluish hand bag likely of asian descent, jumping off the "
       "ground for a snapshot.",
       "A lady in a red coat , holding a bluish hand bag likely of asian descent , jumping off the "
       "ground for a snapshot ."},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(nmt::eval::tokenize_13a(in), want) << in;
}

// Python's str.lower(), which sacreBLEU -lc applies before tokenizing.
TEST(BleuLowercase, MatchesPythonStrLower) {
  const std::pair<std::string, std::string> cases[] = {
      {"The Cat SAT.", "the cat sat."},
      {"ÄÖÜ ẞ ß İstanbul", "äöü ß ß i\u0307stanbul"},
      {"ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ'Σ", "οδος οδος. σ ασ'ς"},  // final sigma
      {"ǅemal ǄA ǈ", "ǆemal ǆa ǉ"},                // titlecase digraphs
      {"\u2126 \u212A \u212B", "ω k å"},           // ohm, kelvin, angstrom signs
      {"ПРИВЕТ Мир", "привет мир"},
      {"𐐀𐐁 Ꭰ", "𐐨𐐩 ꭰ"},  // 4-byte Deseret, Cherokee
      {"ÀÉÎÕÜ Ÿ Ł Ő", "àéîõü ÿ ł ő"},
      {"A\xff\xc3Z", "a\xff\xc3z"},  // invalid UTF-8 bytes pass through
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(nmt::eval::lowercase_utf8(in), want) << in;
}

// ---------------------------------------------------------------------------------------------
// test_bleu.py

const std::vector<std::string> kHyps = {"The dog bit the man.", "It wasn't surprising.",
                                        "The man had just bitten him."};
const Streams kRefs = {
    {"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
    {"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
};

BleuOptions with_tokenize(bool tok13a) {
  BleuOptions o;
  o.tokenize_13a = tok13a;
  return o;
}

// test_corpus_bleu (the 'intl' tokenizer case is not ported: only 13a and none exist here).
TEST(BleuSacreTestBleu, CorpusBleu) {
  EXPECT_NEAR(corpus_bleu(kHyps, kRefs, {}).bleu, 48.530827, kEps);   // default settings
  EXPECT_NEAR(corpus_bleu({"", "", ""}, kRefs, {}).bleu, 0.0, kEps);  // empty hyps kept
  EXPECT_NEAR(corpus_bleu(kHyps, kRefs, with_tokenize(false)).bleu, 49.1919566, kEps);
  EXPECT_NEAR(corpus_bleu(kHyps, kRefs, with_tokenize(true)).bleu, 48.530827, kEps);
  BleuOptions none;
  none.smooth = Smooth::None;
  EXPECT_NEAR(corpus_bleu(kHyps, kRefs, none).bleu, 48.530827, kEps);

  // The full statistics of the default case, as sacreBLEU reports them.
  const BleuStats s = corpus_bleu(kHyps, kRefs, {});
  EXPECT_DOUBLE_EQ(s.bleu, 48.530827009929865);
  EXPECT_EQ(s.matches, (std::vector<long>{14, 7, 5, 3}));
  EXPECT_EQ(s.totals, (std::vector<long>{17, 14, 11, 8}));
  EXPECT_EQ(s.sys_len, 17);
  EXPECT_EQ(s.ref_len, 18);
  EXPECT_DOUBLE_EQ(s.precisions[0], 82.3529411764706);
  EXPECT_DOUBLE_EQ(s.precisions[1], 50.0);
  EXPECT_DOUBLE_EQ(s.precisions[2], 45.45454545454545);
  EXPECT_DOUBLE_EQ(s.precisions[3], 37.5);
  EXPECT_NEAR(s.bp, 0.943, 5e-4);
  EXPECT_NEAR(s.ratio, 17.0 / 18.0, 1e-15);
}

// sacrebleu.raw_corpus_bleu: tokenize='none', smooth 'floor', effective order on.
BleuStats raw_corpus_bleu(const std::vector<std::string>& hyps, const Streams& refs,
                          double floor = 0.1) {
  BleuOptions o;
  o.tokenize_13a = false;
  o.smooth = Smooth::Floor;
  o.smooth_value = floor;
  o.effective_order = true;
  return corpus_bleu(hyps, refs, o);
}

// test_raw_bleu
TEST(BleuSacreTestBleu, RawBleu) {
  EXPECT_NEAR(raw_corpus_bleu({"this is a test", "another test"}, {{"ref1", "ref2"}}, .01).bleu,
              0.0, kEps);
  EXPECT_NEAR(raw_corpus_bleu({"this is a test"}, {{"this is a test"}}, .01).bleu / 100, 1.0, kEps);
  EXPECT_NEAR(raw_corpus_bleu({"this is a fest"}, {{"this is a test"}}, .01).bleu / 100,
              0.223606797749979, kEps);
}

// test_effective_order
TEST(BleuSacreTestBleu, EffectiveOrder) {
  EXPECT_NEAR(raw_corpus_bleu({"test"}, {{"a test"}}, .01).bleu / 100, 0.3678794411714425, kEps);
  EXPECT_NEAR(raw_corpus_bleu({"a test"}, {{"a test"}}, .01).bleu / 100, 1.0, kEps);
  EXPECT_NEAR(raw_corpus_bleu({"a little test"}, {{"a test"}}, .01).bleu / 100, 0.03218297948685433,
              kEps);
}

// test_statistics
TEST(BleuSacreTestBleu, Statistics) {
  const BleuStats s = raw_corpus_bleu({"am I am a character sequence"},
                                      {{"I am a symbol string sequence a a"}}, .01);
  EXPECT_EQ(s.matches, (std::vector<long>{4, 2, 1, 0}));
  EXPECT_EQ(s.totals, (std::vector<long>{6, 5, 4, 3}));
}

// test_scoring: BLEU.compute_bleu with its default smooth_method='none'.
TEST(BleuSacreTestBleu, Scoring) {
  BleuOptions none;
  none.smooth = Smooth::None;
  EXPECT_NEAR(compute_bleu({9, 7, 5, 3}, {10, 8, 6, 4}, 11, 11, none).bleu / 100, 0.8375922397,
              kEps);
}

// test_offset
TEST(BleuSacreTestBleu, Offset) {
  const std::vector<std::string> hyp = {"am I am a character sequence"};
  const Streams ref = {{"I am a symbol string sequence a a"}};
  EXPECT_NEAR(raw_corpus_bleu(hyp, ref, 0.0).bleu / 100, 0.0, kEps);
  EXPECT_NEAR(raw_corpus_bleu(hyp, ref, -1).bleu / 100, 0.1555722182, kEps);  // default 0.1
  EXPECT_NEAR(raw_corpus_bleu(hyp, ref).bleu / 100, 0.1555722182, kEps);
}

// test_degenerate_statistics: compute_bleu with 'floor' smoothing; exactly 0.
TEST(BleuSacreTestBleu, DegenerateStatistics) {
  struct Case {
    std::vector<long> matches, totals;
    long sys_len, ref_len;
    double offset;
  };
  const Case cases[] = {
      {{0, 0, 0, 0}, {4, 4, 2, 1}, 0, 1, 0.0}, {{0, 0, 0, 0}, {10, 11, 12, 0}, 14, 10, 0.0},
      {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.0}, {{6, 5, 4, 0}, {6, 5, 4, 3}, 6, 6, 0.0},
      {{0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0.1}, {{0, 0, 0, 0}, {0, 0, 0, 0}, 1, 5, 0.01},
  };
  for (const Case& c : cases) {
    BleuOptions o;
    o.smooth = Smooth::Floor;
    o.smooth_value = c.offset;
    EXPECT_EQ(compute_bleu(c.matches, c.totals, c.sys_len, c.ref_len, o).bleu, 0.0);
  }
}

// test_max_ngram_order
TEST(BleuSacreTestBleu, MaxNgramOrder) {
  const char* expected[] = {"77.65", "60.50", "53.93", "48.53", "46.14", "43.28"};
  for (int order = 1; order <= 6; ++order) {
    BleuOptions o;
    o.max_order = order;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", corpus_bleu(kHyps, kRefs, o).bleu);
    EXPECT_EQ(std::string(buf), expected[order - 1]) << "order " << order;
  }
}

// ---------------------------------------------------------------------------------------------
// test_sentence_bleu.py: one segment, effective order on (sentence_bleu's default).

TEST(BleuSacreTestSentenceBleu, SmoothingMethods) {
  const std::vector<std::string> sys = {
      "Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;"};
  const Streams ref = {{"producţia de zahăr brut se exprimă în zahăr alb;"}};
  struct Case {
    Smooth smooth;
    double value;
    bool tok13a;
    double expected;
  };
  const Case cases[] = {
      {Smooth::Exp, -1, true, 8.493},     {Smooth::None, -1, true, 0.0},
      {Smooth::Floor, -1, true, 4.51688}, {Smooth::Floor, 0.1, true, 4.51688},
      {Smooth::Floor, 0.5, true, 10.10},  {Smooth::AddK, -1, true, 14.882},
      {Smooth::AddK, 1, true, 14.882},    {Smooth::AddK, 2, true, 21.389},
      {Smooth::Exp, -1, false, 7.347},
  };
  for (const Case& c : cases) {
    BleuOptions o;
    o.smooth = c.smooth;
    o.smooth_value = c.value;
    o.tokenize_13a = c.tok13a;
    o.effective_order = true;
    EXPECT_NEAR(corpus_bleu(sys, ref, o).bleu, c.expected, 1e-3)
        << static_cast<int>(c.smooth) << " " << c.value;
  }
}

TEST(BleuSacreTestSentenceBleu, ZeroBleu) {  // sacreBLEU #141: no match at all scores 0
  for (Smooth sm : {Smooth::Exp, Smooth::None, Smooth::Floor, Smooth::AddK}) {
    BleuOptions o;
    o.smooth = sm;
    o.effective_order = true;
    EXPECT_EQ(corpus_bleu({"this is a cat"}, Streams{{"okay thanks"}}, o).bleu, 0.0);
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults (corpus_bleu(hyps, [refs])) on degenerate corpora, against sacreBLEU.

TEST(BleuDefaults, ExpSmoothing) {
  // One zero order: the first gets 1 / (2 · total).
  BleuStats s = corpus_bleu({"this is a fest"}, {"this is a test"});
  EXPECT_DOUBLE_EQ(s.bleu, 59.460355750136046);
  EXPECT_EQ(s.precisions, (std::vector<double>{75.0, 200.0 / 3, 50.0, 50.0}));

  s = corpus_bleu({"the cat sat on the mat"}, {"the cat sat in the mat"});
  EXPECT_DOUBLE_EQ(s.bleu, 37.99178428257963);
  EXPECT_DOUBLE_EQ(s.precisions[3], 16.666666666666668);  // 100 / (2 · 3)

  // Three zero orders: 1/(2·4), 1/(4·3), 1/(8·2).
  s = corpus_bleu({"a b c d e"}, {"a x b y c"});
  EXPECT_DOUBLE_EQ(s.bleu, 14.058533129758727);
  EXPECT_EQ(s.precisions, (std::vector<double>{60.0, 12.5, 100.0 / 12, 6.25}));

  s = corpus_bleu({"the the the the the the the"}, {"the cat is on the mat"});  // clipping
  EXPECT_DOUBLE_EQ(s.bleu, 7.809849842300637);
  EXPECT_EQ(s.matches, (std::vector<long>{2, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(s.ratio, 7.0 / 6.0);
}

TEST(BleuDefaults, DegenerateCorpora) {
  // Empty hypothesis: no n-grams, bp 0.
  BleuStats s = corpus_bleu({""}, {"a b c"});
  EXPECT_EQ(s.bleu, 0.0);
  EXPECT_EQ(s.bp, 0.0);
  EXPECT_EQ(s.sys_len, 0);
  EXPECT_EQ(s.ref_len, 3);
  EXPECT_EQ(s.precisions, (std::vector<double>(4, 0.0)));

  // Empty reference: nothing matches; ratio 0 (ref_len 0), bp 1.
  s = corpus_bleu({"a b c"}, {""});
  EXPECT_EQ(s.bleu, 0.0);
  EXPECT_EQ(s.bp, 1.0);
  EXPECT_EQ(s.ratio, 0.0);
  EXPECT_EQ(s.totals, (std::vector<long>{3, 2, 1, 0}));

  s = corpus_bleu({"", ""}, {"", ""});
  EXPECT_EQ(s.bleu, 0.0);
  EXPECT_EQ(s.bp, 1.0);

  // Matches, but no 3-grams in the whole corpus: sacreBLEU stops at the empty order and the
  // log of its 0 precision zeroes the score.
  s = corpus_bleu({"the cat"}, {"the cat sat"});
  EXPECT_EQ(s.bleu, 0.0);
  // Element by element: GCC 12.2 with -march=native (AVX-512) miscompiles the constant
  // std::vector<double>{100.0, 100.0, 0.0, 0.0} into four 100.0s (half-broadcast, half-zero).
  ASSERT_EQ(s.precisions.size(), 4u);
  EXPECT_EQ(s.precisions[0], 100.0);
  EXPECT_EQ(s.precisions[1], 100.0);
  EXPECT_EQ(s.precisions[2], 0.0);
  EXPECT_EQ(s.precisions[3], 0.0);
  EXPECT_DOUBLE_EQ(s.bp, 0.6065306597126334);

  s = corpus_bleu({}, std::vector<std::string>{});
  EXPECT_EQ(s.bleu, 0.0);
}

TEST(BleuDefaults, Lowercase) {
  const std::vector<std::string> hyp = {"The Cat sat ON the mat."};
  const std::vector<std::string> ref = {"the cat sat on the mat."};
  EXPECT_DOUBLE_EQ(corpus_bleu(hyp, ref).bleu, 26.269098944241588);
  EXPECT_DOUBLE_EQ(corpus_bleu(hyp, ref, /*lowercase=*/true).bleu, 100.00000000000004);
}

TEST(BleuDefaults, CountMismatchThrows) {
  EXPECT_THROW(corpus_bleu({"a", "b"}, {"a"}), nmt::Error);
  EXPECT_THROW(corpus_bleu({"a"}, Streams{{"a"}, {}}, {}), nmt::Error);
}

// ---------------------------------------------------------------------------------------------
// Real Multi30k sentences: the first 8 lines of val.en and hand-written paraphrases.

const std::vector<std::string> kM30kRefs = {
    "A group of men are loading cotton onto a truck",
    "A man sleeping in a green room on a couch.",
    "A boy wearing headphones sits on a woman's shoulders.",
    "Two men setting up a blue ice fishing hut on an iced over lake",
    "A balding man wearing a red life jacket is sitting in a small boat.",
    "A lady in a red coat, holding a bluish hand bag likely of asian descent, jumping off the "
    "ground for a snapshot.",
    "A brown dog is running after the black dog.",
    "A young boy wearing a Giants jersey swings a baseball bat at an incoming pitch.",
};
const std::vector<std::string> kM30kHyps = {
    "A group of men loading cotton onto a truck.",
    "A man sleeps in a green room on a sofa.",
    "A boy with headphones sits on the shoulders of a woman.",
    "Two men set up a blue ice fishing hut on a frozen lake",
    "A bald man in a red life jacket sits in a small boat.",
    "A woman in a red coat jumps off the ground for a photo.",
    "A brown dog runs after the black dog.",
    "A young boy in a giants jersey swings a bat at a pitch.",
};

TEST(BleuMulti30k, CasedAndLowercased) {
  BleuStats s = corpus_bleu(kM30kHyps, kM30kRefs);
  EXPECT_DOUBLE_EQ(s.bleu, 39.00822314021996);
  EXPECT_EQ(s.matches, (std::vector<long>{77, 49, 31, 18}));
  EXPECT_EQ(s.totals, (std::vector<long>{97, 89, 81, 73}));
  EXPECT_EQ(s.sys_len, 97);
  EXPECT_EQ(s.ref_len, 111);
  EXPECT_DOUBLE_EQ(s.bp, 0.8656021414820771);
  EXPECT_DOUBLE_EQ(s.ratio, 0.8738738738738738);

  s = corpus_bleu(kM30kHyps, kM30kRefs, /*lowercase=*/true);
  EXPECT_DOUBLE_EQ(s.bleu, 41.22190858018725);
  EXPECT_EQ(s.matches, (std::vector<long>{78, 51, 33, 20}));
}

// bleu_tok: already-tokenized lowercased text, tokenize='none'. These are the 13a tokens of the
// lowercased sentences, so the score equals the -lc one.
TEST(BleuMulti30k, PreTokenized) {
  std::vector<std::string> hyps, refs;
  for (const auto& h : kM30kHyps)
    hyps.push_back(nmt::eval::tokenize_13a(nmt::eval::lowercase_utf8(h)));
  for (const auto& r : kM30kRefs)
    refs.push_back(nmt::eval::tokenize_13a(nmt::eval::lowercase_utf8(r)));
  EXPECT_EQ(hyps[0], "a group of men loading cotton onto a truck .");
  EXPECT_EQ(refs[2], "a boy wearing headphones sits on a woman's shoulders .");
  const BleuStats s = corpus_bleu(hyps, refs, /*lowercase=*/false, /*tokenize_13a=*/false);
  EXPECT_DOUBLE_EQ(s.bleu, 41.22190858018725);
  EXPECT_EQ(s.sys_len, 97);
}

TEST(BleuJson, Fields) {
  const auto j = nlohmann::json::parse(nmt::eval::bleu_json(corpus_bleu(kM30kHyps, kM30kRefs)));
  EXPECT_DOUBLE_EQ(j.at("bleu").get<double>(), 39.00822314021996);
  ASSERT_EQ(j.at("precisions").size(), 4u);
  EXPECT_DOUBLE_EQ(j.at("precisions")[3].get<double>(), 100.0 * 18 / 73);
  EXPECT_DOUBLE_EQ(j.at("bp").get<double>(), 0.8656021414820771);
  EXPECT_DOUBLE_EQ(j.at("ratio").get<double>(), 0.8738738738738738);
  EXPECT_EQ(j.at("sys_len").get<long>(), 97);
  EXPECT_EQ(j.at("ref_len").get<long>(), 111);
}

// ---------------------------------------------------------------------------------------------
// `nmt bleu` end to end.

struct RunResult {
  int status;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class BleuCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nmt_bleu_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<std::string>& lines) {
    const auto p = dir_ / name;
    std::ofstream f(p);
    for (const auto& l : lines) f << l << '\n';
    return p.string();
  }

  RunResult run(const std::string& args) {
    const auto out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = std::string("'") + NMT_BINARY + "' bleu " + args + " >'" +
                            out.string() + "' 2>'" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  }

  std::filesystem::path dir_;
};

TEST_F(BleuCli, PrintsJsonLine) {
  const auto hyp = write("hyp.txt", kM30kHyps), ref = write("ref.txt", kM30kRefs);
  RunResult r = run(hyp + " " + ref);
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1);  // exactly one line
  auto j = nlohmann::json::parse(r.out);
  EXPECT_DOUBLE_EQ(j.at("bleu").get<double>(), 39.00822314021996);
  EXPECT_EQ(j.at("precisions").size(), 4u);
  EXPECT_DOUBLE_EQ(j.at("bp").get<double>(), 0.8656021414820771);
  EXPECT_EQ(j.at("sys_len").get<long>(), 97);
  EXPECT_EQ(j.at("ref_len").get<long>(), 111);

  r = run(hyp + " " + ref + " --lowercase");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out).at("bleu").get<double>(), 41.22190858018725);
}

TEST_F(BleuCli, ReadsGzipAndCrlf) {
  // The bundled val.en.gz against itself, and a CRLF copy of the hypotheses (rstrip'ed).
  const std::string val = std::string(NMT_SOURCE_DIR) + "/data/multi30k/val.en.gz";
  RunResult r = run("'" + val + "' '" + val + "'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out).at("bleu").get<double>(), 100.0, 1e-9);

  std::vector<std::string> crlf;
  for (const auto& h : kM30kHyps) crlf.push_back(h + "\r");
  r = run(write("crlf.txt", crlf) + " " + write("ref.txt", kM30kRefs));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out).at("bleu").get<double>(), 39.00822314021996);
}

TEST_F(BleuCli, MissingFileFails) {
  const auto ref = write("ref.txt", kM30kRefs);
  const std::string missing = (dir_ / "missing.txt").string();
  RunResult r = run("'" + missing + "' " + ref);
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(missing + ": cannot open"), std::string::npos) << r.err;

  r = run(ref + " '" + missing + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos) << r.err;
}

TEST_F(BleuCli, LineCountMismatchFails) {
  const auto hyp = write("hyp.txt", {"a b c"}), ref = write("ref.txt", {"a b c", "d e f"});
  RunResult r = run(hyp + " " + ref);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("lines"), std::string::npos) << r.err;
  EXPECT_NE(run(hyp).status, 0);  // REF is required
}

}  // namespace
