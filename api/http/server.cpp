// The only translation unit that includes Beast (DESIGN.md: ~45 s to compile). Shape
// after Beast's advanced server examples: one class per connection role, handlers
// bound to shared_from_this(), one strand per socket, other threads reach a session
// only by posting to its executor, at most one write in flight, a bounded queue.
#include "api/http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace hotline::api {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct shared_state {
  http_handler& http;
  ws_acceptor& ws;
  server_metrics& metrics;
  server_options opts;
  std::atomic<uint64_t> next_ws_id{1};
  std::mutex sockets_mutex;
  std::map<uint64_t, std::weak_ptr<ws_connection>> sockets;  // guarded by sockets_mutex
  std::atomic<bool> stopping{false};
};

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

request to_request(const http::request<http::string_body>& req, const std::string& remote, bool secure) {
  request out;
  out.method = std::string(req.method_string());
  std::string_view target = req.target();
  auto q = target.find('?');
  out.path = percent_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      auto eq = pair.find('=');
      out.query[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    }
  }
  out.body = req.body();
  out.remote = remote;
  out.authorization = std::string(req[http::field::authorization]);
  out.cookie = std::string(req[http::field::cookie]);
  out.content_type = std::string(req[http::field::content_type]);
  out.range = std::string(req[http::field::range]);
  out.secure = secure;
  return out;
}

http::response<http::string_body> to_beast(const response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "hotline");
  if (r.status != 204) res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string endpoint_string(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  auto addr = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
}

// ---------------------------------------------------------------- WebSocket sessions

template <class Derived>
class websocket_session : public ws_connection, public std::enable_shared_from_this<websocket_session<Derived>> {
 public:
  websocket_session(std::shared_ptr<shared_state> state, std::string remote)
      : state_(std::move(state)), id_(state_->next_ws_id++), remote_(std::move(remote)) {}

  ~websocket_session() override {
    if (opened_) {
      state_->metrics.ws_connections_open.fetch_sub(1, std::memory_order_relaxed);
      std::lock_guard lock(state_->sockets_mutex);
      state_->sockets.erase(id_);
    }
  }

  uint64_t id() const override { return id_; }

