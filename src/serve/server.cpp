#include "serve/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/error.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/page.h"
#include "tensor/ops.h"
#include "viz/walkthrough.h"

namespace nmt::serve {

namespace {

using nlohmann::json;
using clock_type = std::chrono::steady_clock;

void send_json(httplib::Response& res, int status, const json& j) {
  res.status = status;
  // Replace rather than throw on invalid UTF-8 (a subword model may emit a partial character).
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, error_json(message));
}

bool authorized(const httplib::Request& req, const std::string& key) {
  if (key.empty()) return true;
  return req.get_header_value("Authorization") == "Bearer " + key ||
         req.get_header_value("X-API-Key") == key;
}

BatcherOptions with_threads(BatcherOptions b, int threads) {
  b.threads = threads;
  return b;
}

// Everything the handlers share.
class Service {
 public:
  Service(const ServeOptions& o, const model::Model& m)
      : opt_(o),
        m_(m),
        batcher_(m, with_threads(o.batch, o.threads)),
        name_(std::filesystem::path(o.model).filename()) {
    batcher_.set_on_batch([this](const Batcher::BatchStats& b) {
      metrics_.batch(b.sentences, b.compute_s, b.queue_waits_s);
    });
    if (name_.empty()) name_ = o.model;
  }
  void routes(httplib::Server& svr);
  void stop() { batcher_.stop(); }

 private:
  void translate(const httplib::Request& req, httplib::Response& res);
  void explain(const httplib::Request& req, httplib::Response& res);
  std::vector<decode::TextTranslation> run(const std::vector<std::string>& lines,
                                           const TranslateRequest& r);
  json documents(const TranslateRequest& r);

  const ServeOptions& opt_;
  const model::Model& m_;
  Batcher batcher_;
  Metrics metrics_;
  std::string name_;
  decode::DocumentSegmenter segmenter_{m_};
};

std::vector<decode::TextTranslation> Service::run(const std::vector<std::string>& lines,
                                                  const TranslateRequest& r) {
  if (!batcher_.offers(r.precision))
    throw ApiError(400, std::string("\"precision\": ") + ops::precision_name(r.precision) +
                            " is not offered by this server (it offers " + batcher_.offered() +
                            ")");
  auto job = batcher_.submit(lines, r.opt, r.precision);
  if (!job) throw ApiError(503, "the translation queue is full; retry shortly");
  auto fut = batcher_.result_of(*job);
  if (fut.wait_for(std::chrono::milliseconds(opt_.timeout_ms)) != std::future_status::ready) {
    batcher_.cancel(*job);
    throw ApiError(504, "translation timed out after " + std::to_string(opt_.timeout_ms) + " ms");
  }
  return fut.get();
}

// "format": each text cut into sentences, all of them translated as one job, then each text
// put back together: {"text", "sentences": [each sentence's translation]}.
json Service::documents(const TranslateRequest& r) {
  decode::DocumentOptions o;
  o.format = *r.format;
  o.max_src_len = opt_.batch.max_src_len;
  std::vector<decode::Document> docs;
  std::vector<std::string> all;
  for (const auto& t : r.texts) {
    docs.push_back(segmenter_.segment(t, o));
    all.insert(all.end(), docs.back().sentences.begin(), docs.back().sentences.end());
  }
  auto results = run(all, r);
  json out = json::array();
  std::size_t at = 0;
  for (const auto& d : docs) {
    std::vector<decode::TextTranslation> mine(
        std::make_move_iterator(results.begin() + at),
        std::make_move_iterator(results.begin() + at + d.sentences.size()));
    at += d.sentences.size();
    const auto res = segmenter_.assemble(d, std::move(mine), o);
    json sentences = json::array();
    for (const auto& s : res.sentences) {
      json one = translation_json(s.translation, r, m_);
      one["source"] = s.source;
      sentences.push_back(one);
    }
    out.push_back({{"text", res.text}, {"sentences", sentences}});
  }
  return out;
}

void Service::translate(const httplib::Request& req, httplib::Response& res) {
  const auto t0 = clock_type::now();
  long sentences = 0;
  try {
    if (!authorized(req, opt_.api_key)) throw ApiError(401, "missing or wrong API key");
    const TranslateRequest r = parse_translate(req.body, opt_.limits);
    sentences = (long)r.texts.size();
    json translations = json::array();
    if (r.format) {
      translations = documents(r);
    } else {
      for (const auto& t : run(r.texts, r)) translations.push_back(translation_json(t, r, m_));
    }
    json answer = {{"translations", translations},
                   {"model", name_},
                   {"src_lang", m_.config.src_lang},
                   {"trg_lang", m_.config.trg_lang}};
    answer["ms"] = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
    send_json(res, 200, answer);
  } catch (const ApiError& e) {
    if (e.status == 503) res.set_header("Retry-After", "1");
    send_error(res, e.status, e.what());
  } catch (const std::exception& e) {
    send_error(res, 500, std::string("translation failed: ") + e.what());
  }
  metrics_.request(res.status, std::chrono::duration<double>(clock_type::now() - t0).count(),
                   res.status == 200 ? sentences : 0);
}

void Service::explain(const httplib::Request& req, httplib::Response& res) {
  try {
    if (!authorized(req, opt_.api_key)) throw ApiError(401, "missing or wrong API key");
    const std::string text = parse_explain(req.body);
    std::lock_guard<std::mutex> lock(batcher_.compute_mutex());
    ops::set_threads(opt_.threads);  // this request's thread (OpenMP's setting is per thread)
    send_json(res, 200, viz::walkthrough(m_, text, opt_.limits.max_len));
  } catch (const ApiError& e) {
    send_error(res, e.status, e.what());
  } catch (const Error& e) {
    send_error(res, 400, e.what());
  }
}

void Service::routes(httplib::Server& svr) {
  svr.Post("/v1/translate", [this](const auto& req, auto& res) { translate(req, res); });
  svr.Post("/v1/explain", [this](const auto& req, auto& res) { explain(req, res); });
  svr.Get("/health", [this](const auto&, auto& res) {
    send_json(res, 200,
              {{"status", "ok"},
               {"model", name_},
               {"src_lang", m_.config.src_lang},
               {"trg_lang", m_.config.trg_lang}});
  });
  svr.Get("/metrics", [this](const auto&, auto& res) {
    res.set_content(metrics_.text(batcher_.queued()), "text/plain; version=0.0.4");
  });
  svr.Get("/",
          [](const auto&, auto& res) { res.set_content(page_html(), "text/html; charset=utf-8"); });
  // Known paths with another method: 405 with Allow.
  const std::vector<std::pair<std::string, std::string>> allowed = {{"/v1/translate", "POST"},
                                                                    {"/v1/explain", "POST"},
                                                                    {"/health", "GET"},
                                                                    {"/metrics", "GET"},
                                                                    {"/", "GET"}};
  for (const auto& [path, allow] : allowed) {
    auto refuse = [allow = allow](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Allow", allow);
      send_error(res, 405, "method " + req.method + " not allowed here (use " + allow + ")");
    };
    if (allow != "GET") svr.Get(path, refuse);
    if (allow != "POST") svr.Post(path, refuse);
    svr.Put(path, refuse);
    svr.Delete(path, refuse);
    svr.Patch(path, refuse);
  }
  // Errors httplib answers itself (unknown path, body too large, bad request line): as JSON.
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = res.status == 404   ? "no such path: " + req.path
                      : res.status == 413 ? "request body too large"
                      : res.status == 400 ? "bad request"
                                          : "HTTP error " + std::to_string(res.status);
    send_error(res, res.status, msg);
  });
  svr.set_exception_handler(
      [](const auto&, auto& res, std::exception_ptr) { send_error(res, 500, "internal error"); });
}

