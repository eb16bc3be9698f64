// eval::corpus_loss, the headline metric: `loss` (teacher-forced, token-weighted) and `loss_free`
// (the tutorial's evaluate(): own argmax fed back, batches of the set sorted by source length,
// mean of per-batch means), against per-sentence losses of the training graph on uneven batches
// and against a PyTorch golden of the tutorial's evaluate() (tools/pytorch_reference.py golden).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "eval/score.h"
#include "model/safetensors.h"
#include "model/seq2seq.h"
#include "test_util.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

// Summed loss and token count of one sentence scored alone.
struct SentLoss {
  double tf = 0, free = 0;
  long tokens = 0;
};

std::vector<SentLoss> per_sentence(const model::ModelConfig& c, const model::Weights& w,
                                   const Pairs& p) {
  std::vector<SentLoss> r;
  for (std::size_t i = 0; i < p.src.size(); ++i) {
    const auto b = p.batch({i});
    model::TrainingGraph g;
    SentLoss s;
    s.tf = g.forward(c, w, b, std::vector<unsigned char>(b.trg_len, 1), 0.0f, nullptr);
    s.tokens = g.tokens();
    s.free = g.forward(c, w, b, std::vector<unsigned char>(b.trg_len, 0), 0.0f, nullptr);
    r.push_back(s);
  }
  return r;
}

// Mean over consecutive batches of `order` of each batch's token-weighted free-running loss.
double mean_of_batch_means(const std::vector<SentLoss>& s, const std::vector<std::size_t>& order,
                           std::size_t batch) {
  double sum = 0;
  int n = 0;
  for (std::size_t k = 0; k < order.size(); k += batch, ++n) {
    double l = 0;
    long t = 0;
    for (std::size_t j = k; j < std::min(order.size(), k + batch); ++j) {
      l += s[order[j]].free;
      t += s[order[j]].tokens;
    }
    sum += l / t;
  }
  return sum / n;
}

}  // namespace

TEST(CorpusLoss, UnevenBatchesEqualPerSentenceLosses) {
  const auto cfg = tiny_config(31, 29, 6, 5, 7);
  const auto m = tiny_model(cfg, 4242);
  Rng rng(4243);
  // 11 pairs at batch 4: batches of 4, 4 and 3; source lengths with ties, in no order, and
  // target lengths that differ a lot between batches (so a token-weighted loss_free differs).
  const auto p = random_pairs(
      rng, cfg,
      {{7, 3}, {4, 9}, {9, 12}, {4, 3}, {6, 8}, {3, 2}, {7, 11}, {4, 4}, {4, 6}, {8, 10}, {6, 3}});
  const auto s = per_sentence(cfg, m.w, p);
  const std::size_t B = 4;
  const auto r = eval::corpus_loss(cfg, m.w, p.src, p.trg, (int)B);

  double tf = 0;
  long tokens = 0;
  for (const auto& x : s) {
    tf += x.tf;
    tokens += x.tokens;
  }
  EXPECT_EQ(r.tokens, tokens);
  EXPECT_NEAR(r.loss, tf / tokens, 1e-6 * r.loss) << "loss is the token-weighted mean";
  EXPECT_NEAR(r.ppl, std::exp(tf / tokens), 1e-5 * r.ppl);

  // The tutorial's order: sorted by source length, ties kept in corpus order.
  std::vector<std::size_t> asc(p.src.size());
  std::iota(asc.begin(), asc.end(), 0);
  std::stable_sort(asc.begin(), asc.end(),
                   [&](std::size_t a, std::size_t b) { return p.src[a].size() < p.src[b].size(); });
  const double want = mean_of_batch_means(s, asc, B);
  EXPECT_NEAR(r.loss_free, want, 1e-6 * want) << "loss_free is the mean of per-batch means";
  EXPECT_NEAR(r.ppl_free, std::exp(want), 1e-5 * r.ppl_free);

  // The alternatives a wrong implementation would compute are far from it on this set, so the
  // checks above can tell them apart.
  double free_sum = 0;
  for (const auto& x : s) free_sum += x.free;
  std::vector<std::size_t> corpus(p.src.size()), desc(asc.rbegin(), asc.rend());
  std::iota(corpus.begin(), corpus.end(), 0);
  for (double wrong : {free_sum / tokens, mean_of_batch_means(s, corpus, B),
                       mean_of_batch_means(s, desc, B), mean_of_batch_means(s, asc, B + 1)})
    EXPECT_GT(std::fabs(wrong - want), 1e-3) << wrong;
  // And a tie broken the other way (length-4 sources 1 and 8 swapped, across the batch boundary)
  // changes it too: the sort must be stable.
  auto swapped = asc;
  std::iter_swap(std::find(swapped.begin(), swapped.end(), 1),
                 std::find(swapped.begin(), swapped.end(), 8));
  EXPECT_GT(std::fabs(mean_of_batch_means(s, swapped, B) - want), 1e-4);
}

TEST(CorpusLoss, MatchesThePyTorchTutorialsEvaluate) {
  const auto st = model::SafeTensors::load(repo_path("tests/golden/tiny_eval.safetensors"));
  const auto& md = st.metadata();
  model::ModelConfig cfg;
  cfg.src_vocab_size = std::stoi(md.at("src_vocab_size"));
  cfg.trg_vocab_size = std::stoi(md.at("trg_vocab_size"));
  cfg.emb_dim = std::stoi(md.at("emb_dim"));
  cfg.enc_hid_dim = std::stoi(md.at("enc_hid_dim"));
  cfg.dec_hid_dim = std::stoi(md.at("dec_hid_dim"));
  std::size_t total = 0;
  const auto table = model::param_table(cfg, &total);
  model::ParamBuffer params(total);
  const auto w = model::bind_weights(params.data(), cfg);
  for (const auto& p : table) st.read_f32(p.name, p.shape, params.data() + p.offset);
  // Time-major [max_len, n] id arrays and the lengths: sentence i is column i.
  const auto src_t = st.i32("input.src"), trg_t = st.i32("input.trg");
  const auto src_len = st.i32("input.src_len"), trg_len = st.i32("input.trg_len");
  const int n = (int)src_len.size();
  std::vector<std::vector<int>> src(n), trg(n);
  for (int i = 0; i < n; ++i) {
    for (int t = 0; t < src_len[i]; ++t) src[i].push_back(src_t[(std::size_t)t * n + i]);
    for (int t = 0; t < trg_len[i]; ++t) trg[i].push_back(trg_t[(std::size_t)t * n + i]);
  }
  const int batch = st.i32("input.batch_size")[0];
  const auto r = eval::corpus_loss(cfg, w, src, trg, batch);
  const double loss = st.f32("output.loss")[0], loss_free = st.f32("output.loss_free")[0];
  EXPECT_EQ(r.tokens, st.i32("output.tokens")[0]);
  EXPECT_NEAR(r.loss, loss, 2e-6 * loss);
  EXPECT_NEAR(r.loss_free, loss_free, 2e-6 * loss_free);
  // The golden's corpus-order figure differs, so the batching is what is being checked.
  EXPECT_GT(std::fabs(st.f32("output.loss_free_corpus_order")[0] - loss_free), 1e-3);
  std::printf("corpus_loss vs tutorial evaluate(): loss %.7f (%.7f), loss_free %.7f (%.7f)\n",
              r.loss, loss, r.loss_free, loss_free);
}
