// Decoding (design §2, §5): greedy and beam search give the same result for a sentence alone and
// inside a padded batch, respect max_len, keep proper attention rows, and score hypotheses
// consistently with the teacher-forced training graph.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "common/error.h"
#include "decode/translator.h"
#include "model/layers.h"
#include "model/seq2seq.h"
#include "tensor/ops.h"
#include "test_util.h"
#include "train/trainer.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

// A tiny model trained for a moment (120 Adam steps, ~0.1 s) on reversing random word
// sequences: its outputs end with <eos> after a length that depends on the source, and beam
// search finds different outputs than greedy for some sentences. eos_bias shifts <eos>.
model::Model decode_model(float eos_bias = 0.0f) {
  const int Vs = 37, Vt = 29;
  auto m = model::Model::create(tiny_config(Vs, Vt, 8, 6, 10), synthetic_vocab(Vs - 4, "s"),
                                synthetic_vocab(Vt - 4, "t"), 5);
  const int saved_threads = ops::threads();
  ops::set_threads(1);  // the same model whatever OMP_NUM_THREADS says
  {
    train::TrainOptions opt;
    opt.teacher_forcing = 1.0f;
    opt.dropout = 0.0f;
    opt.lr = 0.01f;
    train::Updater up(m);
    Rng rng(9);
    for (int step = 0; step < 120; ++step) {
      std::vector<std::vector<int>> src, trg;
      std::vector<std::size_t> idx;
      for (int b = 0; b < 16; ++b) {
        const int n = 1 + (int)rng.below(10);
        std::vector<int> a{text::SOS}, t{text::SOS};
        for (int i = 0; i < n; ++i) a.push_back(4 + (int)rng.below(Vs - 4));
        for (int i = n; i >= 1; --i) t.push_back(4 + (a[i] - 4) % (Vt - 4));
        a.push_back(text::EOS);
        t.push_back(text::EOS);
        src.push_back(a);
        trg.push_back(t);
        idx.push_back(b);
      }
      up.step(text::make_batch(src, trg, idx), rng, opt);
    }
  }
  ops::set_threads(saved_threads);
  m.w.out_b[text::EOS] += eos_bias;
  return m;
}

// The eos_bias = 0 model, trained once for the whole suite.
const model::Model& trained_model() {
  static const model::Model m = decode_model();
  return m;
}

std::vector<std::vector<int>> six_sentences(const model::Model& m, std::uint64_t seed = 302) {
  Rng rng(seed);
  std::vector<std::vector<int>> src;
  for (int len : {5, 11, 3, 14, 8, 4})
    src.push_back(random_sentence(rng, len, m.config.src_vocab_size));
  return src;
}

// -sum log p(ids..., <eos>) under teacher forcing, from the training graph.
double teacher_forced_nll(const model::Model& m, const std::vector<int>& src,
                          const std::vector<int>& ids) {
  std::vector<int> trg{text::SOS};
  trg.insert(trg.end(), ids.begin(), ids.end());
  trg.push_back(text::EOS);
  const auto batch = text::make_batch({src}, {trg}, {0});
  model::TrainingGraph g;
  return g.forward(m.config, m.w, batch, std::vector<unsigned char>(batch.trg_len, 1), 0.0f,
                   nullptr);
}

std::string ids_str(const std::vector<int>& ids) {
  std::string s;
  for (int i : ids) s += std::to_string(i) + " ";
  return s;
}

void expect_same_results(const std::vector<decode::Hypothesis>& batched,
                         const std::vector<decode::Hypothesis>& alone) {
  ASSERT_EQ(batched.size(), alone.size());
  for (std::size_t b = 0; b < batched.size(); ++b) {
    EXPECT_EQ(batched[b].ids, alone[b].ids) << "sentence " << b;
    EXPECT_EQ(batched[b].finished, alone[b].finished) << "sentence " << b;
    EXPECT_NEAR(batched[b].log_prob, alone[b].log_prob,
                1e-5 * std::max(1.0f, std::fabs(alone[b].log_prob)))
        << "sentence " << b;
  }
}

std::vector<decode::Hypothesis> one_by_one(decode::Translator& tr,
                                           const std::vector<std::vector<int>>& src,
                                           const decode::DecodeOptions& opt) {
  std::vector<decode::Hypothesis> r;
  for (const auto& s : src) r.push_back(tr.translate({s}, opt)[0]);
  return r;
}

}  // namespace