// SIGINT/SIGTERM are blocked in every thread (the mask is inherited) and taken by one waiter,
// so no signal handler races the server. A second signal during shutdown waits its turn.
class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  ~SignalWaiter() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      quiet_ = true;
      if (!woke_) pthread_kill(thread_.native_handle(), SIGTERM);  // wake it: we are done
    }
    thread_.join();
  }
  void start(httplib::Server& svr) {
    thread_ = std::thread([this, &svr] {
      int sig = 0;
      sigwait(&set_, &sig);
      std::lock_guard<std::mutex> lock(mu_);
      woke_ = true;
      if (!quiet_)
        std::fprintf(stderr, "nmt serve: %s, finishing in-flight requests\n",
                     sig == SIGINT ? "interrupted" : "terminated");
      svr.stop();
    });
  }

 private:
  sigset_t set_;
  std::thread thread_;
  std::mutex mu_;
  bool woke_ = false, quiet_ = false;
};

}  // namespace

void serve(const ServeOptions& opt) {
  if (opt.port < 0 || opt.port > 65535) throw Error("--port must be in [0, 65535]");
  if (opt.batch.max_batch <= 0 || opt.batch.max_wait_ms < 0 || opt.batch.max_queue <= 0)
    throw Error("--max-batch and --max-queue must be positive, --max-wait-ms not negative");
  if (opt.http.threads <= 0 || opt.http.keep_alive_s <= 0 || opt.http.keep_alive_max <= 0)
    throw Error("--http-threads, --keep-alive-s and --keep-alive-max must be positive");
  SignalWaiter signals;  // before any thread starts
  ops::set_threads(opt.threads);
  const model::Model m = model::load_model(opt.model);
  HttpServer svr(opt.http);
  Service service(opt, m);
  service.routes(svr);
  const int port = svr.bind(opt.host, opt.port);
  signals.start(svr);
  std::printf("nmt serve: %s on http://%s:%d/ (%d translation threads)\n", opt.model.c_str(),
              opt.host.c_str(), port, opt.threads);
  std::fflush(stdout);
  svr.listen_after_bind();  // returns after stop(), once in-flight requests are answered
  service.stop();
  std::printf("nmt serve: stopped\n");
  std::fflush(stdout);
}

}  // namespace nmt::serve
