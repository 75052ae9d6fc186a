#pragma once
// A small HTTP and WebSocket client for tests, over real loopback sockets. Beast lives
// in http_client.cpp only, so test files that use this stay cheap to compile.
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hotline::test {

struct reply {
  int status = 0;
  boost::json::value body;  // parsed when the response is JSON
  std::string raw;
  std::string set_cookie;
  std::string content_type;
  std::string error_code() const;  // body.error.code, or ""
};

reply call(uint16_t port, const std::string& method, const std::string& target, const std::string& body = {},
           const std::string& token = {});

class ws_client {
 public:
  ws_client();
  ~ws_client();
  // The HTTP status of a refused upgrade, or 101.
  int connect(uint16_t port, const std::string& token);
  void send(const std::string& text);
  // The next message; nullopt on timeout or close.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  boost::json::object read_json(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  uint16_t close_code() const;  // the peer's close code after read() returned nullopt
  bool got_binary() const;      // the last message read was binary
  void send_binary(const std::string& bytes);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hotline::test
