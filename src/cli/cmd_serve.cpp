// nmt serve: the HTTP translation service and its web page (serve/server.h).
#include "cli/commands.h"
#include "serve/server.h"
#include "tensor/precision.h"

namespace nmt::cli {

void add_serve(CLI::App& app) {
  auto o = std::make_shared<serve::ServeOptions>();
  auto* cmd = app.add_subcommand(
      "serve", "HTTP translation service with dynamic batching and a web page showing attention");
  cmd->add_option("--model", o->model, "Model directory")->required();
  cmd->add_option("--host", o->host, "Address to bind (127.0.0.1: this machine only)")
      ->capture_default_str();
  cmd->add_option("--port", o->port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Translation threads")->capture_default_str();
  cmd->add_option("--http-threads", o->http.threads,
                  "Connections served at once (each keep-alive client holds one; more wait)")
      ->capture_default_str();
  cmd->add_option("--keep-alive-s", o->http.keep_alive_s,
                  "An idle keep-alive connection is closed after this many seconds")
      ->capture_default_str();
  cmd->add_option("--keep-alive-max", o->http.keep_alive_max,
                  "Requests per keep-alive connection at most (then it is closed)")
      ->capture_default_str();
  cmd->add_option("--max-batch", o->batch.max_batch, "Sentences translated together at most")
      ->capture_default_str();
  cmd->add_option("--max-wait-ms", o->batch.max_wait_ms,
                  "How long a sentence waits for others to share its batch (0: continuous batching, "
                  "a batch starts as soon as the worker is free)")
      ->capture_default_str();
  cmd->add_option("--max-queue", o->batch.max_queue,
                  "Sentences waiting at most; more get 503 with Retry-After")
      ->capture_default_str();
  cmd->add_option("--max-body", o->http.max_body, "Request body bytes at most (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-sentences", o->limits.max_sentences,
                  "Sentences per request at most (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-src-len", o->batch.max_src_len,
                  "Source tokens per sentence; longer ones are truncated with a warning")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", o->timeout_ms, "A request's translation at most (504 after)")
      ->capture_default_str();
  cmd->add_option_function<std::vector<std::string>>(
         "--precision",
         [o](const std::vector<std::string>& names) {
           for (const auto& n : names) o->batch.precisions.push_back(ops::parse_precision(n));
         },
         "Precisions offered to requests, each prepared at start (fp32, bf16, int8; auto: int8 "
         "where available); default: all this build has")
      ->delimiter(',');
  cmd->add_option("--api-key", o->api_key, "Require this key on /v1/* (Bearer or X-API-Key)");
  cmd->callback([o] { serve::serve(*o); });
}

}  // namespace nmt::cli
