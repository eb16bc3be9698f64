// The `nmt` command line on bad input (design §5): a non-zero exit and exactly one stderr line
// "nmt: error: ..." naming the problem; plus line alignment of `nmt translate`.
#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>

#include "test_util.h"

using namespace nmt::testing;

namespace {

std::string nmt_cmd(const std::string& args) { return "'" + nmt_binary() + "' " + args; }

std::string tiny_ckpt() { return repo_path("tests/golden/tiny_ckpt"); }

// Runs the command and checks the error contract; returns the result for further checks.
CmdResult expect_cli_error(const std::string& cmd, const std::vector<std::string>& needles) {
  SCOPED_TRACE(cmd);
  CmdResult r = run_shell(cmd);
  EXPECT_EQ(r.status, 1) << "stderr: " << r.err;
  const auto lines = split_lines(r.err);
  EXPECT_EQ(lines.size(), 1u) << "stderr should be one line:\n" << r.err;
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << "stderr line should end with a newline";
  const std::string first = lines.empty() ? "" : lines[0];
  EXPECT_EQ(first.rfind("nmt: error: ", 0), 0u) << first;
  for (const auto& n : needles)
    EXPECT_NE(first.find(n), std::string::npos)
        << "'" << first << "' does not mention '" << n << "'";
  return r;
}

// A data directory with train/val files of the given contents.
void write_corpus(const std::string& dir, const std::string& train_de, const std::string& train_en,
                  const std::string& val_de = "ein hund .\n",
                  const std::string& val_en = "a dog .\n") {
  fs::create_directories(dir);
  write_file(dir + "/train.de", train_de);
  write_file(dir + "/train.en", train_en);
  write_file(dir + "/val.de", val_de);
  write_file(dir + "/val.en", val_en);
}

}  // namespace

TEST(CliErrors, TrainWithMissingDataDirectory) {
  TempDir tmp;
  expect_cli_error(
      nmt_cmd("train --data /nonexistent --out '" + (tmp / "T") + "' --epochs 1 --threads 1"),
      {"/nonexistent"});
}

TEST(CliErrors, TrainWithMisalignedCorpora) {
  TempDir tmp;
  const std::string data = tmp / "data";
  write_corpus(data, "ein mann .\nzwei frauen .\ndrei kinder .\n", "a man .\ntwo women .\n");
  expect_cli_error(
      nmt_cmd("train --data '" + data + "' --out '" + (tmp / "T") + "' --epochs 1 --threads 1"),
      {"train.de", "train.en", "3", "2"});
  // Misaligned validation files too.
  write_corpus(data, "ein mann .\n", "a man .\n", "ein hund .\nzwei hunde .\n", "a dog .\n");
  expect_cli_error(
      nmt_cmd("train --data '" + data + "' --out '" + (tmp / "T2") + "' --epochs 1 --threads 1"),
      {"val.de", "val.en"});
}

TEST(CliErrors, TrainWithInvalidUtf8InTheCorpus) {
  TempDir tmp;
  const std::string data = tmp / "data";
  write_corpus(data, "ein mann .\nkaputt \xff\xfe text\n", "a man .\nbroken text\n");
  expect_cli_error(
      nmt_cmd("train --data '" + data + "' --out '" + (tmp / "T") + "' --epochs 1 --threads 1"),
      {"train.de:2", "UTF-8"});
  // A truncated multi-byte sequence at the end of a line of the target side.
  write_corpus(data, "ein mann .\n", "a man \xc3\n");
  expect_cli_error(
      nmt_cmd("train --data '" + data + "' --out '" + (tmp / "T2") + "' --epochs 1 --threads 1"),
      {"train.en:1", "UTF-8"});
}

TEST(CliErrors, TranslateWithMissingModel) {
  expect_cli_error("echo 'ein mann' | " + nmt_cmd("translate --model /nonexistent"),
                   {"/nonexistent"});
}

TEST(CliErrors, TranslateWithInvalidUtf8OnStdin) {
  // Line 2 is invalid; line 1 is still translated (and flushed) before the error.
  const auto r =
      expect_cli_error("printf 'ein mann\\n\\303\\050 kaputt\\nzwei\\n' | " +
                           nmt_cmd("translate --model '" + tiny_ckpt() + "' --max-len 5"),
                       {"<stdin>:2", "UTF-8"});
  EXPECT_EQ(split_lines(r.out).size(), 1u) << r.out;
}

TEST(CliErrors, TranslateWithBadOptions) {
  expect_cli_error("echo a | " + nmt_cmd("translate --model '" + tiny_ckpt() + "' --beam 0"),
                   {"--beam"});
  expect_cli_error("echo a | " + nmt_cmd("translate --model '" + tiny_ckpt() + "' --batch 0"),
                   {"--batch"});
  expect_cli_error(nmt_cmd("translate --model '" + tiny_ckpt() + "' --input /nonexistent/in.txt"),
                   {"/nonexistent/in.txt"});
}

TEST(CliErrors, EvalWithTruncatedModel) {
  TempDir tmp;
  const std::string dir = tmp / "ckpt";
  fs::copy(tiny_ckpt(), dir, fs::copy_options::recursive);
  const std::string st = dir + "/model.safetensors";
  fs::resize_file(st, fs::file_size(st) / 2);
  write_file(tmp / "src.de", "ein mann .\n");
  write_file(tmp / "ref.en", "a man .\n");
  expect_cli_error(nmt_cmd("eval --model '" + dir + "' --src '" + (tmp / "src.de") + "' --ref '" +
                           (tmp / "ref.en") + "'"),
                   {"model.safetensors"});
  // And with a missing reference file next to a good model.
  expect_cli_error(nmt_cmd("eval --model '" + tiny_ckpt() + "' --src '" + (tmp / "src.de") +
                           "' --ref '" + (tmp / "missing.en") + "'"),
                   {"missing.en"});
}

