// `nmt serve` as a client sees it: the real binary on a real socket (127.0.0.1, a free port),
// driven with cpp-httplib's client. Same translations as `nmt translate`, dynamic batching that
// changes nothing, every error status, limits, and a clean drain on SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "serve/http.h"
#include "test_util.h"
#include "text/corpus.h"

extern char** environ;

using namespace nmt::testing;
using nlohmann::json;

namespace {

// The server as a child process; its first stdout line gives the port.
class Server {
 public:
  explicit Server(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    args.insert(args.begin(), {nmt_binary(), "serve", "--port", "0"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("spawn failed");
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[512] = {0};
    if (!fgets(line, sizeof line, out_)) throw std::runtime_error("the server printed nothing");
    std::smatch m;
    const std::string s = line;
    if (!std::regex_search(s, m, std::regex("http://127\\.0\\.0\\.1:(\\d+)/")))
      throw std::runtime_error("no URL in: " + s);
    port = std::stoi(m[1]);
  }
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_) fclose(out_);
  }
  // SIGTERM, then the exit status (-1 when killed by a signal).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    return c;
  }
  int port = 0;

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

std::string tiny_model() { return repo_path("tests/golden/tiny_ckpt"); }

httplib::Result post(const Server& s, const std::string& body,
                     const std::string& path = "/v1/translate") {
  return s.client().Post(path.c_str(), body, "application/json");
}

json post_json(const Server& s, const json& body) {
  auto r = post(s, body.dump());
  EXPECT_TRUE(r) << "no answer";
  if (!r) return {};
  EXPECT_EQ(r->status, 200) << r->body;
  return json::parse(r->body);
}

// The status and error message of a request that must fail.
void expect_status(const httplib::Result& r, int status, const std::string& needle) {
  ASSERT_TRUE(r) << "no answer";
  EXPECT_EQ(r->status, status) << r->body;
  const json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
  EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << r->body;
}

std::vector<std::string> test2016(std::size_t n) {
  auto lines = nmt::text::read_lines(repo_path("data/multi30k/test_2016_flickr.de.gz"));
  lines.resize(std::min(n, lines.size()));
  return lines;
}

}  // namespace

