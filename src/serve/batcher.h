#pragma once
// Continuous batching for the server: one worker thread owns the translators. When it is idle a
// request starts at once; while it computes, new sentences queue, and the next batch is the
// oldest job plus the queued jobs with exactly its decoding options whose sentences are nearest
// its length, up to max_batch sentences. The translator is batch-invariant, so each request gets
// exactly what it would get alone. The queue is bounded (in sentences). max_wait_ms > 0 brings
// back a waiting window (the first sentence waits that long for company).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "decode/translator.h"
#include "model/checkpoint.h"

namespace nmt::serve {

struct BatcherOptions {
  int max_batch = 64;     // sentences translated together at most (docs/performance.md)
  int max_wait_ms = 0;    // how long the first sentence of a batch waits for company
  int max_queue = 2000;   // sentences waiting at most (then submit() refuses)
  int max_src_len = decode::DecodingOptions{}.max_src_len;  // tokens per sentence; longer: cut
  int threads = decode::DecodingOptions{}.threads;  // OpenMP/BLAS threads of the worker
  // The precisions offered: one prepared model (decode::Translator) each, made at start; none
  // given: every one this build has (fp32, bf16, and int8 with oneDNN).
  std::vector<decode::Precision> precisions;
};

class Batcher {
 public:
  // Prepares a translator per precision (throws nmt::Error for one unavailable here).
  Batcher(const model::Model& m, const BatcherOptions& opt);
  ~Batcher();  // stops: finishes what is queued
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  struct Job;
  using Result = std::vector<decode::TextTranslation>;
  // Queues the lines; the future holds their translations (or the exception of a failure).
  // Returns nullptr when the queue is full or the batcher is stopping.
  // The precision must be one offered().
  std::shared_ptr<Job> submit(std::vector<std::string> lines, const decode::DecodeOptions& opt,
                              decode::Precision precision);
  bool offers(decode::Precision p) const { return translators_.count(p) > 0; }
  std::string offered() const;  // "fp32, int8"
  std::future<Result> result_of(Job& job);
  void cancel(Job& job);  // a request that timed out: skip it if not started
  long queued() const;
  // What the worker reports of each batch (for metrics); set before submit().
  struct BatchStats {
    int sentences = 0;
    double compute_s = 0;                // translating the batch
    std::vector<double> queue_waits_s;  // each job's time in the queue
  };
  void set_on_batch(std::function<void(const BatchStats&)> f) { on_batch_ = std::move(f); }
  // Stop taking work, finish the queue, join the worker (idempotent).
  void stop();
  // Held while a batch is translated: other model computations (e.g. /v1/explain) take it too,
  // so that BLAS and OpenMP are never entered from two threads at once.
  std::mutex& compute_mutex() { return compute_mu_; }

 private:
  void run();
  std::vector<std::shared_ptr<Job>> take_batch(std::unique_lock<std::mutex>& lock);
  void translate(std::vector<std::shared_ptr<Job>>& batch);

  const model::Model& m_;
  BatcherOptions opt_;
  std::map<decode::Precision, std::unique_ptr<decode::Translator>> translators_;
  mutable std::mutex mu_;
  std::mutex compute_mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  long queued_ = 0;
  bool stopping_ = false;
  std::function<void(const BatchStats&)> on_batch_;
  std::thread worker_;
};

}  // namespace nmt::serve
