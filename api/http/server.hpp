#pragma once
// The HTTP + WebSocket server (Boost.Beast) on one port, plain or TLS. This header is
// Beast-free; only server.cpp includes Beast and Asio.
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "api/http/message.hpp"
#include "api/http/metrics.hpp"

namespace hotline::api {

struct server_options {
  std::string listen = "0.0.0.0";
  uint16_t port = 8080;  // 0: any free port (tests)
  size_t body_limit = 1 << 20;
  uint32_t request_timeout_s = 30;
  size_t ws_message_limit = 64 << 10;
  size_t ws_queue_limit = 256;
  std::string tls_cert;  // PEM files; set both for https/wss (plain HTTP is then refused)
  std::string tls_key;
  size_t io_threads = 1;
};

class http_server {
 public:
  // Binds and starts serving on its own I/O thread(s).
  static std::unique_ptr<http_server> start(const server_options& opts, http_handler& http, ws_acceptor& ws,
                                            server_metrics& metrics, std::error_code& ec, std::string& error_detail);
  virtual ~http_server() = default;
  virtual uint16_t port() const = 0;
  // Stops accepting, closes every WebSocket with 1001 "server shutting down", lets
  // responses in flight finish (up to `grace_ms`), then stops the I/O threads.
  virtual void stop(int grace_ms) = 0;
};

}  // namespace hotline::api
