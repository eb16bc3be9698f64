#include "serve/batcher.h"

#include <atomic>

#include "tensor/ops.h"

namespace nmt::serve {

struct Batcher::Job {
  std::vector<std::string> lines;
  decode::DecodeOptions opt;
  std::promise<Result> promise;
  std::chrono::steady_clock::time_point enqueued;
  std::atomic<bool> cancelled{false};
};

namespace {

// Jobs share a batch when everything that changes the result is equal (attention is only
// recorded, so it is not part of the key).
auto key(const decode::DecodeOptions& o) {
  return std::make_tuple(o.beam, o.max_len, o.length_penalty, o.precision, o.nbest);
}

}  // namespace

Batcher::Batcher(const model::Model& m, const BatcherOptions& opt)
    : m_(m), opt_(opt), worker_([this] { run(); }) {}

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
                                              const decode::DecodeOptions& opt) {
  auto job = std::make_shared<Job>();
  job->opt = opt;
  const long n = std::max<long>(1, (long)lines.size());
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

decode::Translator& Batcher::translator(decode::Precision p) {
  auto& t = translators_[p];
  if (!t) t = std::make_unique<decode::Translator>(m_);
  return *t;
}

// The oldest job and every queued job with its options, up to max_batch sentences, waiting at
// most max_wait from the oldest job's arrival for more to come.
std::vector<std::shared_ptr<Batcher::Job>> Batcher::take_batch(std::unique_lock<std::mutex>& lock) {
  const auto deadline = queue_.front()->enqueued + std::chrono::milliseconds(opt_.max_wait_ms);
  const auto k = key(queue_.front()->opt);
  auto count = [&] {
    long n = 0;
    for (auto& j : queue_)
      if (key(j->opt) == k) n += (long)j->lines.size();
    return n;
  };
  while (!stopping_ && count() < opt_.max_batch &&
         cv_.wait_until(lock, deadline) != std::cv_status::timeout) {
  }
  std::vector<std::shared_ptr<Job>> batch;
  long n = 0;
  for (auto it = queue_.begin(); it != queue_.end();) {
    const bool fits = batch.empty() || n + (long)(*it)->lines.size() <= opt_.max_batch;
    if (key((*it)->opt) == k && fits) {
      n += (long)(*it)->lines.size();
      queued_ -= std::max<long>(1, (long)(*it)->lines.size());
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
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
  if (on_batch_) on_batch_((int)lines.size());
  std::lock_guard<std::mutex> compute(compute_mu_);
  try {
    auto& tr = translator(opt.precision);
    // A single request larger than max_batch is translated in slices of max_batch.
    Result all =
        decode::translate_in_batches(m_, tr, lines, opt, opt_.max_batch, opt_.max_src_len, false);
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
}

}  // namespace nmt::serve
