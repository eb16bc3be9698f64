#include "serve/batcher.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "common/error.h"
#include "tensor/ops.h"

namespace nmt::serve {

struct Batcher::Job {
  std::vector<std::string> lines;
  decode::DecodeOptions opt;
  decode::Precision precision = decode::Precision::Fp32;
  std::promise<Result> promise;
  std::chrono::steady_clock::time_point enqueued;
  std::atomic<bool> cancelled{false};
  double mean_bytes = 0;  // the length used to group similar sentences
  long size() const { return std::max<long>(1, (long)lines.size()); }
};

namespace {

// Jobs share a batch only when every option that changes a result is equal. keep_attention only
// records what the search computed, so it is left out; any other new option must join here.
bool same_search(const decode::DecodeOptions& a, const decode::DecodeOptions& b) {
  static_assert(sizeof(decode::DecodeOptions) == 20,
                "a new decoding option: add it to same_search (and to the serve test)");
  return a.beam == b.beam && a.max_len == b.max_len && a.length_penalty == b.length_penalty &&
         a.nbest == b.nbest;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Batcher::Batcher(const model::Model& m, const BatcherOptions& opt) : m_(m), opt_(opt) {
  auto precisions = opt.precisions;
  if (precisions.empty()) {
    precisions = {decode::Precision::Fp32, decode::Precision::Bf16};
    if (ops::int8_gemm_available()) precisions.push_back(decode::Precision::Int8);
  }
  for (auto p : precisions) {
    auto t = std::make_unique<decode::Translator>(m, p);
    translators_.emplace(t->precision(), std::move(t));
  }
  worker_ = std::thread([this] { run(); });
}

std::string Batcher::offered() const {
  std::string s;
  for (const auto& [p, t] : translators_) s += (s.empty() ? "" : ", ") + std::string(ops::precision_name(p));
  return s;
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::shared_ptr<Batcher::Job> Batcher::submit(std::vector<std::string> lines,
                                              const decode::DecodeOptions& opt,
                                              decode::Precision precision) {
  if (!offers(precision)) throw Error("precision " + std::string(ops::precision_name(precision)) +
                                      " is not offered (" + offered() + ")");
  auto job = std::make_shared<Job>();
  job->opt = opt;
  job->precision = precision;
  const long n = std::max<long>(1, (long)lines.size());
  for (const auto& l : lines) job->mean_bytes += (double)l.size() / (double)n;
  job->lines = std::move(lines);
  job->enqueued = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || (queued_ > 0 && queued_ + n > opt_.max_queue)) return nullptr;
    queued_ += n;
    queue_.push_back(job);
  }
  cv_.notify_all();
  return job;
}

std::future<Batcher::Result> Batcher::result_of(Job& job) { return job.promise.get_future(); }

void Batcher::cancel(Job& job) { job.cancelled = true; }

long Batcher::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

// The oldest job, then queued jobs with exactly its options, nearest its sentence length first,
// up to max_batch sentences. With max_wait_ms > 0 the oldest job first waits that long (from
// its arrival) for company; with 0 (continuous batching) the batch is what is queued now.
std::vector<std::shared_ptr<Batcher::Job>> Batcher::take_batch(std::unique_lock<std::mutex>& lock) {
  const Job& oldest = *queue_.front();
  auto same = [&](const Job& j) {
    return j.precision == oldest.precision && same_search(j.opt, oldest.opt);
  };
  if (opt_.max_wait_ms > 0) {
    const auto deadline = oldest.enqueued + std::chrono::milliseconds(opt_.max_wait_ms);
    auto count = [&] {
      long n = 0;
      for (auto& j : queue_)
        if (same(*j)) n += j->size();
      return n;
    };
    while (!stopping_ && count() < opt_.max_batch &&
           cv_.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
  }
  std::vector<std::size_t> candidates;  // queue positions, oldest job first
  for (std::size_t i = 0; i < queue_.size(); ++i)
    if (same(*queue_[i])) candidates.push_back(i);
  const double len = queue_.front()->mean_bytes;
  std::stable_sort(candidates.begin() + 1, candidates.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(queue_[a]->mean_bytes - len) < std::abs(queue_[b]->mean_bytes - len);
  });
  std::vector<bool> chosen(queue_.size(), false);
  long n = 0;
  for (std::size_t i : candidates) {
    const long size = queue_[i]->size();
    if (n > 0 && n + size > opt_.max_batch) continue;  // a smaller one may still fit
    n += size;
    chosen[i] = true;
  }
  std::vector<std::shared_ptr<Job>> batch;
  std::deque<std::shared_ptr<Job>> rest;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    if (chosen[i])
      batch.push_back(std::move(queue_[i]));
    else
      rest.push_back(std::move(queue_[i]));
  }
  // The batch in arrival order (the translator is batch-invariant; this keeps it reproducible).
  queue_ = std::move(rest);
  queued_ -= n;
  return batch;
}

void Batcher::run() {
  ops::set_threads(opt_.threads);  // OpenMP's thread count is set per thread
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to do
    auto batch = take_batch(lock);
    lock.unlock();
    translate(batch);
    lock.lock();
  }
}

void Batcher::translate(std::vector<std::shared_ptr<Job>>& batch) {
  std::vector<std::string> lines;
  decode::DecodeOptions opt = batch.front()->opt;
  opt.keep_attention = false;
  std::vector<std::shared_ptr<Job>> live;
  for (auto& j : batch) {
    if (j->cancelled) continue;
    opt.keep_attention |= j->opt.keep_attention;
    lines.insert(lines.end(), j->lines.begin(), j->lines.end());
    live.push_back(j);
  }
  if (live.empty()) return;
  BatchStats stats;
  stats.sentences = (int)lines.size();
  for (auto& j : live) stats.queue_waits_s.push_back(seconds_since(j->enqueued));
  const auto start = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> compute(compute_mu_);
  try {
    auto& tr = *translators_.at(batch.front()->precision);
    // A single request larger than max_batch is translated in slices of max_batch.
    Result all =
        decode::translate_in_batches(m_, tr, lines, opt, opt_.max_batch, opt_.max_src_len, false);
    stats.compute_s = seconds_since(start);  // before any answer is handed back
    std::size_t at = 0;
    for (auto& j : live) {
      Result mine(std::make_move_iterator(all.begin() + at),
                  std::make_move_iterator(all.begin() + at + j->lines.size()));
      at += j->lines.size();
      j->promise.set_value(std::move(mine));
    }
  } catch (...) {
    for (auto& j : live) j->promise.set_exception(std::current_exception());
  }
  if (stats.compute_s == 0) stats.compute_s = seconds_since(start);  // it failed
  if (on_batch_) on_batch_(stats);
}

}  // namespace nmt::serve