TEST(Decode, TestModelProducesVariedHypotheses) {
  // Guards the other tests: outputs of several lengths, most of them ending in <eos>.
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  const auto hyps = tr.translate(src, {});
  std::set<std::size_t> lengths;
  int finished = 0;
  for (const auto& h : hyps) {
    lengths.insert(h.ids.size());
    finished += h.finished;
  }
  EXPECT_GE(lengths.size(), 4u);
  EXPECT_GE(finished, 5);
  // Beam search is exercised: for some sentence it finds another output than greedy.
  decode::DecodeOptions beam;
  beam.beam = 3;
  const auto bh = tr.translate(src, beam);
  int differ = 0;
  for (std::size_t b = 0; b < src.size(); ++b) differ += bh[b].ids != hyps[b].ids;
  EXPECT_GE(differ, 1);
}

TEST(Decode, GreedyBatchEqualsOneByOne) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  decode::DecodeOptions opt;
  const auto batched = tr.translate(src, opt);
  expect_same_results(batched, one_by_one(tr, src, opt));
  // A fresh translator and a different batch order give the same, too.
  decode::Translator tr2(m);
  std::vector<std::vector<int>> rev(src.rbegin(), src.rend());
  const auto reversed = tr2.translate(rev, opt);
  for (std::size_t b = 0; b < src.size(); ++b)
    EXPECT_EQ(reversed[src.size() - 1 - b].ids, batched[b].ids);
}

TEST(Decode, BeamBatchEqualsOneByOne) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  decode::DecodeOptions opt;
  opt.beam = 3;
  const auto batched = tr.translate(src, opt);
  expect_same_results(batched, one_by_one(tr, src, opt));
  // Duplicated sentences in one batch give identical results.
  auto dup = src;
  dup.insert(dup.end(), src.begin(), src.end());
  const auto twice = tr.translate(dup, opt);
  for (std::size_t b = 0; b < src.size(); ++b) EXPECT_EQ(twice[b + src.size()].ids, batched[b].ids);
}

TEST(Decode, BeamOneEqualsGreedy) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  decode::DecodeOptions greedy, beam1;
  beam1.beam = 1;
  expect_same_results(tr.translate(src, beam1), tr.translate(src, greedy));
}

TEST(Decode, GreedyFollowsTheArgmaxOfTeacherForcedLogits) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  const auto hyps = tr.translate(src, {});
  for (std::size_t b = 0; b < src.size(); ++b) {
    const auto& h = hyps[b];
    std::vector<int> trg{text::SOS};
    trg.insert(trg.end(), h.ids.begin(), h.ids.end());
    trg.push_back(text::EOS);
    const auto batch = text::make_batch({src[b]}, {trg}, {0});
    model::TrainingGraph g;
    g.forward(m.config, m.w, batch, std::vector<unsigned char>(batch.trg_len, 1), 0.0f, nullptr);
    const int steps = (int)h.ids.size() + (h.finished ? 1 : 0);
    for (int t = 1; t <= steps; ++t) {
      int best = -1;
      layers::argmax_rows(1, m.config.trg_vocab_size, g.logits(t, 0), &best);
      EXPECT_EQ(best, trg[t]) << "sentence " << b << " step " << t << ": " << ids_str(h.ids);
    }
  }
}

TEST(Decode, LogProbMatchesTeacherForcedScore) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  for (int beam : {1, 3, 5}) {
    decode::DecodeOptions opt;
    opt.beam = beam;
    const auto hyps = tr.translate(src, opt);
    int checked = 0;
    for (std::size_t b = 0; b < src.size(); ++b) {
      if (!hyps[b].finished) continue;
      const double nll = teacher_forced_nll(m, src[b], hyps[b].ids);
      EXPECT_NEAR(hyps[b].log_prob, -nll, 1e-4 * std::max(1.0, nll))
          << "beam " << beam << " sentence " << b;
      ++checked;
    }
    EXPECT_GE(checked, 3) << "beam " << beam;
  }
}

TEST(Decode, BeamFindsAtLeastAsGoodAScoreAsGreedyWithoutLengthPenalty) {
  // With length_penalty 0 the beam's final score is the plain log-probability; on this model the
  // wider search must not end below the greedy path's score for any sentence.
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  decode::DecodeOptions greedy;
  greedy.max_len = 30;
  const auto g = tr.translate(src, greedy);
  for (int K : {3, 6}) {
    decode::DecodeOptions beam = greedy;
    beam.beam = K;
    beam.length_penalty = 0.0f;
    const auto bh = tr.translate(src, beam);
    for (std::size_t b = 0; b < src.size(); ++b) {
      if (!g[b].finished || !bh[b].finished) continue;
      EXPECT_GE(bh[b].log_prob, g[b].log_prob - 1e-4f)
          << "K=" << K << " sentence " << b << ": beam " << ids_str(bh[b].ids) << " greedy "
          << ids_str(g[b].ids);
    }
  }
}

