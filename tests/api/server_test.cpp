// The HTTP/WebSocket API driven the way a client drives it: real sockets on loopback,
// a Beast HTTP and WebSocket client, the real application (storage, actors, server).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "actors/pubsub/subscriber.hpp"
#include "api/app/app.hpp"
#include "storage/env.hpp"
#include "storage/tables.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

namespace json = boost::json;
using namespace std::chrono_literals;
using hotline::test::call;
using hotline::test::reply;
using hotline::test::ws_client;

namespace {

std::string login_body(const std::string& user, const std::string& pw) {
  return json::serialize(json::object{{"username", user}, {"password", pw}});
}

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.server.data_dir = dir_.sub("data");
    cfg_.http.listen = "127.0.0.1";
    cfg_.http.port = 0;
    cfg_.sip.listen = "127.0.0.1";  // SIP on a free port: tests run side by side
    cfg_.sip.port = 0;
    cfg_.http.body_limit = 8 * 1024;
    cfg_.http.ws_message_limit = 4 * 1024;
    cfg_.http.ws_queue_limit = 8;
    cfg_.auth.kdf_iterations = 1000;  // the KDF's cost is not what these tests are about
    cfg_.auth.lockout_after = 3;
    cfg_.runtime.workers = 2;
    start();
  }
  void start() {
    std::string error;
    app_ = hotline::app::application::start(cfg_, error);
    ASSERT_TRUE(app_) << error;
    port_ = app_->http_port();
    if (auto pw = app_->bootstrap_admin()) admin_password_ = *pw;
  }
  std::string login(const std::string& user, const std::string& pw) {
    auto r = call(port_, "POST", "/v1/auth/login", login_body(user, pw));
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.status == 200 ? std::string(r.body.at("token").as_string()) : "";
  }
  std::string admin() { return login("admin", admin_password_); }
  void add_user(const std::string& token, const std::string& name, const std::string& roles_json,
                const std::string& site = "demo") {
    auto r = call(port_, "POST", "/v1/users",
                  R"({"username":")" + name + R"(","password":"a-long-password","roles":)" + roles_json +
                      R"(,"site":")" + site + R"("})",
                  token);
    ASSERT_EQ(r.status, 201) << r.raw;
  }

  hotline::test::temp_dir dir_;
  hotline::config::config cfg_;
  std::unique_ptr<hotline::app::application> app_;
  uint16_t port_ = 0;
  std::string admin_password_;
};

TEST_F(Api, HealthzAndUnknownRoutes) {
  auto h = call(port_, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body.at("status").as_string(), "ok");
  auto nf = call(port_, "GET", "/v1/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.error_code(), "not_found");
  EXPECT_EQ(call(port_, "DELETE", "/healthz").status, 405);
}

TEST_F(Api, EveryApiRequestNeedsASession) {
  EXPECT_EQ(call(port_, "GET", "/v1/me").status, 401);
  EXPECT_EQ(call(port_, "GET", "/v1/me", {}, "forged-token").status, 401);
  EXPECT_EQ(call(port_, "GET", "/v1/users").error_code(), "unauthorized");
}

TEST_F(Api, LoginSessionLogout) {
  auto r = call(port_, "POST", "/v1/auth/login", login_body("admin", admin_password_));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_NE(r.set_cookie.find("HttpOnly"), std::string::npos);
  std::string token(r.body.at("token").as_string());
  EXPECT_EQ(call(port_, "GET", "/v1/me", {}, token).body.at("username").as_string(), "admin");
  EXPECT_EQ(call(port_, "POST", "/v1/auth/logout", {}, token).status, 204);
  EXPECT_EQ(call(port_, "GET", "/v1/me", {}, token).status, 401);
  auto bad = call(port_, "POST", "/v1/auth/login", login_body("admin", "wrong-password"));
  EXPECT_EQ(bad.status, 401);
  auto nobody = call(port_, "POST", "/v1/auth/login", login_body("nobody", "wrong-password"));
  EXPECT_EQ(nobody.raw, bad.raw);  // no hint whether the user exists
}

TEST_F(Api, BadInputGetsAClearErrorAndTheServerKeepsServing) {
  auto tok = admin();
  auto syntax = call(port_, "POST", "/v1/users", R"({"username": "x",)", tok);
  EXPECT_EQ(syntax.status, 400);
  EXPECT_EQ(syntax.error_code(), "bad_json");
  auto type = call(port_, "POST", "/v1/users", R"({"username": 7})", tok);
  EXPECT_EQ(type.error_code(), "wrong_type");
  EXPECT_EQ(type.body.at("error").at("field").as_string(), "username");
  auto role = call(port_, "POST", "/v1/users",
                   R"({"username":"x","password":"a-long-password","roles":["wizard"]})", tok);
  EXPECT_EQ(role.error_code(), "invalid_value");
  auto big = call(port_, "POST", "/v1/users", std::string(20000, ' ') + "{}", tok);
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.error_code(), "too_large");
  EXPECT_EQ(call(port_, "GET", "/healthz").status, 200);
}

