// Batching: the seed's time-major picture on real sentences, and the seeded epoch plan.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "text/batch.h"
#include "data/corpus.h"
#include "text/corpus.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace nmt::text {
namespace {

using Plan = std::vector<std::vector<std::size_t>>;

// Every index 0..n-1 exactly once, in batches of batch_size but one (the remainder, which
// bucketing may shuffle anywhere).
void expect_partition(const Plan& plan, std::size_t n, std::size_t batch_size) {
  std::vector<int> seen(n, 0);
  std::size_t short_batches = 0;
  for (const auto& batch : plan) {
    EXPECT_GE(batch.size(), 1u);
    EXPECT_LE(batch.size(), batch_size);
    short_batches += batch.size() != batch_size;
    for (std::size_t i : batch) {
      ASSERT_LT(i, n);
      ++seen[i];
    }
  }
  EXPECT_EQ(short_batches, n % batch_size == 0 ? 0u : 1u);
  EXPECT_EQ(plan.size(), (n + batch_size - 1) / batch_size);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

std::vector<std::size_t> flatten(const Plan& plan) {
  std::vector<std::size_t> out;
  for (const auto& b : plan) out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Design §1 / the seed: a batch of 8 sentences is a [S, 8] matrix, first row all <sos> (2),
// each column one sentence closed by <eos> (3) and padded with <pad> (1).
TEST(Batch, SeedPictureOnRealTrainingSentences) {
  const auto corpus = read_parallel(data::split_path("data/multi30k", "train", "de"),
                                    data::split_path("data/multi30k", "train", "en"));
  std::vector<std::vector<std::string>> de_tok, en_tok;
  for (std::size_t i = 0; i < corpus.src.size(); ++i) {
    de_tok.push_back(tokenize(corpus.src[i], Lang::De));
    en_tok.push_back(tokenize(corpus.trg[i], Lang::En));
  }
  const Vocab vde = Vocab::build(de_tok), ven = Vocab::build(en_tok);
  std::vector<std::vector<int>> src, trg;
  for (std::size_t i = 0; i < de_tok.size(); ++i) {
    src.push_back(vde.encode(de_tok[i]));
    trg.push_back(ven.encode(en_tok[i]));
  }

  const std::vector<std::size_t> idx = {0, 1, 2, 3, 4, 5, 6, 7};
  const Batch b = make_batch(src, trg, idx);
  ASSERT_EQ(b.batch, 8);
  // "Ein Mann in grün hält eine Gitarre, während der andere Mann sein Hemd ansieht." is the
  // longest source: 16 tokens + <sos> + <eos>.
  EXPECT_EQ(b.src_len, 18);
  EXPECT_EQ(b.trg_len, 17);
  EXPECT_EQ(b.src_lengths, (std::vector<int>{15, 10, 12, 17, 12, 18, 10, 16}));
  EXPECT_EQ(b.trg_lengths, (std::vector<int>{13, 14, 11, 17, 11, 17, 10, 16}));
  EXPECT_EQ(b.index, idx);
  ASSERT_EQ(b.src.size(), 18u * 8u);
  ASSERT_EQ(b.trg.size(), 17u * 8u);

  for (int col = 0; col < 8; ++col) EXPECT_EQ(b.src[col], SOS) << col;  // first row all 2
  for (int col = 0; col < 8; ++col) {
    const auto& want = src[idx[col]];
    for (int t = 0; t < b.src_len; ++t) {
      const int got = b.src[t * 8 + col];
      if (t < static_cast<int>(want.size()))
        EXPECT_EQ(got, want[t]) << "t=" << t << " col=" << col;
      else
        EXPECT_EQ(got, PAD) << "t=" << t << " col=" << col;
    }
    EXPECT_EQ(b.src[(b.src_lengths[col] - 1) * 8 + col], EOS);
    EXPECT_EQ(b.trg[col], SOS);
    EXPECT_EQ(b.trg[(b.trg_lengths[col] - 1) * 8 + col], EOS);
    for (int t = b.trg_lengths[col]; t < b.trg_len; ++t) EXPECT_EQ(b.trg[t * 8 + col], PAD);
  }
  // Column 0 reads back as the first training sentence.
  std::vector<int> col0;
  for (int t = 0; t < b.src_len; ++t) col0.push_back(b.src[t * 8]);
  EXPECT_EQ(detokenize(vde.decode(col0), Lang::De),
            "zwei junge weiße männer sind im freien in der nähe vieler büsche.");
}

TEST(Batch, ColumnsFollowIdxAndTargetIsOptional) {
  const std::vector<std::vector<int>> src = {{2, 5, 3}, {2, 6, 7, 8, 3}, {2, 3}};
  const std::vector<std::vector<int>> trg = {{2, 9, 3}, {2, 3}, {2, 4, 4, 3}};
  const Batch b = make_batch(src, trg, {1, 2, 0});
  EXPECT_EQ(b.batch, 3);
  EXPECT_EQ(b.src_len, 5);
  EXPECT_EQ(b.src, (std::vector<int>{2, 2, 2,  //
                                     6, 3, 5,  //
                                     7, 1, 3,  //
                                     8, 1, 1,  //
                                     3, 1, 1}));
  EXPECT_EQ(b.trg, (std::vector<int>{2, 2, 2,  //
                                     3, 4, 9,  //
                                     1, 4, 3,  //
                                     1, 3, 1}));
  EXPECT_EQ(b.src_lengths, (std::vector<int>{5, 2, 3}));
  EXPECT_EQ(b.trg_lengths, (std::vector<int>{2, 4, 3}));

  const Batch s = make_batch(src, {}, {0});
  EXPECT_EQ(s.src, (std::vector<int>{2, 5, 3}));
  EXPECT_TRUE(s.trg.empty());
  EXPECT_EQ(s.trg_len, 0);
  EXPECT_TRUE(s.trg_lengths.empty());

  EXPECT_THROW(make_batch(src, trg, {3}), Error);
  EXPECT_THROW(make_batch(src, {{2, 3}}, {0}), Error);
}

TEST(Batch, EveryIndexOncePerEpoch) {
  std::vector<int> lengths(1000);
  for (int i = 0; i < 1000; ++i) lengths[i] = 3 + (i * 37) % 29;
  for (bool bucket : {false, true}) {
    for (int epoch = 0; epoch < 3; ++epoch) {
      SCOPED_TRACE(std::to_string(bucket) + " epoch " + std::to_string(epoch));
      BatchPlan p;
      p.batch_size = 128;
      p.bucket = bucket;
      expect_partition(plan_batches(lengths, p, epoch), 1000, 128);
      p.batch_size = 7;
      expect_partition(plan_batches(lengths, p, epoch), 1000, 7);
    }
  }
  BatchPlan p;
  p.batch_size = 1000;
  expect_partition(plan_batches(lengths, p, 0), 1000, 1000);
  p.batch_size = 5000;
  expect_partition(plan_batches(lengths, p, 0), 1000, 5000);
  EXPECT_TRUE(plan_batches({}, p, 0).empty());
  p.batch_size = 0;
  EXPECT_THROW(plan_batches(lengths, p, 0), Error);
}

TEST(Batch, ShuffleIsDeterministicPerSeedAndEpoch) {
  const std::vector<int> lengths(500, 10);
  BatchPlan p;
  p.batch_size = 16;
  const Plan e0 = plan_batches(lengths, p, 0);
  EXPECT_EQ(plan_batches(lengths, p, 0), e0);
  const Plan e1 = plan_batches(lengths, p, 1);
  EXPECT_NE(e1, e0);
  EXPECT_EQ(plan_batches(lengths, p, 1), e1);
  std::vector<std::size_t> identity(500);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  EXPECT_NE(flatten(e0), identity);
  p.seed = 99;
  EXPECT_NE(plan_batches(lengths, p, 0), e0);

  p.shuffle = false;
  EXPECT_EQ(flatten(plan_batches(lengths, p, 0)), identity);
  EXPECT_EQ(plan_batches(lengths, p, 3), plan_batches(lengths, p, 0));
}

// Our own splitmix64 + Fisher-Yates: the same order on every compiler and standard library.
// (Pinned so a change to the RNG is noticed: it would change every training run.)
TEST(Batch, ShuffleIsPortable) {
  BatchPlan p;
  p.batch_size = 3;
  p.seed = 1234;
  EXPECT_EQ(plan_batches(std::vector<int>(10, 1), p, 0),
            (Plan{{8, 2, 6}, {1, 3, 7}, {5, 0, 4}, {9}}));
  EXPECT_EQ(plan_batches(std::vector<int>(10, 1), p, 1),
            (Plan{{1, 0, 3}, {4, 6, 7}, {5, 9, 2}, {8}}));
}

TEST(Batch, BucketingGroupsSimilarLengths) {
  std::vector<int> lengths(3000);
  for (int i = 0; i < 3000; ++i) lengths[i] = 4 + (i * 7919) % 40;
  BatchPlan p;
  p.batch_size = 32;
  auto padding = [&](const Plan& plan) {
    long pad = 0;
    for (const auto& b : plan) {
      int mx = 0;
      for (auto i : b) mx = std::max(mx, lengths[i]);
      for (auto i : b) pad += mx - lengths[i];
    }
    return pad;
  };
  const Plan plain = plan_batches(lengths, p, 0);
  p.bucket = true;
  const Plan bucketed = plan_batches(lengths, p, 0);
  EXPECT_EQ(plan_batches(lengths, p, 0), bucketed);
  EXPECT_NE(plan_batches(lengths, p, 1), bucketed);
  EXPECT_LT(padding(bucketed) * 10, padding(plain));
  // Batch order is shuffled, so the lengths do not simply rise from batch to batch.
  std::vector<int> first_len;
  for (const auto& b : bucketed) first_len.push_back(lengths[b.front()]);
  EXPECT_FALSE(std::is_sorted(first_len.begin(), first_len.end()));

  p.shuffle = false;  // bucketing alone: sorted by length, order fixed
  const Plan sorted = plan_batches(lengths, p, 0);
  std::vector<int> all;
  for (auto i : flatten(sorted)) all.push_back(lengths[i]);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));  // 3000 < one window of 3200
}

}  // namespace
}  // namespace nmt::text
