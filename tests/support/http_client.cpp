#include "tests/support/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>

namespace hotline::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

std::string reply::error_code() const {
  auto* o = body.if_object();
  auto* e = o ? o->if_contains("error") : nullptr;
  auto* c = e && e->is_object() ? e->as_object().if_contains("code") : nullptr;
  return c && c->is_string() ? std::string(c->as_string()) : "";
}

reply call(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
           const std::string& token) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  beast::error_code ec;
  http::read(stream, buf, parser, ec);
  auto& res = parser.get();
  reply r;
  r.status = res.result_int();
  r.raw = res.body();
  r.set_cookie = std::string(res[http::field::set_cookie]);
  r.content_type = std::string(res[http::field::content_type]);
  boost::system::error_code jec;
  if (!r.raw.empty() && r.content_type == "application/json") r.body = json::parse(r.raw, jec);
  return r;
}

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  // A read that timed out stays pending (cancelling a websocket read fails the stream);
  // the next read() waits for it.
  beast::flat_buffer buf;
  bool pending = false, done = false, binary = false;
  beast::error_code ec;
};

ws_client::ws_client() : impl_(std::make_unique<impl>()) {}
ws_client::~ws_client() = default;

int ws_client::connect(uint16_t port, const std::string& token) {
  auto& ws = impl_->ws;
  beast::get_lowest_layer(ws).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type res;
  beast::error_code ec;
  ws.handshake(res, "127.0.0.1", "/ws", ec);
  return ec ? res.result_int() : 101;
}

void ws_client::send(const std::string& text) { impl_->ws.write(net::buffer(text)); }

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  auto& i = *impl_;
  if (!i.pending) {
    i.pending = true;
    i.done = false;
    i.buf.clear();
    i.ws.async_read(i.buf, [&i](beast::error_code e, size_t) {
      i.ec = e;
      i.done = true;
    });
  }
  i.ioc.restart();
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!i.done && std::chrono::steady_clock::now() < until) i.ioc.run_one_until(until);
  if (!i.done) return std::nullopt;
  i.pending = false;
  if (i.ec) return std::nullopt;
  i.binary = i.ws.got_binary();
  return beast::buffers_to_string(i.buf.data());
}

json::object ws_client::read_json(std::chrono::milliseconds timeout) {
  auto m = read(timeout);
  if (!m) return {};
  boost::system::error_code ec;
  auto v = json::parse(*m, ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

uint16_t ws_client::close_code() const { return impl_->ws.reason().code; }
bool ws_client::got_binary() const { return impl_->binary; }
void ws_client::send_binary(const std::string& bytes) {
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(bytes));
  impl_->ws.text(true);
}

}  // namespace hotline::test
