#pragma once
// Time-major padded batches [len, batch] (design §1): column b is sentence b, padded with PAD.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nmt::text {

struct Batch {
  int batch = 0;                   // B
  int src_len = 0, trg_len = 0;    // S, T (max over the batch, incl. <sos>/<eos>)
  std::vector<int> src;            // [S, B] ids, PAD beyond each sentence
  std::vector<int> trg;            // [T, B] (may be empty when translating)
  std::vector<int> src_lengths;    // [B] real lengths incl. <sos>/<eos>
  std::vector<int> trg_lengths;    // [B]
  std::vector<std::size_t> index;  // [B] corpus index of each column
};

// Builds the batch of sentences idx (already framed with <sos>/<eos>); trg may be empty.
// Columns are in the order of idx.
Batch make_batch(const std::vector<std::vector<int>>& src, const std::vector<std::vector<int>>& trg,
                 const std::vector<std::size_t>& idx);

// Columns [begin, end) of a batch as a batch of their own, S and T shrunk to their longest
// sentence (a data-parallel rank's shard).
Batch columns(const Batch& b, int begin, int end);

struct BatchPlan {
  int batch_size = 128;
  bool shuffle = true;
  bool bucket = false;  // group sentences of similar source length (does not change the math)
  std::uint64_t seed = 1234;
};

// Splits 0..n-1 into batches; with shuffle the order is a deterministic function of
// (seed, epoch); with bucket, sentences are sorted by length within windows of 100 batches and
// the batch order is shuffled again.
std::vector<std::vector<std::size_t>> plan_batches(const std::vector<int>& lengths,
                                                   const BatchPlan& plan, int epoch);

}  // namespace nmt::text
