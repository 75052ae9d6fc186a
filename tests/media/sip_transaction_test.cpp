// RFC 3261 §17 transactions on a fake transport and a manual clock: retransmission
// schedules (Timers A, E, G), timeouts (B, F, H), absorption of retransmitted requests,
// the ACK for non-2xx, and RFC 3581 received/rport.
#include <gtest/gtest.h>

#include "media/sip/parser.hpp"
#include "media/sip/transaction.hpp"
#include "tests/media/fake_transport.hpp"

namespace hotline::sip {
namespace {

using namespace std::chrono_literals;

using fakes::fake_transport;

struct recording_user : transaction_user {
  std::vector<std::pair<txn_id, message>> requests, responses;
  std::vector<message> acks, strays;
  std::vector<txn_id> timeouts;
  void on_request(txn_id id, const message& r, const address&) override { requests.emplace_back(id, r); }
  void on_ack(const message& a, const address&) override { acks.push_back(a); }
  void on_response(txn_id id, const message& r) override { responses.emplace_back(id, r); }
  void on_stray_response(const message& r, const address&) override { strays.push_back(r); }
  void on_server_timeout(txn_id id) override { timeouts.push_back(id); }
};

message request(std::string method, std::string branch = "z9hG4bK-abc") {
  message m;
  m.method = std::move(method);
  m.request_uri.user = "12333";
  m.request_uri.host = "192.0.2.1";
  via v;
  v.host = "10.0.0.5";  // a private address behind NAT
  v.port = 5060;
  v.params = {{"branch", std::move(branch)}, {"rport", ""}};
  m.vias.push_back(v);
  m.max_forwards = 70;
  m.from.uri.user = "caller";
  m.from.uri.host = "10.0.0.5";
  m.from.params = {{"tag", "f1"}};
  m.to.uri.user = "12333";
  m.to.uri.host = "192.0.2.1";
  m.call_id = "c1@10.0.0.5";
  m.cseq = 1;
  m.cseq_method = m.method;
  return m;
}

const address nat_source{"203.0.113.9", 40000, transport_kind::udp, 0};

struct transactions : ::testing::Test {
  fake_transport transport;
  recording_user user;
  transaction_layer layer{transport, user};
  clock::time_point t0 = clock::time_point{} + 1h;

  // Advances time in 10 ms steps, as the SIP thread's tick does.
  void run_until(clock::time_point until) {
    for (auto t = now_; t <= until; t += 10ms) layer.poll(t);
    now_ = until;
  }
  clock::time_point now_ = t0;
};

TEST_F(transactions, invite_server_answers_100_and_fixes_the_via_for_nat) {
  layer.receive(request("INVITE"), nat_source, t0);
  ASSERT_EQ(user.requests.size(), 1u);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].msg.status, 100);
  // RFC 3581: the response goes back where the request came from, not to the Via.
  EXPECT_EQ(transport.sent[0].to.ip, "203.0.113.9");
  EXPECT_EQ(transport.sent[0].to.port, 40000);
  const via& v = transport.sent[0].msg.vias[0];
  EXPECT_EQ(*find_param(v.params, "received"), "203.0.113.9");
  EXPECT_EQ(*find_param(v.params, "rport"), "40000");
}

TEST_F(transactions, retransmitted_invite_is_absorbed_and_the_last_response_repeated) {
  layer.receive(request("INVITE"), nat_source, t0);
  auto id = user.requests[0].first;
  layer.respond(id, make_response(user.requests[0].second, 180, {}, "t"), t0);
  layer.receive(request("INVITE"), nat_source, t0 + 100ms);
  EXPECT_EQ(user.requests.size(), 1u) << "a retransmission is not a new request";
  ASSERT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(transport.sent[2].msg.status, 180);
  EXPECT_EQ(layer.stats().retransmissions_absorbed, 1u);
}

TEST_F(transactions, non_2xx_final_retransmits_on_timer_g_until_ack) {
  layer.receive(request("INVITE"), nat_source, t0);
  auto id = user.requests[0].first;
  layer.respond(id, make_response(user.requests[0].second, 486, {}, "t"), t0);
  run_until(t0 + 3600ms);
  // Sent at 0 (100, 486), then 486 again at 0.5, 1.5, 3.5 s (T1 doubling, capped at T2).
  ASSERT_EQ(transport.sent.size(), 5u);
  for (size_t i = 1; i < transport.sent.size(); ++i) EXPECT_EQ(transport.sent[i].msg.status, 486);
  message ack = request("ACK");
  ack.to.params = {{"tag", "t"}};
  layer.receive(ack, nat_source, now_);
  EXPECT_TRUE(user.acks.empty()) << "the ACK for a non-2xx stays in the transaction";
  run_until(t0 + 20s);
  EXPECT_EQ(transport.sent.size(), 5u) << "the ACK stopped Timer G";
  EXPECT_TRUE(user.timeouts.empty());
  EXPECT_EQ(layer.stats().live, 0u);
}

