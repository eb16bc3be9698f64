// Training on one's own corpus through the CLI: any language pair and direction, files named
// directly, SentencePiece in the run directory, cased output, nmt average, and clear errors
// for files, languages and vocabularies that do not fit.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "common/rng.h"
#include "model/checkpoint.h"
#include "test_util.h"

using namespace nmt;
using namespace nmt::testing;
using nlohmann::json;

namespace {

std::string nmt_cmd(const std::string& args) { return "'" + nmt_binary() + "' " + args; }

CmdResult run_ok(const std::string& args) {
  SCOPED_TRACE(args);
  CmdResult r = run_shell(nmt_cmd(args));
  EXPECT_EQ(r.status, 0) << r.err;
  return r;
}

// One "nmt: error: ..." line naming every needle.
void expect_cli_error(const std::string& args, const std::vector<std::string>& needles) {
  SCOPED_TRACE(args);
  const CmdResult r = run_shell(nmt_cmd(args));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(split_lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("nmt: error: ", 0), 0u) << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << r.err << n;
}

void write_gz(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, text.data(), (unsigned)text.size());
  gzclose(f);
}

// A made-up language pair with a French-like source: words map one to one, with elisions,
// accents and a different order of adjective and noun, so a model has something to learn.
struct FakePair {
  std::string src, trg;
};
FakePair fake_corpus(int n, std::uint64_t seed) {
  const std::vector<std::pair<std::string, std::string>> nouns = {
      {"l'homme", "the man"},  {"la femme", "the woman"}, {"l'enfant", "the child"},
      {"le chien", "the dog"}, {"l'élève", "the pupil"},  {"le garçon", "the boy"}};
  const std::vector<std::pair<std::string, std::string>> verbs = {
      {"mange", "eats"}, {"voit", "sees"}, {"porte", "carries"}, {"aime", "loves"}};
  const std::vector<std::pair<std::string, std::string>> objs = {
      {"une pomme rouge", "a red apple"},
      {"un livre bleu", "a blue book"},
      {"une voiture verte", "a green car"},
      {"un café noir", "a black coffee"}};
  Rng rng(seed);
  FakePair p;
  for (int i = 0; i < n; ++i) {
    const auto& a = nouns[rng.below(nouns.size())];
    const auto& v = verbs[rng.below(verbs.size())];
    const auto& o = objs[rng.below(objs.size())];
    std::string s = a.first + " " + v.first + " " + o.first + ".";
    std::string t = a.second + " " + v.second + " " + o.second + ".";
    s[0] = (char)std::toupper(s[0]);
    t[0] = (char)std::toupper(t[0]);
    p.src += s + "\n";
    p.trg += t + "\n";
  }
  return p;
}

const std::string kTiny = " --emb 16 --enc-hid 16 --dec-hid 16 --threads 1 --batch 16";

}  // namespace