TEST(Decode, HypothesesEndAtMaxLen) {
  // With <eos> pushed far down nothing finishes: max_len cuts every hypothesis.
  const auto m = decode_model(-20.0f);
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  for (int beam : {1, 3}) {
    for (int max_len : {0, 1, 2, 5}) {
      SCOPED_TRACE("beam " + std::to_string(beam) + " max_len " + std::to_string(max_len));
      decode::DecodeOptions opt;
      opt.beam = beam;
      opt.max_len = max_len;
      opt.keep_attention = true;
      const auto hyps = tr.translate(src, opt);
      ASSERT_EQ(hyps.size(), src.size());
      int cut = 0;
      for (const auto& h : hyps) {
        EXPECT_LE((int)h.ids.size(), max_len);
        if (!h.finished) {
          EXPECT_EQ((int)h.ids.size(), max_len) << "an unfinished hypothesis stops at max_len";
          ++cut;
        }
        for (int id : h.ids) {
          EXPECT_NE(id, text::EOS);
          EXPECT_GE(id, 0);
          EXPECT_LT(id, m.config.trg_vocab_size);
        }
      }
      EXPECT_GE(cut, 4);
      // Alone, the same.
      expect_same_results(hyps, one_by_one(tr, src, opt));
    }
  }
}

TEST(Decode, AttentionRowsSumToOneAndAreZeroBeyondTheSource) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  const auto src = six_sentences(m);
  for (int beam : {1, 3}) {
    decode::DecodeOptions opt;
    opt.beam = beam;
    opt.keep_attention = true;
    for (bool batched : {true, false}) {
      SCOPED_TRACE("beam " + std::to_string(beam) + (batched ? " batched" : " alone"));
      for (std::size_t b = 0; b < src.size(); ++b) {
        decode::Hypothesis h;
        int S;
        if (batched) {
          h = tr.translate(src, opt)[b];
          S = tr.encoder().S;
        } else {
          h = tr.translate({src[b]}, opt)[0];
          S = (int)src[b].size();
          EXPECT_EQ(tr.encoder().S, S);
        }
        const int len = (int)src[b].size();
        const std::size_t rows = h.ids.size() + (h.finished ? 1 : 0);
        ASSERT_EQ(h.attention.size(), rows * S) << "sentence " << b;
        for (std::size_t r = 0; r < rows; ++r) {
          double sum = 0;
          for (int j = 0; j < S; ++j) {
            const float a = h.attention[r * S + j];
            EXPECT_GE(a, 0.0f);
            if (j >= len) {
              EXPECT_EQ(a, 0.0f) << "sentence " << b << " row " << r << " position " << j;
            }
            sum += a;
          }
          EXPECT_NEAR(sum, 1.0, 1e-5) << "sentence " << b << " row " << r;
        }
      }
    }
  }
  // Without keep_attention nothing is kept.
  EXPECT_TRUE(tr.translate(src, {})[0].attention.empty());
}

TEST(Decode, EmptyInputAndSingleTokenSources) {
  const auto& m = trained_model();
  decode::Translator tr(m);
  EXPECT_TRUE(tr.translate({}, {}).empty());
  // A source of only <sos> <eos> (an empty sentence framed) still decodes.
  decode::DecodeOptions opt;
  opt.max_len = 10;
  const auto h = tr.translate({{text::SOS, text::EOS}, {text::SOS, 7, 9, text::EOS}}, opt);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_LE(h[0].ids.size(), 10u);
  EXPECT_EQ(tr.translate({{text::SOS, 7, 9, text::EOS}}, opt)[0].ids, h[1].ids);
}