TEST_F(transactions, timer_h_reports_a_missing_ack) {
  layer.receive(request("INVITE"), nat_source, t0);
  auto id = user.requests[0].first;
  layer.respond(id, make_response(user.requests[0].second, 480, {}, "t"), t0);
  run_until(t0 + 33s);
  ASSERT_EQ(user.timeouts.size(), 1u);
  EXPECT_EQ(user.timeouts[0], id);
}

TEST_F(transactions, ack_for_2xx_goes_to_the_dialog_layer) {
  layer.receive(request("INVITE"), nat_source, t0);
  layer.respond(user.requests[0].first, make_response(user.requests[0].second, 200, {}, "t"), t0);
  message ack = request("ACK", "z9hG4bK-other");  // a 2xx ACK is a new transaction
  ack.to.params = {{"tag", "t"}};
  layer.receive(ack, nat_source, t0 + 10ms);
  EXPECT_EQ(user.acks.size(), 1u);
}

TEST_F(transactions, non_invite_server_repeats_its_final_and_expires_after_timer_j) {
  layer.receive(request("OPTIONS"), nat_source, t0);
  layer.respond(user.requests[0].first, make_response(user.requests[0].second, 200, {}, "t"), t0);
  layer.receive(request("OPTIONS"), nat_source, t0 + 500ms);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1].msg.status, 200);
  run_until(t0 + 33s);
  EXPECT_EQ(layer.stats().live, 0u);
  layer.receive(request("OPTIONS"), nat_source, now_);
  EXPECT_EQ(user.requests.size(), 2u) << "after Timer J the same branch is a new request";
}

TEST_F(transactions, invite_client_doubles_timer_a_and_times_out_with_408) {
  message inv = request("INVITE", layer.new_branch());
  address peer{"192.0.2.50", 5060, transport_kind::udp, 0};
  txn_id id = layer.send_request(inv, peer, t0);
  run_until(t0 + 31s);
  // 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s: 6 sends before 31 s.
  EXPECT_EQ(transport.sent.size(), 6u);
  EXPECT_TRUE(user.responses.empty());
  run_until(t0 + 33s);
  ASSERT_EQ(user.responses.size(), 1u);
  EXPECT_EQ(user.responses[0].first, id);
  EXPECT_EQ(user.responses[0].second.status, 408);
}

TEST_F(transactions, provisional_stops_invite_retransmission_and_non_2xx_is_acked) {
  message inv = request("INVITE", layer.new_branch());
  address peer{"192.0.2.50", 5060, transport_kind::udp, 0};
  layer.send_request(inv, peer, t0);
  message ringing = make_response(inv, 180, {}, "r1");
  layer.receive(ringing, peer, t0 + 100ms);
  run_until(t0 + 5s);
  EXPECT_EQ(transport.sent.size(), 1u) << "no retransmission after a 1xx";
  message busy = make_response(inv, 486, {}, "r1");
  layer.receive(busy, peer, now_);
  ASSERT_EQ(transport.sent.size(), 2u);
  EXPECT_EQ(transport.sent[1].msg.method, "ACK");
  EXPECT_EQ(transport.sent[1].msg.vias[0].branch(), inv.vias[0].branch()) << "same transaction (§17.1.1.3)";
  layer.receive(busy, peer, now_ + 10ms);  // a retransmitted final: ACK again, not up
  EXPECT_EQ(transport.sent.size(), 3u);
  EXPECT_EQ(user.responses.size(), 2u);
}

TEST_F(transactions, non_invite_client_caps_timer_e_at_t2) {
  message bye = request("BYE", layer.new_branch());
  address peer{"192.0.2.50", 5060, transport_kind::udp, 0};
  layer.send_request(bye, peer, t0);
  run_until(t0 + 16s);
  // 0, .5, 1.5, 3.5, 7.5, 11.5, 15.5 s
  EXPECT_EQ(transport.sent.size(), 7u);
  run_until(t0 + 33s);
  ASSERT_EQ(user.responses.size(), 1u);
  EXPECT_EQ(user.responses[0].second.status, 408);
}

TEST_F(transactions, tcp_needs_no_retransmission) {
  message inv = request("INVITE", layer.new_branch());
  address peer{"192.0.2.50", 5060, transport_kind::tcp, 3};
  layer.send_request(inv, peer, t0);
  run_until(t0 + 10s);
  EXPECT_EQ(transport.sent.size(), 1u);
}

TEST_F(transactions, stray_2xx_goes_up_for_a_new_ack) {
  message inv = request("INVITE", "z9hG4bK-gone");
  layer.receive(make_response(inv, 200, {}, "x"), nat_source, t0);
  EXPECT_EQ(user.strays.size(), 1u);
  layer.receive(make_response(inv, 486, {}, "x"), nat_source, t0);
  EXPECT_EQ(user.strays.size(), 1u) << "a stray non-2xx is dropped";
}

}  // namespace
}  // namespace hotline::sip