TEST(Serve, SameTranslationsAsTranslateOnTest2016) {
  const auto lines = test2016(300);
  TempDir tmp;
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  write_file(tmp / "in.de", input);
  Server s({"--model", tiny_model(), "--threads", "1"});
  for (int beam : {1, 5}) {
    SCOPED_TRACE("beam " + std::to_string(beam));
    const auto cli =
        run_shell("'" + nmt_binary() + "' translate --threads 1 --model '" + tiny_model() +
                  "' --beam " + std::to_string(beam) + " --input '" + tmp / "in.de" + "'");
    ASSERT_EQ(cli.status, 0) << cli.err;
    const auto want = split_lines(cli.out);
    ASSERT_EQ(want.size(), lines.size());
    // In requests of 50 sentences.
    for (std::size_t start = 0; start < lines.size(); start += 50) {
      const std::vector<std::string> part(lines.begin() + start, lines.begin() + start + 50);
      const json a = post_json(s, {{"texts", part}, {"beam", beam}});
      ASSERT_EQ(a["translations"].size(), part.size());
      for (std::size_t i = 0; i < part.size(); ++i)
        EXPECT_EQ(a["translations"][i]["text"], want[start + i]) << part[i];
    }
  }
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, ConcurrentRequestsAreBatchedAndGetWhatTheyGetAlone) {
  const auto lines = test2016(40);
  Server s({"--model", tiny_model(), "--threads", "1", "--max-wait-ms", "50", "--max-batch", "64"});
  std::vector<json> alone;
  for (const auto& l : lines)
    alone.push_back(post_json(s, {{"text", l}, {"attention", true}})["translations"][0]);
  std::vector<json> together(lines.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < lines.size(); ++i)
    threads.emplace_back([&, i] {
      auto r = post(s, json{{"text", lines[i]}, {"attention", true}}.dump());
      if (r && r->status == 200)
        together[i] = json::parse(r->body)["translations"][0];
      else
        together[i] = {{"failed", r ? "status " + std::to_string(r->status) + ": " + r->body
                                    : "client error " + httplib::to_string(r.error())}};
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(together[i]["text"], alone[i]["text"]) << together[i].dump().substr(0, 300);
    EXPECT_EQ(together[i]["tokens"], alone[i]["tokens"]);
    // Scores and attention agree to float rounding (another batch, another padding).
    EXPECT_NEAR(together[i]["score"].get<double>(), alone[i]["score"].get<double>(), 1e-4);
    ASSERT_EQ(together[i]["attention"].size(), alone[i]["attention"].size());
  }
  // Some batch held more than one sentence.
  const auto metrics = s.client().Get("/metrics");
  ASSERT_TRUE(metrics);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics->body, m,
                                std::regex("nmt_batch_sentences_bucket\\{le=\"1\"\\} (\\d+)")));
  const long batches_of_one = std::stol(m[1]);
  ASSERT_TRUE(std::regex_search(metrics->body, m, std::regex("nmt_batch_sentences_count (\\d+)")));
  EXPECT_LT(batches_of_one, std::stol(m[1])) << metrics->body;
  EXPECT_NE(metrics->body.find("nmt_requests_total{status=\"200\"} 80"), std::string::npos);
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, AnswerShapeAttentionAlternativesAndTruncation) {
  Server s({"--model", tiny_model(), "--threads", "1", "--max-src-len", "4"});
  const json a = post_json(
      s,
      {{"text", "ein mann mit einem hund"}, {"beam", 3}, {"alternatives", 3}, {"attention", true}});
  const json& t = a["translations"][0];
  EXPECT_EQ(a["model"], "tiny_ckpt");
  EXPECT_TRUE(a["ms"].is_number());
  EXPECT_EQ(t["src_tokens"].size(), 4u) << "truncated to --max-src-len";
  EXPECT_NE(t["warning"].get<std::string>().find("5 tokens"), std::string::npos);
  // Attention: one row per output token and <eos>, columns <sos> + source + <eos>.
  const auto& att = t["attention"];
  EXPECT_GE(att.size(), t["tokens"].size());
  EXPECT_LE(att.size(), t["tokens"].size() + 1);
  for (const auto& row : att) {
    ASSERT_EQ(row.size(), 6u);
    double sum = 0;
    for (const auto& v : row) sum += v.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  const auto& alts = t["alternatives"];
  ASSERT_GE(alts.size(), 1u);
  EXPECT_LE(alts.size(), 3u);
  EXPECT_EQ(alts[0]["text"], t["text"]);
  for (std::size_t k = 1; k < alts.size(); ++k)
    EXPECT_LE(alts[k]["score"].get<double>(), alts[k - 1]["score"].get<double>());
  // Empty text: an empty translation.
  const json e = post_json(s, {{"texts", {"", "ein hund"}}});
  EXPECT_EQ(e["translations"][0]["text"], "");
  EXPECT_EQ(e["translations"].size(), 2u);
  // The walkthrough of one sentence.
  auto x = post(s, R"({"text": "ein hund"})", "/v1/explain");
  ASSERT_TRUE(x);
  ASSERT_EQ(x->status, 200) << x->body;
  const json w = json::parse(x->body);
  EXPECT_EQ(w["src_tokens"], json({"<sos>", "ein", "hund", "<eos>"}));
  EXPECT_EQ(w["encoder"].size(), 4u);
  EXPECT_GE(w["steps"].size(), 1u);
  EXPECT_EQ(w["steps"][0]["attention"].size(), 4u);
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, EveryBadRequestGetsAJsonErrorWithItsStatus) {
  Server s(
      {"--model", tiny_model(), "--threads", "1", "--max-body", "1000", "--max-sentences", "3"});
  expect_status(post(s, "{\"text\": "), 400, "malformed JSON");
  expect_status(post(s, "[1, 2]"), 400, "JSON object");
  expect_status(post(s, R"({"text": 3})"), 400, "\"text\" must be a string");
  expect_status(post(s, R"({"texts": "a"})"), 400, "array");
  expect_status(post(s, R"({"text": "a", "texts": ["b"]})"), 400, "either");
  expect_status(post(s, R"({"text": "a", "beam": 0})"), 400, "\"beam\"");
  expect_status(post(s, R"({"text": "a", "beam": 2, "alternatives": 3})"), 400, "alternatives");
  expect_status(post(s, R"({"text": "a", "precision": "fp8"})"), 400, "precision");
  expect_status(post(s, R"({"text": "a", "colour": "red"})"), 400, "unknown field \"colour\"");
  expect_status(post(s, "{\"text\": \"\xff\xfe\"}"), 400, "UTF-8");
  expect_status(post(s, R"({"text": "\ud800"})"), 400, "");  // a lone surrogate
  expect_status(post(s, R"({"texts": ["a", "b", "c", "d"]})"), 413, "too many sentences");
  expect_status(post(s, json{{"text", std::string(2000, 'a')}}.dump()), 413, "too large");
  expect_status(s.client().Get("/nowhere"), 404, "/nowhere");
  expect_status(s.client().Get("/v1/translate"), 405, "not allowed");
  expect_status(s.client().Delete("/health"), 405, "not allowed");
  EXPECT_EQ(s.client().Get("/v1/translate")->get_header_value("Allow"), "POST");
  // The server is still fine.
  EXPECT_EQ(s.client().Get("/health")->status, 200);
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, ApiKeyQueueFullAndTimeout) {
  {
    Server s({"--model", tiny_model(), "--threads", "1", "--api-key", "s3cret"});
    expect_status(post(s, R"({"text": "ein hund"})"), 401, "API key");
    httplib::Headers wrong = {{"X-API-Key", "nope"}};
    expect_status(s.client().Post("/v1/translate", wrong, R"({"text": "a"})", "application/json"),
                  401, "API key");
    httplib::Headers bearer = {{"Authorization", "Bearer s3cret"}};
    auto ok =
        s.client().Post("/v1/translate", bearer, R"({"text": "ein hund"})", "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(s.client().Get("/health")->status, 200) << "health needs no key";
    EXPECT_EQ(s.stop(), 0);
  }
  {
    // One long request keeps the translator busy; with a queue of 2 sentences and a 1 ms
    // timeout, the others are refused (503 + Retry-After) or time out (504), never hang.
    Server s({"--model", tiny_model(), "--threads", "1", "--max-queue", "2", "--timeout-ms", "1",
              "--max-batch", "1"});
    const auto lines = test2016(200);
    std::vector<int> statuses(8);
    std::vector<std::string> retry(8);
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        auto r = post(s, json{{"texts", std::vector<std::string>(lines.begin(), lines.begin() + 2)},
                              {"beam", 5}}
                             .dump());
        statuses[i] = r ? r->status : -1;
        if (r) retry[i] = r->get_header_value("Retry-After");
      });
    for (auto& t : threads) t.join();
    int refused = 0, timed_out = 0;
    for (int i = 0; i < 8; ++i) {
      EXPECT_TRUE(statuses[i] == 200 || statuses[i] == 503 || statuses[i] == 504) << statuses[i];
      refused += statuses[i] == 503;
      timed_out += statuses[i] == 504;
      if (statuses[i] == 503) {
        EXPECT_EQ(retry[i], "1");
      }
    }
    EXPECT_GT(refused + timed_out, 0);
    EXPECT_EQ(s.client().Get("/health")->status, 200);
    EXPECT_EQ(s.stop(), 0);
  }
}