TEST_F(Api, RolesAreEnforcedServerSide) {
  auto tok = admin();
  add_user(tok, "agent1", R"(["agent"])");
  add_user(tok, "hzadmin", R"(["site_admin"])", "hz");
  auto agent = login("agent1", "a-long-password");
  EXPECT_EQ(call(port_, "POST", "/v1/users",
                 R"({"username":"x","password":"a-long-password","roles":["agent"]})", agent)
                .status,
            403);
  EXPECT_EQ(call(port_, "GET", "/v1/audit", {}, agent).status, 403);
  // N-60: a site admin works within their own site.
  auto hz = login("hzadmin", "a-long-password");
  auto other_site = call(port_, "POST", "/v1/users",
                         R"({"username":"y","password":"a-long-password","roles":["agent"],"site":"demo"})", hz);
  EXPECT_EQ(other_site.status, 403);
  auto users = call(port_, "GET", "/v1/users", {}, hz);
  ASSERT_EQ(users.status, 200);
  for (auto& u : users.body.at("items").as_array()) EXPECT_EQ(u.at("site").as_string(), "hz");
}

TEST_F(Api, RepeatedFailedLoginsLockTheAccount) {
  auto tok = admin();
  add_user(tok, "agent2", R"(["agent"])");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(call(port_, "POST", "/v1/auth/login", login_body("agent2", "nope-nope-nope")).status, 401);
  auto locked = call(port_, "POST", "/v1/auth/login", login_body("agent2", "a-long-password"));
  EXPECT_EQ(locked.status, 423);
  EXPECT_EQ(locked.error_code(), "locked");
  // An admin resetting the password lifts the lock.
  EXPECT_EQ(call(port_, "PUT", "/v1/users/agent2/password", R"({"password":"another-long-one"})", tok).status,
            204);
  EXPECT_FALSE(login("agent2", "another-long-one").empty());
}

TEST_F(Api, AnAcknowledgedWriteIsOnDisk) {
  auto tok = admin();
  add_user(tok, "durable", R"(["supervisor"])");
  app_.reset();  // the process could die here: the 201 was sent after the fsync
  std::error_code ec;
  auto env = hotline::storage::env::open({.dir = cfg_.server.data_dir, .read_only = true}, ec);
  ASSERT_TRUE(env) << ec.message();
  auto txn = env->read();
  EXPECT_TRUE(txn.get(hotline::storage::table::users, "durable"));
  bool audited = false;
  txn.scan(hotline::storage::table::audit, {}, {}, [&](std::string_view, std::string_view v) {
    audited = audited || std::string(v).find(R"("action":"user.create","target":"durable")") != std::string::npos;
    return true;
  });
  EXPECT_TRUE(audited);
}

TEST_F(Api, AuditLogPagesNewestFirst) {
  auto tok = admin();
  for (int i = 0; i < 3; ++i) add_user(tok, "u" + std::to_string(i), R"(["agent"])");
  auto page1 = call(port_, "GET", "/v1/audit?limit=2", {}, tok);
  ASSERT_EQ(page1.status, 200) << page1.raw;
  auto& items = page1.body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("target").as_string(), "u2");
  EXPECT_EQ(items[0].at("action").as_string(), "user.create");
  auto cursor = std::string(page1.body.at("next_cursor").as_string());
  auto page2 = call(port_, "GET", "/v1/audit?limit=2&cursor=" + cursor, {}, tok);
  EXPECT_EQ(page2.body.at("items").as_array()[0].at("target").as_string(), "u0");
}

