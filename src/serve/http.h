#pragma once
// The HTTP server under `nmt serve`: cpp-httplib's Server with the socket settings a service
// with keep-alive clients needs. Every accepted connection gets TCP_NODELAY (an answer is one
// write, sent at once instead of waiting for the client's delayed ACK: 40 ms per request
// otherwise); keep-alive connections are bounded in idle time and requests; the listening socket
// has a deep backlog and SO_REUSEADDR without SO_REUSEPORT.
#include <httplib.h>

#include <string>

namespace nmt::serve {

struct HttpLimits {
  int threads = 512;           // connections served at once (a keep-alive client holds one)
  std::size_t max_body = 1 << 20;  // bytes per request body
  int io_timeout_s = 10;       // reading a request / writing an answer
  int keep_alive_s = 5;        // an idle keep-alive connection is closed after this
  int keep_alive_max = 1000;   // requests per connection at most, then it is closed
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(const HttpLimits& limits);
  // Binds host:port (0: any free port) and returns the port; throws nmt::Error when it cannot.
  int bind(const std::string& host, int port);
};

}  // namespace nmt::serve
