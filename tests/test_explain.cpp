// `nmt explain`: every tensor of the seed walkthrough has the shape the model implies, for the
// seed preset (random init, vocabularies from the train split) and for the tiny checkpoint; the
// text output keeps the seed's order; the attention rows sum to 1 with zero weight on padding.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <cmath>
#include <sstream>

#include "model/checkpoint.h"
#include "model/params.h"
#include "data/corpus.h"
#include "train/presets.h"

using namespace nmt;
using nlohmann::json;

namespace {

struct Result {
  int status;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Result run_explain(const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nmt_explain_" + std::to_string(::getpid()) + "_" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::create_directories(dir);
  const auto out = dir / "stdout", err = dir / "stderr";
  const std::string cmd = std::string("'") + NMT_BINARY + "' explain " + args + " >'" +
                          out.string() + "' 2>'" + err.string() + "'";
  const int rc = std::system(cmd.c_str());
  Result r{WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  std::filesystem::remove_all(dir);
  return r;
}

// What the text pipeline gives on the bundled train split: vocabulary sizes (min_freq 2) and the
// padded lengths S, T of the first 8 pairs (incl. <sos>/<eos>).
struct Expected {
  long Vs = 0, Vt = 0, S = 0, T = 0;
};

const Expected& expected() {
  static const Expected e = [] {
    Expected x;
    const auto pc = data::read_split(std::string(NMT_SOURCE_DIR) + "/data/multi30k", "train");
    const auto m = train::seed_model(pc, 1);
    x.Vs = m.src_vocab.size();
    x.Vt = m.trg_vocab.size();
    for (int b = 0; b < 8; ++b) {
      x.S = std::max(x.S, (long)m.src_codec->tokenize(pc.src[b]).size() + 2);
      x.T = std::max(x.T, (long)m.trg_codec->tokenize(pc.trg[b]).size() + 2);
    }
    return x;
  }();
  return e;
}

// The seed's order and each tensor's shape for sizes E, H (per direction), D, Vt.
std::vector<std::pair<std::string, std::vector<long>>> expected_shapes(long E, long H, long D,
                                                                       long Vt) {
  const long S = expected().S, T = expected().T, B = 8;
  return {{"src_ids", {S, B}},
          {"embedded", {S, B, E}},
          {"encoder_outputs", {S, B, 2 * H}},
          {"h_n", {2, B, H}},
          {"s0", {B, D}},
          {"energy", {B, S, D}},
          {"scores", {B, S}},
          {"attention", {B, S}},
          {"context", {B, 2 * H}},
          {"trg_ids", {T, B}},
          {"decoder_embedded", {B, E}},
          {"s1", {B, D}},
          {"logits", {B, Vt}}};
}

void check_json(const json& j, long E, long H, long D, long Vs, long Vt, std::size_t params) {
  const auto want = expected_shapes(E, H, D, Vt);
  const auto& tensors = j.at("tensors");
  ASSERT_EQ(tensors.size(), want.size()) << j.dump(1);
  for (std::size_t k = 0; k < want.size(); ++k) {
    EXPECT_EQ(tensors[k].at("name").get<std::string>(), want[k].first);
    EXPECT_EQ(tensors[k].at("shape").get<std::vector<long>>(), want[k].second) << want[k].first;
  }
  EXPECT_EQ(j.at("batch").get<long>(), 8);
  EXPECT_EQ(j.at("src_len").get<long>(), expected().S);
  EXPECT_EQ(j.at("trg_len").get<long>(), expected().T);
  EXPECT_EQ(j.at("src_vocab_size").get<long>(), Vs);
  EXPECT_EQ(j.at("trg_vocab_size").get<long>(), Vt);
  EXPECT_EQ(j.at("parameter_count").get<std::size_t>(), params);
  std::size_t sum = 0;
  for (const auto& p : j.at("parameters")) {
    std::size_t n = 1;
    for (long d : p.at("shape").get<std::vector<long>>()) n *= d;
    sum += n;
  }
  EXPECT_EQ(sum, params);
  const auto& c = j.at("checks");
  ASSERT_EQ(c.at("attention_row_sums").size(), 8u);
  for (const auto& s : c.at("attention_row_sums")) EXPECT_NEAR(s.get<double>(), 1.0, 1e-5);
  EXPECT_EQ(c.at("attention_pad_max").get<double>(), 0.0);
  EXPECT_EQ(c.at("encoder_pad_max_abs").get<double>(), 0.0);
  EXPECT_LT(c.at("softmax_max_diff").get<double>(), 1e-5);
  EXPECT_TRUE(c.at("h_n_matches_outputs").get<bool>());
}

}  // namespace

TEST(Explain, JsonShapesSeedPreset) {
  const auto r = run_explain("--json");
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  const auto& e = expected();
  // The vocabulary the text pipeline gives (design §1 says within 3% of the seed's 7,853/5,893).
  EXPECT_NEAR(e.Vs, 7853, 0.03 * 7853);
  EXPECT_NEAR(e.Vt, 5893, 0.03 * 5893);
  const auto cfg = model::ModelConfig::seed((int)e.Vs, (int)e.Vt);
  check_json(j, 256, 512, 512, e.Vs, e.Vt, model::parameter_count(cfg));
}

TEST(Explain, JsonShapesTinyCheckpoint) {
  const auto r = run_explain("--model tests/golden/tiny_ckpt --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  const auto m = model::load_model("tests/golden/tiny_ckpt");
  ASSERT_EQ(m.config.emb_dim, 6);  // every size distinct, so a swapped one shows
  ASSERT_EQ(m.config.enc_hid_dim, 10);
  ASSERT_EQ(m.config.dec_hid_dim, 14);
  ASSERT_EQ(m.config.trg_vocab_size, 30);
  check_json(j, 6, 10, 14, 40, 30, model::parameter_count(m.config));
}

TEST(Explain, TextFollowsTheSeedOrder) {
  const auto r = run_explain("--model tests/golden/tiny_ckpt");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string S = std::to_string(expected().S), T = std::to_string(expected().T);
  const std::vector<std::string> order = {
      "== source ids (one column per sentence)  [" + S + " x 8] ==",
      "== embeddings X = Emb_src[src]  [" + S + " x 8 x 6] ==",
      "== encoder outputs Hs = [h_fwd ; h_bwd]  [" + S + " x 8 x 20] ==",
      "== final states h_n",
      "[2 x 8 x 10] ==",
      "== decoder initial state s0",
      "== attention energy",
      "[8 x " + S + " x 14] ==",
      "== attention scores",
      "== attention weights",
      "== context w",
      "== target ids (one column per sentence)  [" + T + " x 8] ==",
      "== decoder input embedding",
      "== decoder state s1",
      "== prediction logits",
      "[8 x 30] ==",
      "#### Parameters: ",
  };
  std::size_t pos = 0;
  for (const auto& s : order) {
    const std::size_t at = r.out.find(s, pos);
    ASSERT_NE(at, std::string::npos) << "missing (in order): " << s << "\n" << r.out;
    pos = at + s.size();
  }
  // The source id matrix: the first row is all <sos> = 2, like the seed's picture.
  EXPECT_NE(r.out.find("   t0     2     2     2     2     2     2     2     2\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("decoder.fc_out.weight"), std::string::npos);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Explain, MissingModelIsAnError) {
  const auto r = run_explain("--model tests/golden/no_such_model");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "nmt: error: tests/golden/no_such_model: not a model directory\n");
}

// `nmt explain` renders a trace of the translator's own forward pass (viz/explain.cpp); before
// that it recomputed the pass by hand. Its output equals the hand-wired version's, kept in
// tests/golden/explain_*.txt: the same text, and every number the same to its printed digits
// (within 1e-6 absolute or 1e-3 relative: the kernel's fast tanh and the translator's
// longest-first batch order move the last printed digit of a few values).
namespace {

void expect_same_numbers(const std::string& got, const std::string& want) {
  const std::regex number(R"([-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?)");
  auto split = [&](const std::string& s, std::vector<double>& nums) {
    std::string text;
    std::size_t at = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), number); it != std::sregex_iterator();
         ++it) {
      text += s.substr(at, it->position() - at) + "#";
      nums.push_back(std::stod(it->str()));
      at = it->position() + it->length();
    }
    return text + s.substr(at);
  };
  std::vector<double> g, w;
  const std::string gt = split(got, g), wt = split(want, w);
  ASSERT_EQ(gt, wt) << "the text around the numbers differs";
  ASSERT_EQ(g.size(), w.size());
  for (std::size_t i = 0; i < g.size(); ++i)
    EXPECT_TRUE(std::fabs(g[i] - w[i]) <= 1e-6 || std::fabs(g[i] - w[i]) <= 1e-3 * std::fabs(w[i]))
        << "number " << i << ": " << g[i] << " vs " << w[i];
}

std::string with_repo(std::string s) {
  const std::string repo = std::string(NMT_SOURCE_DIR) + "/";
  for (std::size_t at; (at = s.find("<repo>/")) != std::string::npos;) s.replace(at, 7, repo);
  return s;
}

}  // namespace

TEST(Explain, TraceGivesTheHandWiredNumbers) {
  for (const auto& [args, golden] : std::vector<std::pair<std::string, std::string>>{
           {"--threads 1", "explain_seed.txt"},
           {"--threads 1 --model tests/golden/tiny_ckpt", "explain_tiny.txt"}}) {
    SCOPED_TRACE(args);
    const Result r = run_explain(args);
    ASSERT_EQ(r.status, 0) << r.err;
    expect_same_numbers(r.out, with_repo(slurp(std::string(NMT_SOURCE_DIR) + "/tests/golden/" + golden)));
  }
}
