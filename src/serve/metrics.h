#pragma once
// Prometheus text-format metrics of the server: requests by status, sentences, queue depth,
// batch sizes, request latency, time in the queue and compute time per batch (histograms with fixed buckets). Thread-safe.
#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace nmt::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v);
  // "name_bucket{le=...} n" lines, _sum and _count.
  std::string text(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<long> counts_;
  double sum_ = 0;
  long count_ = 0;
};

class Metrics {
 public:
  void request(int status, double seconds, long sentences);
  // One translated batch: its sentences, its compute time, each job's time in the queue.
  void batch(int sentences, double compute_s, const std::vector<double>& queue_waits_s);
  // The exposition text; queue_depth is read by the caller from the batcher.
  std::string text(long queue_depth) const;

 private:
  mutable std::mutex mu_;
  std::map<int, long> requests_;
  long sentences_ = 0;
  Histogram latency_{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  Histogram batch_{{1, 2, 4, 8, 16, 32, 64, 128, 256}};
  Histogram queue_wait_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  Histogram compute_{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
  double job_compute_sum_ = 0;  // each request's batch compute time, summed over requests
};

}  // namespace nmt::serve