TEST(OwnCorpus, ReversedDirectionWithSubwordsOnTheBundledData) {
  TempDir tmp;
  const std::string run = tmp / "ende";
  run_ok(
      "train --src-lang en --trg-lang de --tokenizer spm --vocab-size 600 --spm-sample 800 "
      "--train-limit 1000 --valid-limit 40 --max-steps 8 --out '" +
      run + "'" + kTiny);
  const json cfg = model::read_json_file(run + "/config.json");
  EXPECT_EQ(cfg["src_lang"], "en");
  EXPECT_EQ(cfg["trg_lang"], "de");
  EXPECT_EQ(cfg["tokenizer"], "spm");
  EXPECT_EQ(cfg["lowercase"], false);
  EXPECT_TRUE(fs::exists(run + "/" + cfg["spm_src"].get<std::string>()));
  EXPECT_TRUE(fs::exists(run + "/" + cfg["spm_trg"].get<std::string>()));
  EXPECT_EQ(cfg["src_vocab_size"], 600);
  // eval defaults to the bundled test2016 in the model's own direction (en -> de), cased BLEU.
  const auto ev = run_ok("eval --model '" + run + "' --max-len 20 --threads 1");
  const json j = json::parse(ev.out);
  EXPECT_EQ(j["sentences"], 1000);
  // The model translates and detokenizes (untrained: any text, but no SentencePiece marks).
  write_file(tmp / "in.txt", "A man.\n");
  const auto tr = run_ok("translate --model '" + run + "' --max-len 10 --threads 1 --input '" +
                         tmp / "in.txt" + "'");
  EXPECT_EQ(tr.out.find("\xE2\x96\x81"), std::string::npos) << tr.out;
  // Resume continues with the run's tokenizer files untouched.
  const std::string before = read_file(run + "/" + cfg["spm_src"].get<std::string>());
  run_ok("train --out '" + run + "' --resume --max-steps 10 --threads 1");
  EXPECT_EQ(read_file(run + "/" + cfg["spm_src"].get<std::string>()), before);
  // --tokenizer cannot change mid-run.
  expect_cli_error("train --out '" + run + "' --resume --tokenizer word", {"--tokenizer"});
}

TEST(OwnCorpus, FrenchLikePairFromADirectoryAndFromFiles) {
  TempDir tmp;
  const std::string data = tmp / "data";
  fs::create_directories(data);
  const auto train = fake_corpus(400, 1), valid = fake_corpus(30, 2);
  write_gz(data + "/train.fr.gz", train.src);  // gzip and plain mixed
  write_file(data + "/train.en", train.trg);
  write_file(data + "/val.fr", valid.src);
  write_file(data + "/val.en", valid.trg);
  // Word codec, cased, neutral rules for fr.
  const std::string run = tmp / "fren";
  run_ok("train --data '" + data +
         "' --src-lang fr --trg-lang en --no-lowercase --epochs 12 "
         "--teacher-forcing 1 --dropout 0 --lr 0.01 --out '" +
         run + "'" + kTiny);
  EXPECT_EQ(model::read_json_file(run + "/config.json")["src_lang"], "fr");
  const auto vocab = read_file(run + "/vocab.src.txt");
  EXPECT_NE(vocab.find("\nL'homme\n"), std::string::npos) << "cased; elisions stay whole for fr";
  // It has learnt the pairs: cased, detokenized English out.
  write_file(tmp / "test.fr", "La femme voit un livre bleu.\n");
  write_file(tmp / "test.en", "The woman sees a blue book.\n");
  const auto tr =
      run_ok("translate --model '" + run + "' --threads 1 --input '" + tmp / "test.fr" + "'");
  EXPECT_EQ(tr.out, "The woman sees a blue book.\n");
  const json ev = json::parse(run_ok("eval --model '" + run + "' --src '" + tmp / "test.fr" +
                                     "' --ref '" + tmp / "test.en" + "' --threads 1")
                                  .out);
  EXPECT_NEAR(ev["bleu"].get<double>(), 100.0, 1e-9);
  // No bundled test set for fr: a clear error.
  expect_cli_error("eval --model '" + run + "' --threads 1", {"'fr'", "--src"});
  // The same files named directly, SentencePiece with BPE and separate vocabularies.
  const std::string run2 = tmp / "files";
  run_ok("train --train-src '" + data + "/train.fr.gz' --train-trg '" + data +
         "/train.en' --valid-src '" + data + "/val.fr' --valid-trg '" + data +
         "/val.en' --src-lang fr --tokenizer spm --spm-type bpe --vocab-size 300 --max-steps 3 "
         "--out '" +
         run2 + "'" + kTiny);
  const json cfg2 = model::read_json_file(run2 + "/config.json");
  EXPECT_EQ(cfg2["spm_src"], "spm.fr.model");
  EXPECT_EQ(cfg2["spm_trg"], "spm.en.model");
}