TEST_F(Api, MetricsInPrometheusFormat) {
  admin();
  auto m = call(port_, "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(m.raw.find("hotline_storage_commit_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
  EXPECT_NE(m.raw.find("hotline_http_request_seconds_count"), std::string::npos);
  EXPECT_NE(m.raw.find("hotline_http_connections_open"), std::string::npos);
}

TEST_F(Api, WebSocketNeedsASession) {
  ws_client ws;
  EXPECT_EQ(ws.connect(port_, ""), 401);
  ws_client forged;
  EXPECT_EQ(forged.connect(port_, "forged"), 401);
}

TEST_F(Api, WebSocketSubscribeAndReceiveLiveAuditEvents) {
  auto tok = admin();
  add_user(tok, "agent3", R"(["agent"])");
  ws_client ws;
  ASSERT_EQ(ws.connect(port_, tok), 101);
  ws.send(R"({"type":"subscribe","topic":"audit"})");
  auto ack = ws.read_json();
  EXPECT_EQ(ack["type"].as_string(), "subscribed");
  login("agent3", "a-long-password");
  auto ev = ws.read_json();
  ASSERT_EQ(ev["type"].as_string(), "event") << json::serialize(ev);
  EXPECT_EQ(ev["topic"].as_string(), "audit");
  EXPECT_EQ(ev["seq"].as_int64(), 1);
  EXPECT_EQ(ev["data"].at("action").as_string(), "login.ok");
  EXPECT_EQ(ev["data"].at("target").as_string(), "agent3");

  ws.send(R"({"type":"ping","id":42})");
  EXPECT_EQ(ws.read_json()["id"].as_int64(), 42);
}

TEST_F(Api, WebSocketErrorsKeepTheConnection) {
  auto tok = admin();
  add_user(tok, "agent4", R"(["agent"])");
  ws_client ws;
  ASSERT_EQ(ws.connect(port_, login("agent4", "a-long-password")), 101);
  ws.send("{not json");
  EXPECT_EQ(ws.read_json()["code"].as_string(), "bad_json");
  ws.send(R"({"type":"subscribe","topic":"audit"})");  // agents may not watch the audit log
  EXPECT_EQ(ws.read_json()["code"].as_string(), "forbidden");
  ws.send(R"({"type":"subscribe","topic":"no.such.topic"})");
  EXPECT_EQ(ws.read_json()["code"].as_string(), "unknown_topic");
  ws.send(R"({"type":"ping","id":1})");
  EXPECT_EQ(ws.read_json()["type"].as_string(), "pong");
}

// N-60: a node is one site. An admin or supervisor of another site may hold an account
// here, but the audit log and the phones' registrations are not theirs to watch.
TEST_F(Api, WebSocketTopicsOfThisSiteAreRefusedToOtherSites) {
  auto tok = admin();
  add_user(tok, "hzadmin2", R"(["site_admin"])", "hz");
  add_user(tok, "hzlead", R"(["supervisor"])", "hz");
  ws_client admin_ws, lead_ws;
  ASSERT_EQ(admin_ws.connect(port_, login("hzadmin2", "a-long-password")), 101);
  admin_ws.send(R"({"type":"subscribe","topic":"audit"})");
  EXPECT_EQ(admin_ws.read_json()["code"].as_string(), "forbidden");
  ASSERT_EQ(lead_ws.connect(port_, login("hzlead", "a-long-password")), 101);
  lead_ws.send(R"({"type":"subscribe","topic":"phones"})");
  EXPECT_EQ(lead_ws.read_json()["code"].as_string(), "forbidden");
  ws_client own;  // this site's admin still may
  ASSERT_EQ(own.connect(port_, tok), 101);
  own.send(R"({"type":"subscribe","topic":"phones"})");
  EXPECT_EQ(own.read_json()["type"].as_string(), "subscribed");
}

// A console's socket outlives no logout: its next message (the consoles ping every 25 s)
// finds the session gone and the socket is closed with 1008.
TEST_F(Api, WebSocketEndsWithItsSession) {
  auto tok = admin();
  ws_client ws;
  ASSERT_EQ(ws.connect(port_, tok), 101);
  ws.send(R"({"type":"ping","id":1})");
  EXPECT_EQ(ws.read_json()["type"].as_string(), "pong");
  EXPECT_EQ(call(port_, "POST", "/v1/auth/logout", {}, tok).status, 204);
  ws.send(R"({"type":"ping","id":2})");
  EXPECT_FALSE(ws.read());
  EXPECT_EQ(ws.close_code(), 1008);
}

TEST_F(Api, WebSocketOversizeMessageIsClosedWith1009) {
  ws_client ws;
  ASSERT_EQ(ws.connect(port_, admin()), 101);
  ws.send(std::string(8 * 1024, 'x'));
  EXPECT_FALSE(ws.read());
  EXPECT_EQ(ws.close_code(), 1009);
}

TEST_F(Api, SlowWebSocketClientIsDroppedNotBuffered) {
  auto tok = admin();
  ws_client slow;
  ASSERT_EQ(slow.connect(port_, tok), 101);
  slow.send(R"({"type":"subscribe","topic":"system"})");
  EXPECT_EQ(slow.read_json()["type"].as_string(), "subscribed");
  // The client stops reading; the server's queue limit is 8 frames.
  std::string payload = "\"" + std::string(256 * 1024, 'a') + "\"";
  for (int i = 0; i < 200; ++i) app_->hub().publish("system", payload);
  bool dropped = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !dropped && std::chrono::steady_clock::now() < deadline;)
    dropped = call(port_, "GET", "/metrics").raw.find("hotline_ws_dropped_slow_total 0") == std::string::npos;
  EXPECT_TRUE(dropped);
  // Draining now ends in a close (or a reset), never in 200 frames.
  int frames = 0;
  while (slow.read(3s)) ++frames;
  EXPECT_LT(frames, 200);
}

TEST_F(Api, ShutdownTellsWebSocketClientsGoingAway) {
  ws_client ws;
  ASSERT_EQ(ws.connect(port_, admin()), 101);
  ws.send(R"({"type":"subscribe","topic":"system"})");
  EXPECT_EQ(ws.read_json()["type"].as_string(), "subscribed");
  std::thread stopper([&] { app_->stop(); });
  auto ev = ws.read_json();
  EXPECT_EQ(ev["data"].at("event").as_string(), "shutdown");
  EXPECT_FALSE(ws.read());
  EXPECT_EQ(ws.close_code(), 1001);
  stopper.join();
}

}  // namespace