TEST(Serve, SigtermFinishesInFlightRequestsAndExitsZero) {
  Server s({"--model", tiny_model(), "--threads", "1"});
  const auto lines = test2016(1000);
  int status = -1;
  std::string body;
  std::thread t([&] {
    if (auto r = post(s, json{{"texts", lines}, {"beam", 5}}.dump())) {
      status = r->status;
      body = r->body;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the request is in flight
  EXPECT_EQ(s.stop(), 0);
  t.join();
  ASSERT_EQ(status, 200) << "the in-flight request was dropped";
  EXPECT_EQ(json::parse(body)["translations"].size(), 1000u);
}

TEST(Serve, ASlowClientDoesNotBlockOthers) {
  Server s({"--model", tiny_model(), "--threads", "1", "--http-threads", "4"});
  // A client that sends half a request and then nothing.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)s.port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, (sockaddr*)&addr, sizeof addr), 0);
  const std::string partial = "POST /v1/translate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), (ssize_t)partial.size());
  const auto t0 = std::chrono::steady_clock::now();
  const json a = post_json(s, {{"text", "ein hund"}});
  EXPECT_EQ(a["translations"].size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ::close(fd);
  EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, RefusesBadStartsWithOneLine) {
  TempDir tmp;
  const auto r = run_shell("'" + nmt_binary() + "' serve --model '" + tmp / "none" + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nmt: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(tmp / "none"), std::string::npos) << r.err;
  Server s({"--model", tiny_model()});
  const auto busy = run_shell("'" + nmt_binary() + "' serve --model '" + tiny_model() +
                              "' --port " + std::to_string(s.port));
  EXPECT_EQ(busy.status, 1);
  EXPECT_NE(busy.err.find("cannot bind"), std::string::npos) << busy.err;
  EXPECT_EQ(s.stop(), 0);
}

namespace {

// TCP_NODELAY of the server's side of a connection to port: the accepted socket is found among
// this process's descriptors by its local port (the listening one is skipped).
int accepted_nodelay(int port) {
  int found = -1;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(e.path().filename().c_str());
    sockaddr_in addr{};
    socklen_t alen = sizeof addr;
    int listening = 0, nodelay = 0;
    socklen_t len = sizeof listening;
    if (getsockname(fd, (sockaddr*)&addr, &alen) != 0 || addr.sin_family != AF_INET ||
        ntohs(addr.sin_port) != port ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening)
      continue;
    len = sizeof nodelay;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0) found = nodelay != 0;
  }
  return found;
}

// Serves one keep-alive request with svr and reads TCP_NODELAY back from the open connection.
int nodelay_of_a_connection(httplib::Server& svr) {
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  const int port = svr.bind_to_any_port("127.0.0.1");
  std::thread t([&] { svr.listen_after_bind(); });
  int nodelay = -1;
  {
    httplib::Client c("127.0.0.1", port);
    c.set_keep_alive(true);
    auto r = c.Get("/");
    EXPECT_TRUE(r && r->status == 200);
    nodelay = accepted_nodelay(port);  // the connection is still open (keep-alive)
  }
  svr.stop();
  t.join();
  return nodelay;
}

}  // namespace

TEST(Serve, EveryAcceptedConnectionHasTcpNodelay) {
  nmt::serve::HttpServer ours(nmt::serve::HttpLimits{});
  EXPECT_EQ(nodelay_of_a_connection(ours), 1);
  httplib::Server plain;  // the control: without it the option reads 0 (the test can fail)
  EXPECT_EQ(nodelay_of_a_connection(plain), 0);
}

// Requests that differ from a base in exactly one decoding option arrive together (within one
// batching window) and must each get exactly what they get alone: a batcher whose key leaves
// out any option merges some of them and fails here. Each variant's answer alone differs from
// the base's, so a merge would show.
// (The golden tiny model answers every option alike; a small model trained here, ~4 s, does not.)
TEST(Serve, SlowConcurrentRequestsDifferingInAnyOptionGetTheirOwnAnswer) {
  TempDir tmp;
  for (const char* split : {"train", "val"})
    for (const char* lang : {"de", "en"}) {
      auto l = nmt::text::read_lines(
          repo_path(std::string("data/multi30k/") + split + "." + lang + ".gz"));
      l.resize(split == std::string("train") ? 3000 : 100);
      std::string text;
      for (const auto& x : l) text += x + "\n";
      write_file(tmp / (std::string(split) + "." + lang), text);
    }
  const auto trained = run_shell("'" + nmt_binary() + "' train --data '" + tmp.path() +
                                 "' --epochs 2 --batch 32 --threads 1 --seed 3 --emb 32 "
                                 "--enc-hid 32 --dec-hid 32 --out '" + tmp / "run" + "'");
  ASSERT_EQ(trained.status, 0) << trained.err;
  const auto lines = test2016(40);
  Server s({"--model", tmp / "run", "--threads", "1", "--max-wait-ms", "400", "--max-batch",
            "1000"});
  const json base = {{"texts", lines}, {"beam", 3}, {"length_penalty", 1.0}, {"max_len", 100},
                     {"precision", "fp32"}, {"alternatives", 0}};
  std::vector<json> variants = {base};
  for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"beam", 1}, {"beam", 5}, {"length_penalty", 0.0}, {"length_penalty", 3.0},
           {"max_len", 1}, {"precision", "int8"}, {"precision", "bf16"},
           {"alternatives", 2}, {"alternatives", 3}}) {
    json v = base;
    v[key] = value;
    variants.push_back(v);
  }
  auto summary = [](const json& answer) {  // what must agree: texts, alternatives, scores
    json out = json::array();
    for (const auto& t : answer["translations"]) {
      json alts = json::array();
      for (const auto& a : t.value("alternatives", json::array())) alts.push_back(a["text"]);
      out.push_back({{"text", t["text"]}, {"alternatives", alts}, {"score", t["score"]}});
    }
    return out;
  };
  auto same = [](const json& a, const json& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (a[i]["text"] != b[i]["text"] || a[i]["alternatives"] != b[i]["alternatives"] ||
          std::abs(a[i]["score"].get<double>() - b[i]["score"].get<double>()) > 1e-4)
        return false;
    return true;
  };
  std::vector<json> alone;
  for (const auto& v : variants) alone.push_back(summary(post_json(s, v)));
  for (std::size_t k = 1; k < variants.size(); ++k)
    EXPECT_FALSE(same(alone[k], alone[0])) << "variant " << variants[k].dump(-1).substr(0, 200)
                                           << " answers as the base does: the test cannot tell";
  for (int round = 0; round < 2; ++round) {
    std::vector<json> together(variants.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < variants.size(); ++k)
      threads.emplace_back([&, k] { together[k] = summary(post_json(s, variants[k])); });
    for (auto& t : threads) t.join();
    for (std::size_t k = 0; k < variants.size(); ++k)
      EXPECT_TRUE(same(together[k], alone[k]))
          << "round " << round << ", variant " << k << ": " << together[k].dump().substr(0, 300)
          << "\nalone: " << alone[k].dump().substr(0, 300);
  }
  EXPECT_EQ(s.stop(), 0);
}