TEST(Decode, TranslateLinesKeepsLineAlignment) {
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  decode::Translator tr(m);
  decode::DecodeOptions opt;
  opt.max_len = 12;
  const std::vector<std::string> lines{"ein mann", "", "   ", "zwei hunde laufen .", "ein mann"};
  const auto res = decode::translate_lines(m, tr, lines, opt);
  ASSERT_EQ(res.size(), lines.size());
  EXPECT_TRUE(res[1].text.empty());
  EXPECT_TRUE(res[2].text.empty());
  EXPECT_TRUE(res[1].out_tokens.empty());
  EXPECT_EQ(res[0].text, res[4].text);
  EXPECT_EQ(res[0].hyp.ids, res[4].hyp.ids);
  EXPECT_EQ(res[0].src_tokens, (std::vector<std::string>{"ein", "mann"}));
  // Each line alone gives the same as in the batch.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto one = decode::translate_lines(m, tr, {lines[i]}, opt);
    EXPECT_EQ(one[0].text, res[i].text) << "line " << i;
  }
}

// --precision bf16: the translator decodes with the decoder matrices rounded to bfloat16, i.e.
// exactly the model that round_weights makes; batch invariance holds as in fp32.
TEST(Decode, Bf16DecodesTheRoundedModel) {
  const auto& m = trained_model();
  auto rounded = decode_model();
  decode::round_weights(rounded, decode::Precision::Bf16);
  EXPECT_NE(std::memcmp(rounded.w.out_w, m.w.out_w, sizeof(float) * 10), 0);  // it did round
  const auto src = six_sentences(m);
  for (int beam : {1, 3}) {
    decode::DecodeOptions opt;
    opt.beam = beam;
    decode::Translator tr(m, decode::Precision::Bf16), tr_rounded(rounded);
    EXPECT_EQ(tr.precision(), decode::Precision::Bf16);
    const auto got = tr.translate(src, opt);
    expect_same_results(got, tr_rounded.translate(src, opt));
    expect_same_results(got, one_by_one(tr, src, opt));
    // An fp32 translator of the same model gives the exact model.
    decode::Translator fresh(m);
    EXPECT_EQ(fresh.precision(), decode::Precision::Fp32);
    expect_same_results(fresh.translate(src, opt), decode::Translator(m).translate(src, opt));
  }
}

TEST(Decode, PrecisionNames) {
  EXPECT_EQ(decode::parse_precision("fp32"), decode::Precision::Fp32);
  EXPECT_EQ(decode::parse_precision("bf16"), decode::Precision::Bf16);
  EXPECT_EQ(decode::parse_precision("int8"), decode::Precision::Int8);
  EXPECT_EQ(decode::parse_precision("auto"), decode::Precision::Auto);
  for (auto p : {decode::Precision::Fp32, decode::Precision::Bf16, decode::Precision::Int8,
                 decode::Precision::Auto})
    EXPECT_EQ(decode::parse_precision(ops::precision_name(p)), p);
  expect_error([] { decode::parse_precision("fp16"); }, {"unknown precision 'fp16'", "auto"});
}

// One precision type, resolved once: decoding's auto becomes what the build has; training
// refuses int8, and bf16 where the CPU lacks bf16 GEMMs (NMT_CPU=generic stands for such a CPU:
// tests/test_cli_errors.cpp runs nmt train so, and checks nothing was written).
TEST(Decode, PrecisionResolvesPerWorkload) {
  using ops::Workload;
  const auto dec_auto = ops::resolve(decode::Precision::Auto, Workload::Decoding);
  EXPECT_EQ(dec_auto.used, ops::int8_gemm_available() ? decode::Precision::Int8
                                                      : decode::Precision::Fp32);
  EXPECT_NE(dec_auto.why.find("auto"), std::string::npos);
  EXPECT_EQ(ops::resolve(decode::Precision::Bf16, Workload::Decoding).used,
            decode::Precision::Bf16);
  const auto train_auto = ops::resolve(decode::Precision::Auto, Workload::Training);
  EXPECT_EQ(train_auto.used, ops::bf16_gemm_available() ? decode::Precision::Bf16
                                                        : decode::Precision::Fp32);
  expect_error([] { ops::resolve(decode::Precision::Int8, Workload::Training); },
               {"--precision int8", "decoding"});
  if (!ops::bf16_gemm_available())
    expect_error([] { ops::resolve(decode::Precision::Bf16, Workload::Training); },
                 {"--precision bf16"});
  // A translator reports the precision it resolved to.
  const auto& m = trained_model();
  EXPECT_EQ(decode::Translator(m, decode::Precision::Auto).precision(), dec_auto.used);
}

