#pragma once
// HTTP requests and responses as plain values, so that routing and every endpoint
// compile without Beast: only server.cpp speaks Beast (DESIGN.md: build cost).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/pubsub/subscriber.hpp"
#include "api/http/error.hpp"

namespace hotline::api {

struct request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query
  std::map<std::string, std::string> query;
  std::string body;
  std::string remote;  // "ip:port"
  std::string authorization;
  std::string cookie;
  std::string content_type;
  std::string range;    // the Range header ("bytes=0-"), for media a browser seeks in
  bool secure = false;  // arrived over TLS

  // The session token from "Authorization: Bearer ..." or the hotline_session cookie.
  std::string token() const;
  // The client's IP without the port.
  std::string remote_ip() const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static response json(int status, std::string body);
  static response error(const api_error& e);
  static response no_content();
};

using respond_fn = std::function<void(response)>;

class http_handler {
 public:
  virtual ~http_handler() = default;
  // Runs on the I/O thread: must not block. `respond` may be called from any thread,
  // exactly once.
  virtual void handle(request req, respond_fn respond) = 0;
};

// A WebSocket connection as endpoints see it. The server's session implements it.
class ws_connection : public actors::subscriber {
 public:
  // Queues a text frame; false if the connection is closed or over its queue limit (it
  // is then being closed with 1008 "slow consumer"). Callable from any thread.
  virtual bool send(std::shared_ptr<const std::string> frame) = 0;
  virtual bool send_binary(std::shared_ptr<const std::string> frame) = 0;  // same queue and limit
  virtual void close(uint16_t code, std::string reason) = 0;
  bool deliver(std::shared_ptr<const std::string> frame) override { return send(std::move(frame)); }
  bool deliver_binary(std::shared_ptr<const std::string> frame) override { return send_binary(std::move(frame)); }
};

// What happens on one accepted WebSocket.
class ws_endpoint {
 public:
  virtual ~ws_endpoint() = default;
  virtual void on_text(std::string_view message) = 0;  // I/O thread; must not block
  virtual void on_binary(std::string message) = 0;     // same
  virtual void on_close() = 0;
};

class ws_acceptor {
 public:
  virtual ~ws_acceptor() = default;
  // Called with the upgrade request before the handshake: an error refuses the upgrade
  // with that HTTP status (401 without a session, 403 without the role).
  virtual result<std::unique_ptr<ws_endpoint>> accept(const request& req, std::weak_ptr<ws_connection> conn) = 0;
};

}  // namespace hotline::api