TEST(CliErrors, BleuWithMissingFile) {
  TempDir tmp;
  write_file(tmp / "ref.txt", "a man .\n");
  expect_cli_error(nmt_cmd("bleu '" + (tmp / "nope.txt") + "' '" + (tmp / "ref.txt") + "'"),
                   {"nope.txt"});
  expect_cli_error(nmt_cmd("bleu '" + (tmp / "ref.txt") + "' '" + (tmp / "nope.txt") + "'"),
                   {"nope.txt"});
}

TEST(CliErrors, TranslateKeepsLineAlignment) {
  const auto r =
      run_shell("printf 'a\\n\\nb\\n' | " + nmt_cmd("translate --model '" + tiny_ckpt() + "'"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_TRUE(!r.out.empty() && r.out.back() == '\n');
  EXPECT_EQ(lines[1], "");
  // The same lines translated one at a time give the same outputs.
  for (int i : {0, 2}) {
    const auto one = run_shell("printf '" + std::string(i == 0 ? "a" : "b") + "\\n' | " +
                               nmt_cmd("translate --model '" + tiny_ckpt() + "'"));
    EXPECT_EQ(one.out, lines[i] + "\n");
  }
  // Whitespace-only lines and a last line without '\n' keep their places too.
  const auto r2 = run_shell("printf '  \\na\\n\\t\\nb' | " +
                            nmt_cmd("translate --model '" + tiny_ckpt() + "' --beam 3"));
  EXPECT_EQ(r2.status, 0) << r2.err;
  const auto l2 = split_lines(r2.out);
  ASSERT_EQ(l2.size(), 4u) << r2.out;
  EXPECT_EQ(l2[0], "");
  EXPECT_EQ(l2[2], "");
}

// One precision type, resolved before any work: an explicit bf16 on a CPU without bf16 GEMMs
// (NMT_CPU=generic stands for one) is refused before anything is read or written; int8 is not a
// training precision; nmt bench checks its training precisions the same way.
TEST(CliErrors, PrecisionRefusedBeforeAnyWork) {
  TempDir tmp;
  expect_cli_error("NMT_CPU=generic " + nmt_cmd("train --precision bf16 --epochs 1 --threads 1 "
                                                "--out '" + tmp / "run" + "'"),
                   {"--precision bf16", "AVX512-BF16"});
  EXPECT_FALSE(std::filesystem::exists(tmp / "run")) << "the run directory was created";
  expect_cli_error(nmt_cmd("train --precision int8 --out '" + tmp / "run2" + "'"),
                   {"--precision int8", "decoding"});
  EXPECT_FALSE(std::filesystem::exists(tmp / "run2"));
  expect_cli_error(nmt_cmd("train --precision fp16 --out '" + tmp / "run3" + "'"),
                   {"--precision", "fp16"});
  expect_cli_error(nmt_cmd("bench --train-precision fp16 --no-translate"), {"fp16"});
  expect_cli_error("NMT_CPU=generic " + nmt_cmd("bench --train-precision bf16 --no-translate"),
                   {"--precision bf16"});
  expect_cli_error(nmt_cmd("bench --train-precision int8 --no-translate"), {"decoding"});
  expect_cli_error("echo a | " + nmt_cmd("translate --model '" + tiny_ckpt() + "' --precision fp8"),
                   {"--precision", "fp8", "auto"});
}

// The decoding option table: a bad value gets the same message from every command (and from the
// server: tests/test_serve.cpp), only the option's spelling differs.
TEST(CliErrors, ABadDecodingOptionGetsTheSameMessageFromEveryCommand) {
  for (const auto& [flag, value, message] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--beam", "0", "--beam must be an integer in [1, 64] (got 0)"},
           {"--max-len", "0", "--max-len must be an integer in [1, 1000] (got 0)"},
           {"--length-penalty", "-1", "--length-penalty must be a number in [0, 5] (got -1)"}}) {
    for (const std::string cmd : {"translate", "eval", "attention"}) {
      const std::string args = cmd + " --model '" + tiny_ckpt() + "' " + flag + " " + value +
                               (cmd == "attention" ? " 'ein hund' --format txt" : "");
      expect_cli_error("echo a | " + nmt_cmd(args), {message});
    }
  }
}

// nmt translate --format: a line of several sentences is split and rejoined (lines, the
// default); paragraphs keep their blank lines and indentation (text); --no-split as before.
TEST(CliErrors, TranslateFormats) {
  const std::string tr = nmt_cmd("translate --model '" + tiny_ckpt() + "' --max-len 2");
  auto out = [&](const std::string& input, const std::string& args) {
    const auto r = run_shell("printf '" + input + "' | " + tr + " " + args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  };
  const std::string a = out("Ein Mann.\\n", ""), b = out("Ein Hund.\\n", "");
  const std::string one = a.substr(0, a.size() - 1), two = b.substr(0, b.size() - 1);
  EXPECT_EQ(out("Ein Mann.  Ein Hund.\\n", ""), one + "  " + two + "\n");
  EXPECT_EQ(out("Ein Mann.\\nEin Hund.\\n\\n   Ein Mann.\\n", "--format text"),
            one + "\n" + two + "\n\n   " + one + "\n");
  EXPECT_EQ(split_lines(out("Ein Mann.  Ein Hund.\\n", "--no-split")).size(), 1u);
  expect_cli_error("echo a | " + tr + " --format pdf", {"format 'pdf'", "lines, text or html"});
}