  void start(http::request<http::string_body> req, bool secure) {
    auto plain = to_request(req, remote_, secure);
    auto accepted = state_->ws.accept(plain, this->weak_from_this());
    if (auto* e = error_of(accepted)) return refuse(*e, req.version());
    endpoint_ = std::move(std::get<std::unique_ptr<ws_endpoint>>(accepted));
    auto& ws = derived().ws();
    beast::get_lowest_layer(ws).expires_never();  // the websocket's own timeouts take over
    // Idle timeout with keep-alive pings: a dead peer is found within ~5 minutes.
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "hotline"); }));
    ws.read_message_max(state_->opts.ws_message_limit);
    ws.async_accept(req, beast::bind_front_handler(&websocket_session::on_accept, this->shared_from_this()));
  }

  bool send(std::shared_ptr<const std::string> frame) override { return enqueue(std::move(frame), false); }
  bool send_binary(std::shared_ptr<const std::string> frame) override { return enqueue(std::move(frame), true); }

  bool enqueue(std::shared_ptr<const std::string> frame, bool binary) {
    if (closed_.load(std::memory_order_acquire)) return false;
    if (pending_.fetch_add(1, std::memory_order_acq_rel) >= state_->opts.ws_queue_limit) {
      pending_.fetch_sub(1, std::memory_order_acq_rel);
      state_->metrics.ws_dropped_slow.fetch_add(1, std::memory_order_relaxed);
      close(static_cast<uint16_t>(websocket::close_code::policy_error), "slow consumer");
      return false;
    }
    net::post(derived().ws().get_executor(), [self = this->shared_from_this(), frame = std::move(frame), binary] {
      self->queue_.push_back({std::move(frame), binary});
      if (self->queue_.size() == 1) self->do_write();
    });
    return true;
  }

  void close(uint16_t code, std::string reason) override {
    if (closed_.exchange(true, std::memory_order_acq_rel)) return;
    net::post(derived().ws().get_executor(), [self = this->shared_from_this(), code, reason = std::move(reason)] {
      if (!self->accepted_) return;
      self->derived().ws().async_close(websocket::close_reason(static_cast<websocket::close_code>(code), reason),
                                       [self](beast::error_code) { self->teardown(); });
      // A client that stopped reading cannot receive the close frame: cut it off.
      self->teardown_timer_->expires_after(std::chrono::seconds(3));
      self->teardown_timer_->async_wait([self](beast::error_code ec) {
        if (!ec) self->teardown();
      });
    });
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }

 private:
  void refuse(const api_error& e, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(to_beast(response::error(e), version, false));
    http::async_write(derived().ws().next_layer(), *res,
                      [self = this->shared_from_this(), res](beast::error_code, size_t) { self->teardown(); });
  }

  void on_accept(beast::error_code ec) {
    if (ec) return;
    accepted_ = true;
    opened_ = true;
    teardown_timer_.emplace(derived().ws().get_executor());
    state_->metrics.ws_connections_open.fetch_add(1, std::memory_order_relaxed);
    state_->metrics.ws_connections_total.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(state_->sockets_mutex);
      state_->sockets[id_] = this->weak_from_this();
    }
    if (state_->stopping) return close(static_cast<uint16_t>(websocket::close_code::going_away), "server shutting down");
    do_read();
  }

  void do_read() {
    derived().ws().async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec) return finish();
    state_->metrics.ws_frames_in.fetch_add(1, std::memory_order_relaxed);
    auto data = buffer_.cdata();
    if (!derived().ws().got_text()) {
      endpoint_->on_binary(std::string(static_cast<const char*>(data.data()), data.size()));
    } else {
      endpoint_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    do_read();
  }

  void do_write() {
    derived().ws().text(!queue_.front().binary);
    derived().ws().async_write(net::buffer(*queue_.front().frame),
                               beast::bind_front_handler(&websocket_session::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    queue_.pop_front();
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    if (ec) return finish();
    state_->metrics.ws_frames_out.fetch_add(1, std::memory_order_relaxed);
    if (!queue_.empty()) do_write();
  }

  void finish() {
    closed_.store(true, std::memory_order_release);
    if (endpoint_ && !finished_) {
      finished_ = true;
      endpoint_->on_close();
    }
  }

  void teardown() {
    finish();
    if (teardown_timer_) teardown_timer_->cancel();  // it holds a reference to this session
    beast::error_code ec;
    beast::get_lowest_layer(derived().ws()).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(derived().ws()).close();
  }

  std::shared_ptr<shared_state> state_;
  uint64_t id_;
  std::string remote_;
  std::unique_ptr<ws_endpoint> endpoint_;
  beast::flat_buffer buffer_;
  struct queued {
    std::shared_ptr<const std::string> frame;
    bool binary = false;
  };
  std::deque<queued> queue_;    // strand only
  std::atomic<size_t> pending_{0};                        // queued + posted frames
  std::atomic<bool> closed_{false};
  std::optional<net::steady_timer> teardown_timer_;  // strand only, from accept on
  bool accepted_ = false;  // strand only
  bool opened_ = false;
  bool finished_ = false;  // strand only
};

class plain_websocket_session final : public websocket_session<plain_websocket_session> {
 public:
  plain_websocket_session(beast::tcp_stream&& s, std::shared_ptr<shared_state> st, std::string remote)
      : websocket_session(std::move(st), std::move(remote)), ws_(std::move(s)) {}
  websocket::stream<beast::tcp_stream>& ws() { return ws_; }

 private:
  websocket::stream<beast::tcp_stream> ws_;
};

class ssl_websocket_session final : public websocket_session<ssl_websocket_session> {
 public:
  ssl_websocket_session(beast::ssl_stream<beast::tcp_stream>&& s, std::shared_ptr<shared_state> st, std::string remote)
      : websocket_session(std::move(st), std::move(remote)), ws_(std::move(s)) {}
  websocket::stream<beast::ssl_stream<beast::tcp_stream>>& ws() { return ws_; }

 private:
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
};

// ---------------------------------------------------------------- HTTP sessions

template <class Derived>
class http_session {
 public:
  http_session(std::shared_ptr<shared_state> state, std::string remote, beast::flat_buffer buffer = {})
      : state_(std::move(state)), remote_(std::move(remote)), buffer_(std::move(buffer)) {
    state_->metrics.http_connections_open.fetch_add(1, std::memory_order_relaxed);
    state_->metrics.http_connections_total.fetch_add(1, std::memory_order_relaxed);
  }
  ~http_session() { state_->metrics.http_connections_open.fetch_sub(1, std::memory_order_relaxed); }

  void do_read() {
    if (state_->stopping) return derived().do_eof();
    parser_.emplace();
    parser_->body_limit(state_->opts.body_limit);  // limits before every read (house rule)
    parser_->header_limit(16 * 1024);
    beast::get_lowest_layer(derived().stream()).expires_after(std::chrono::seconds(state_->opts.request_timeout_s));
    http::async_read(derived().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, derived().shared_from_this()));
  }

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }

 private:
  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return derived().do_eof();
    if (ec == http::error::body_limit)
      return write(response::error({413, "too_large", "the request body exceeds " +
                                                         std::to_string(state_->opts.body_limit) + " bytes"}),
                   11, false);
    if (ec) {
      // A malformed request gets a 400 naming the problem; a timeout or reset just ends.
      if (ec.category() == http::make_error_code(http::error::bad_target).category())
        return write(response::error(bad_request("bad_http", "malformed HTTP request: " + ec.message())), 11, false);
      return;
    }
    auto req = parser_->release();
    if (websocket::is_upgrade(req)) {
      auto target = std::string_view(req.target());
      if (target.substr(0, target.find('?')) != "/ws")
        return write(response::error({404, "not_found", "WebSocket upgrades are served at /ws"}), req.version(), false);
      return derived().upgrade(std::move(req));
    }
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    auto plain = to_request(req, remote_, Derived::secure);
    // The handler may answer from any thread: hop back onto this connection's strand.
    state_->http.handle(std::move(plain), [self = derived().shared_from_this(), keep_alive, version](response res) {
      auto exec = self->stream().get_executor();
      net::post(exec, [self, res = std::move(res), keep_alive, version]() mutable {
        self->write(std::move(res), version, keep_alive);
      });
    });
  }

  void write(response r, unsigned version, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(to_beast(r, version, keep_alive));
    beast::get_lowest_layer(derived().stream()).expires_after(std::chrono::seconds(state_->opts.request_timeout_s));
    http::async_write(derived().stream(), *res,
                      [self = derived().shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (!keep_alive) return self->do_eof();
                        self->do_read();
                      });
  }

 protected:
  std::shared_ptr<shared_state> state_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

