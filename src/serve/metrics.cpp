#include "serve/metrics.h"

#include <cstdio>

namespace nmt::serve {

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::text(const std::string& name) const {
  std::string s;
  char buf[160];
  long cum = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    std::snprintf(buf, sizeof buf, "%s_bucket{le=\"%g\"} %ld\n", name.c_str(), bounds_[i], cum);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "%s_bucket{le=\"+Inf\"} %ld\n%s_sum %.6f\n%s_count %ld\n",
                name.c_str(), count_, name.c_str(), sum_, name.c_str(), count_);
  return s + buf;
}

void Metrics::request(int status, double seconds, long sentences) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[status];
  sentences_ += sentences;
  latency_.observe(seconds);
}

void Metrics::batch(int sentences, double compute_s, const std::vector<double>& queue_waits_s) {
  std::lock_guard<std::mutex> lock(mu_);
  batch_.observe(sentences);
  compute_.observe(compute_s);
  for (double w : queue_waits_s) queue_wait_.observe(w);
  job_compute_sum_ += compute_s * (double)queue_waits_s.size();
}

std::string Metrics::text(long queue_depth) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string s =
      "# HELP nmt_requests_total Translation API requests by HTTP status.\n"
      "# TYPE nmt_requests_total counter\n";
  char buf[512];
  for (const auto& [status, n] : requests_) {
    std::snprintf(buf, sizeof buf, "nmt_requests_total{status=\"%d\"} %ld\n", status, n);
    s += buf;
  }
  std::snprintf(buf, sizeof buf,
                "# HELP nmt_sentences_total Sentences translated.\n"
                "# TYPE nmt_sentences_total counter\nnmt_sentences_total %ld\n"
                "# HELP nmt_queue_depth Sentences waiting for a batch.\n"
                "# TYPE nmt_queue_depth gauge\nnmt_queue_depth %ld\n",
                sentences_, queue_depth);
  s += buf;
  s += "# HELP nmt_batch_sentences Sentences per translated batch.\n"
       "# TYPE nmt_batch_sentences histogram\n" +
       batch_.text("nmt_batch_sentences");
  s += "# HELP nmt_request_seconds Translation request latency.\n"
       "# TYPE nmt_request_seconds histogram\n" +
       latency_.text("nmt_request_seconds");
  // The server's own time per request is nmt_request_seconds less these two.
  s += "# HELP nmt_queue_wait_seconds A request's time in the queue before its batch started.\n"
       "# TYPE nmt_queue_wait_seconds histogram\n" +
       queue_wait_.text("nmt_queue_wait_seconds");
  s += "# HELP nmt_batch_compute_seconds Time to translate one batch.\n"
       "# TYPE nmt_batch_compute_seconds histogram\n" +
       compute_.text("nmt_batch_compute_seconds");
  std::snprintf(buf, sizeof buf,
                "# HELP nmt_request_compute_seconds_sum Each request's batch compute time, summed "
                "(request_seconds - queue_wait - this = the server's own time).\n"
                "# TYPE nmt_request_compute_seconds_sum counter\nnmt_request_compute_seconds_sum %.6f\n",
                job_compute_sum_);
  return s + buf;
}

}  // namespace nmt::serve