// The decoding option table's messages, spelled as JSON keys (tests/test_cli_errors.cpp has the
// same values on the command line).
TEST(Serve, ABadDecodingOptionGetsTheTableMessage) {
  Server s({"--model", tiny_model(), "--threads", "1", "--precision", "fp32"});
  expect_status(post(s, R"({"text": "a", "beam": 0})"), 400,
                "\"beam\" must be an integer in [1, 64] (got 0)");
  expect_status(post(s, R"({"text": "a", "max_len": 0})"), 400,
                "\"max_len\" must be an integer in [1, 1000] (got 0)");
  expect_status(post(s, R"({"text": "a", "length_penalty": -1})"), 400,
                "\"length_penalty\" must be a number in [0, 5] (got -1)");
  expect_status(post(s, R"({"text": "a", "beam": "3"})"), 400,
                "\"beam\" must be an integer in [1, 64]");
  expect_status(post(s, R"({"text": "a", "beam": 20})"), 400, "[1, 16] on this server");
  // Only the precisions the server was asked to offer (each prepared at start).
  expect_status(post(s, R"({"text": "a", "precision": "bf16"})"), 400,
                "bf16 is not offered by this server (it offers fp32)");
  EXPECT_EQ(s.stop(), 0);
}

// "format": a text of paragraphs is cut into sentences, each translated as it is alone, and put
// back in place; each sentence's translation (with attention when asked) comes too.
TEST(Serve, FormatTextTranslatesSentenceBySentence) {
  Server s({"--model", tiny_model(), "--threads", "1"});
  const std::string text = "Ein Mann. Ein Hund.\n\n  Zwei Frauen.";
  const json a = post_json(s, {{"text", text}, {"format", "text"}, {"attention", true}, {"max_len", 3}});
  const json& t = a["translations"][0];
  ASSERT_EQ(t["sentences"].size(), 3u) << t.dump();
  std::vector<std::string> alone;
  for (const auto& sentence : {"Ein Mann.", "Ein Hund.", "Zwei Frauen."})
    alone.push_back(post_json(s, {{"text", sentence}, {"max_len", 3}})["translations"][0]["text"]);
  EXPECT_EQ(t["text"], alone[0] + " " + alone[1] + "\n\n  " + alone[2]);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(t["sentences"][k]["text"], alone[k]);
    EXPECT_FALSE(t["sentences"][k]["attention"].empty());
  }
  EXPECT_EQ(t["sentences"][2]["source"], "Zwei Frauen.");
  expect_status(post(s, R"({"text": "a", "format": "pdf"})"), 400, "\"format\"");
  EXPECT_EQ(s.stop(), 0);
}
