#include "serve/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include <filesystem>

#include "common/error.h"

namespace nmt::serve {

namespace {

// cpp-httplib as Debian builds it listens with a backlog of 5: a burst of new connections then
// overflows the accept queue and some are dropped. Listen again on our socket with a deep one.
void deepen_backlog(int port) {
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(e.path().filename().c_str());
    int listening = 0;
    socklen_t len = sizeof listening;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        getsockname(fd, (sockaddr*)&addr, &alen) != 0)
      continue;
    const int p = addr.ss_family == AF_INET    ? ntohs(((sockaddr_in*)&addr)->sin_port)
                  : addr.ss_family == AF_INET6 ? ntohs(((sockaddr_in6*)&addr)->sin6_port)
                                               : -1;
    if (p == port) ::listen(fd, 1024);
  }
}

// httplib's ThreadPool starts all its threads before the first accept (hundreds of them take a
// while on a loaded machine, and connections wait meanwhile); this one starts a thread when a
// connection finds none idle, up to max, and keeps it. Queued connections wait for a thread.
class GrowingPool : public httplib::TaskQueue {
 public:
  explicit GrowingPool(int max) : max_(max) {}
  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(fn));
    if (idle_ < (int)jobs_.size() && (int)threads_.size() < max_)
      threads_.emplace_back([this] { work(); });
    cv_.notify_one();
  }
  void shutdown() override {  // finishes the queued connections, then joins
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // stopping
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

}  // namespace

HttpServer::HttpServer(const HttpLimits& limits) {
  const int threads = std::max(1, limits.threads);
  new_task_queue = [threads] { return new GrowingPool(threads); };
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a second server on
  // a busy port binds too and the kernel splits the connections between them. TCP_NODELAY on
  // the listening socket: Linux copies it to every accepted socket (tests/test_serve.cpp reads
  // it back from a connection), and httplib has no hook on the accepted socket itself.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  set_payload_max_length(limits.max_body);
  set_read_timeout(limits.io_timeout_s, 0);
  set_write_timeout(limits.io_timeout_s, 0);
  set_keep_alive_timeout(limits.keep_alive_s);
  set_keep_alive_max_count((std::size_t)std::max(1, limits.keep_alive_max));
}

int HttpServer::bind(const std::string& host, int port) {
  if (port == 0) {
    port = bind_to_any_port(host);
    if (port < 0) throw Error(host + ": cannot bind a port");
  } else if (!bind_to_port(host, port)) {
    throw Error(host + ":" + std::to_string(port) + ": cannot bind (in use, or no such address)");
  }
  deepen_backlog(port);
  return port;
}

}  // namespace nmt::serve