TEST(OwnCorpus, ClearErrorsForFilesLanguagesAndVocabularies) {
  TempDir tmp;
  const std::string bundled = repo_path("data/multi30k");
  // A language without files names the file it looked for.
  expect_cli_error("train --src-lang cs --out '" + tmp / "a" + "'" + kTiny, {"train.cs"});
  expect_cli_error("train --src-lang en --trg-lang en --out '" + tmp / "a" + "'" + kTiny,
                   {"both 'en'"});
  expect_cli_error("train --train-src '" + tmp / "none.txt" + "' --out '" + tmp / "a" + "'" + kTiny,
                   {"none.txt"});
  // An empty training file.
  write_file(tmp / "empty.de", "");
  write_file(tmp / "empty.en", "");
  expect_cli_error("train --train-src '" + tmp / "empty.de" + "' --train-trg '" + tmp / "empty.en" +
                       "' --out '" + tmp / "b" + "'" + kTiny,
                   {"empty.de", "no training pairs"});
  // Misaligned files.
  write_file(tmp / "two.de", "a\nb\n");
  write_file(tmp / "one.en", "a\n");
  expect_cli_error("train --train-src '" + tmp / "two.de" + "' --train-trg '" + tmp / "one.en" +
                       "' --out '" + tmp / "c" + "'" + kTiny,
                   {"two.de", "one.en"});
  // A vocabulary the data cannot support.
  expect_cli_error(
      "train --tokenizer spm --vocab-size 30000 --train-limit 50 --out '" + tmp / "d" + "'" + kTiny,
      {"--vocab-size"});
  // Options out of range and unknown presets.
  expect_cli_error("train --preset huge --out '" + tmp / "e" + "'", {"preset 'huge'", "strong"});
  expect_cli_error("train --label-smoothing 1 --out '" + tmp / "e" + "'", {"--label-smoothing"});
  expect_cli_error("train --select-by wer --out '" + tmp / "e" + "'", {"--select-by"});
  expect_cli_error("train --tokenizer spm --lowercase --out '" + tmp / "e" + "'", {"cased"});
  expect_cli_error("eval --model '" + repo_path("tests/golden/tiny_ckpt") + "' --src x", {"--ref"});
  (void)bundled;
}

TEST(OwnCorpus, AverageIsTheMeanOfTheWeights) {
  TempDir tmp;
  const std::string run = tmp / "r";
  run_ok("train --train-limit 200 --valid-limit 20 --epochs 2 --keep-epochs --out '" + run + "'" +
         kTiny);
  const std::string avg = tmp / "avg";
  run_ok("average '" + run + "/epochs/1' '" + run + "/epochs/2' --out '" + avg + "'");
  const auto a = model::load_model(run + "/epochs/1"), b = model::load_model(run + "/epochs/2"),
             m = model::load_model(avg);
  ASSERT_EQ(m.params.size(), a.params.size());
  int bad = 0;
  for (std::size_t i = 0; i < m.params.size(); ++i)
    bad += m.params.data()[i] != (float)(((double)a.params.data()[i] + b.params.data()[i]) / 2);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(read_file(avg + "/vocab.trg.txt"), read_file(run + "/vocab.trg.txt"));
  write_file(tmp / "in.txt", "Ein Hund.\n");
  run_ok("translate --model '" + avg + "' --threads 1 --input '" + tmp / "in.txt" + "'");
  // Refusals: one model, an existing output, models of different runs.
  expect_cli_error("average '" + run + "/epochs/1' --out '" + tmp / "x" + "'", {"two"});
  expect_cli_error("average '" + run + "/epochs/1' '" + run + "/epochs/2' --out '" + avg + "'",
                   {"already"});
  const std::string other = tmp / "o";
  run_ok("train --train-limit 100 --valid-limit 20 --max-steps 1 --out '" + other + "'" + kTiny);
  expect_cli_error("average '" + run + "/epochs/1' '" + other + "' --out '" + tmp / "y" + "'",
                   {"vocabularies differ"});
}