class plain_http_session final : public http_session<plain_http_session>,
                                 public std::enable_shared_from_this<plain_http_session> {
 public:
  static constexpr bool secure = false;
  plain_http_session(tcp::socket&& s, std::shared_ptr<shared_state> st)
      : http_session(std::move(st), endpoint_string(s)), stream_(std::move(s)) {}
  void run() { do_read(); }
  beast::tcp_stream& stream() { return stream_; }
  void do_eof() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  void upgrade(http::request<http::string_body> req) {
    std::make_shared<plain_websocket_session>(std::move(stream_), state_, remote_)->start(std::move(req), false);
  }

 private:
  beast::tcp_stream stream_;
};

class ssl_http_session final : public http_session<ssl_http_session>,
                               public std::enable_shared_from_this<ssl_http_session> {
 public:
  static constexpr bool secure = true;
  ssl_http_session(tcp::socket&& s, ssl::context& ctx, std::shared_ptr<shared_state> st)
      : http_session(std::move(st), endpoint_string(s)), stream_(std::move(s), ctx) {}
  void run() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(state_->opts.request_timeout_s));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (!ec) self->do_read();
                            });
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  void do_eof() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }
  void upgrade(http::request<http::string_body> req) {
    std::make_shared<ssl_websocket_session>(std::move(stream_), state_, remote_)->start(std::move(req), true);
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

// ---------------------------------------------------------------- listener and server

class server_impl final : public http_server {
 public:
  server_impl(const server_options& opts, http_handler& h, ws_acceptor& ws, server_metrics& m)
      : state_(std::make_shared<shared_state>(h, ws, m, opts)), ioc_(static_cast<int>(opts.io_threads)),
        acceptor_(net::make_strand(ioc_)) {}

  bool open(std::error_code& ec, std::string& detail) {
    const auto& o = state_->opts;
    if (!o.tls_cert.empty()) {
      tls_.emplace(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
      beast::error_code bec;
      tls_->use_certificate_chain_file(o.tls_cert, bec);
      if (!bec) tls_->use_private_key_file(o.tls_key, ssl::context::pem, bec);
      if (bec) {
        ec = bec;
        detail = "TLS certificate/key (" + o.tls_cert + ", " + o.tls_key + "): " + bec.message();
        return false;
      }
    }
    beast::error_code bec;
    auto addr = net::ip::make_address(o.listen, bec);
    if (bec) {
      ec = bec;
      detail = "bad listen address '" + o.listen + "'";
      return false;
    }
    tcp::endpoint ep{addr, o.port};
    acceptor_.open(ep.protocol(), bec);
    if (!bec) acceptor_.set_option(net::socket_base::reuse_address(true), bec);
    if (!bec) acceptor_.bind(ep, bec);
    if (!bec) acceptor_.listen(net::socket_base::max_listen_connections, bec);
    if (bec) {
      ec = bec;
      detail = "cannot listen on " + o.listen + ":" + std::to_string(o.port) + ": " + bec.message();
      return false;
    }
    port_ = acceptor_.local_endpoint().port();
    do_accept();
    for (size_t i = 0; i < std::max<size_t>(1, o.io_threads); ++i) threads_.emplace_back([this] { ioc_.run(); });
    return true;
  }

  uint16_t port() const override { return port_; }

  void stop(int grace_ms) override {
    if (stopped_) return;
    stopped_ = true;
    state_->stopping = true;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    std::vector<std::shared_ptr<ws_connection>> open;
    {
      std::lock_guard lock(state_->sockets_mutex);
      for (auto& [id, w] : state_->sockets)
        if (auto s = w.lock()) open.push_back(std::move(s));
    }
    for (auto& s : open) s->close(static_cast<uint16_t>(websocket::close_code::going_away), "server shutting down");
    open.clear();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (std::chrono::steady_clock::now() < deadline &&
           (state_->metrics.ws_connections_open.load() > 0 || state_->metrics.http_connections_open.load() > 0))
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  ~server_impl() override { stop(0); }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        socket.set_option(tcp::no_delay(true), ec);
        if (tls_) std::make_shared<ssl_http_session>(std::move(socket), *tls_, state_)->run();
        else std::make_shared<plain_http_session>(std::move(socket), state_)->run();
      }
      do_accept();
    });
  }

  std::shared_ptr<shared_state> state_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<http_server> http_server::start(const server_options& opts, http_handler& http, ws_acceptor& ws,
                                                server_metrics& metrics, std::error_code& ec, std::string& detail) {
  auto s = std::make_unique<server_impl>(opts, http, ws, metrics);
  if (!s->open(ec, detail)) return nullptr;
  return s;
}

}  // namespace hotline::api