// The decoding option table: one check and one message for each value, whatever the front end.
TEST(Decode, OptionTableChecksEveryValueWithOneMessage) {
  decode::DecodingOptions o;
  EXPECT_NO_THROW(decode::check(o));
  auto message = [](decode::DecodingOptions bad) {
    try {
      decode::check(bad);
    } catch (const decode::DecodeOptionError& e) {
      return e.key + " " + e.what();
    }
    return std::string("accepted");
  };
  o.beam = 0;
  EXPECT_EQ(message(o), "beam must be an integer in [1, 64] (got 0)");
  o = {};
  o.length_penalty = std::nanf("");
  EXPECT_EQ(message(o).substr(0, 40), "length_penalty must be a number in [0, 5");
  o = {};
  o.beam = 2;
  o.alternatives = 3;
  EXPECT_EQ(message(o), "alternatives (3) cannot exceed the beam size (2)");
  o = {};
  o.max_src_len = 0;
  EXPECT_NE(message(o).find("max_src_len must be an integer in [1, "), std::string::npos);
  // The search's options come from the same values.
  o = {};
  o.beam = 5;
  o.alternatives = 3;
  const auto s = o.search();
  EXPECT_EQ(s.beam, 5);
  EXPECT_EQ(s.nbest, 3);
  EXPECT_EQ(s.max_len, 100);
}

// Beam search against brute force: over a 7-token target vocabulary and at most 3 output tokens
// there are 1 + 6 + 36 + 216 = 259 finished hypotheses. A beam wide enough to keep them all must
// return exactly the one with the best log p / (len + 1)^lp (len + 1 counts <eos>), for several
// length penalties -- the normalisation, the length budget and the final choice, checked
// against every hypothesis scored by the teacher-forced training graph.
TEST(Decode, ExhaustiveBeamEqualsBruteForceUnderLengthPenalties) {
  const auto cfg = tiny_config(15, 7, 5, 4, 6);
  const auto m = tiny_model(cfg, 77, 0.8f);
  const int V = cfg.trg_vocab_size, max_len = 3;
  decode::Translator tr(m);
  Rng rng(78);
  std::vector<std::vector<int>> src;
  for (int len : {3, 5, 7, 4, 6, 8}) src.push_back(random_sentence(rng, len, cfg.src_vocab_size));
  // Every output sequence of 0..max_len tokens other than <eos>.
  std::vector<std::vector<int>> all{{}};
  for (std::size_t i = 0; i < all.size(); ++i)
    if ((int)all[i].size() < max_len)
      for (int v = 0; v < V; ++v)
        if (v != text::EOS) {
          auto next = all[i];
          next.push_back(v);
          all.push_back(next);
        }
  ASSERT_EQ(all.size(), 259u);
  std::vector<std::vector<double>> logp(src.size());
  for (std::size_t b = 0; b < src.size(); ++b)
    for (const auto& ids : all) logp[b].push_back(-teacher_forced_nll(m, src[b], ids));
  std::set<std::vector<int>> winners;  // over all penalties and sentences
  int compared = 0;
  for (float lp : {0.0f, 0.5f, 1.0f, 2.0f}) {
    decode::DecodeOptions opt;
    opt.beam = 300;  // > 259: nothing is ever pruned
    opt.max_len = max_len;
    opt.length_penalty = lp;
    const auto hyps = tr.translate(src, opt);
    for (std::size_t b = 0; b < src.size(); ++b) {
      SCOPED_TRACE("length penalty " + std::to_string(lp) + ", sentence " + std::to_string(b));
      std::size_t best = 0;
      double best_score = -1e300, second = -1e300;
      for (std::size_t i = 0; i < all.size(); ++i) {
        const double score = logp[b][i] / std::pow((double)all[i].size() + 1, (double)lp);
        if (score > best_score) {
          second = best_score;
          best_score = score;
          best = i;
        } else {
          second = std::max(second, score);
        }
      }
      if (best_score - second < 1e-4) continue;  // a float near-tie: either answer is right
      ++compared;
      winners.insert(all[best]);
      EXPECT_TRUE(hyps[b].finished);
      EXPECT_EQ(hyps[b].ids, all[best])
          << "beam " << ids_str(hyps[b].ids) << " brute force " << ids_str(all[best]);
      EXPECT_NEAR(hyps[b].log_prob, logp[b][best], 1e-4 * std::max(1.0, -logp[b][best]));
    }
  }
  EXPECT_GE(compared, 20);
  // The penalties pick hypotheses of different lengths, so the normalisation is really tested.
  std::set<std::size_t> lengths;
  for (const auto& w : winners) lengths.insert(w.size());
  EXPECT_GE(lengths.size(), 3u);
}
