#pragma once
// `nmt serve`: an HTTP translation service on cpp-httplib.
//   POST /v1/translate  JSON in and out (serve/api.h), dynamically batched (serve/batcher.h)
//   POST /v1/explain    the seed walkthrough's tensors for one sentence (viz/walkthrough.h)
//   GET  /health        200 once the model is loaded
//   GET  /metrics       Prometheus text format (serve/metrics.h)
//   GET  /              the web page (translate as you type, attention, alternatives, tensors)
// Binds to 127.0.0.1 unless told otherwise; every size and wait is bounded; SIGINT/SIGTERM stop
// accepting, finish in-flight requests and return.
#include <string>

#include "serve/api.h"
#include "serve/batcher.h"
#include "serve/http.h"

namespace nmt::serve {

struct ServeOptions {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = decode::DecodingOptions{}.threads;  // translation (OpenMP) threads
  HttpLimits http;  // connections, bodies, keep-alive
  BatcherOptions batch;
  ApiLimits limits;
  int timeout_ms = 30000;  // a request's translation, queueing included
  std::string api_key;             // when set, /v1/* need "Authorization: Bearer KEY" or X-API-Key
};

// Runs until SIGINT/SIGTERM; throws nmt::Error when the model cannot be loaded or the address
// cannot be bound. on_ready (if set) is called with the URL once listening.
void serve(const ServeOptions& opt);

}  // namespace nmt::serve
