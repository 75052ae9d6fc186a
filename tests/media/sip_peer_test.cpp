// The SIP edge against real third-party SIP software over loopback sockets: SIPp as
// callers (call, cancel, hold, packet loss, TCP, garbage) and as agents' phones
// (REGISTER with digest, answering or ignoring our calls).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "media/sip/parser.hpp"
#include "tests/media/answering_server.hpp"
#include "tests/media/baresip_phone.hpp"
#include "tests/media/sipp_runner.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using sip::call_event_kind;
using sip::end_cause;

const std::string scenarios = std::string(HOTLINE_SIP_FIXTURES) + "/sipp/";

struct sip_peers : ::testing::Test {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("sip_peers." + std::to_string(getpid()) + "." +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir);
  }
  std::string target(const answering_server& s) const { return "127.0.0.1:" + std::to_string(s.port()); }
  static answering_server::options defaults() {
    answering_server::options o;
    o.policy.codec_preference = {"PCMA", "PCMU"};
    return o;
  }
};

TEST_F(sip_peers, sipp_calls_are_answered_with_sdp_and_hung_up) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  auto r = run_sipp({target(server), "-sn", "uac", "-s", "12333", "-i", "127.0.0.1", "-p", "0", "-m", "20", "-r", "10",
                     "-d", "200"},
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 20u);
  EXPECT_EQ(r.retransmissions, 0u);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 20; }));
  auto lock = server.lock();
  EXPECT_EQ(server.incoming.size(), 20u);
  EXPECT_EQ(server.incoming[0].dialled, "12333");
  EXPECT_EQ(server.count(call_event_kind::confirmed), 20u);
  for (const auto& e : server.events) {
    if (e.kind == call_event_kind::ended) {
      EXPECT_EQ(e.cause, end_cause::remote_bye);
    }
  }
}

TEST_F(sip_peers, lost_packets_are_retransmitted_and_every_call_completes) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  // SIPp drops 10 % of what it sends and receives: our retransmissions (2xx until ACK)
  // and our absorbing of its retransmissions must carry every call through.
  auto r = run_sipp({target(server), "-sn", "uac", "-i", "127.0.0.1", "-p", "0", "-m", "40", "-r", "20", "-d", "100",
                     "-lost", "10", "-timeout", "90s"},
                    dir, 120s);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 40u);
  EXPECT_GT(r.retransmissions, 0u) << "the loss must have caused retransmissions";
  // Our side's counters may stay at 0 when every loss fell on SIPp's own first sends (it
  // retransmits; we see each message once): recorded, not asserted (CI saw it happen).
  auto stats = server.sip().stats();
  RecordProperty("server_retransmissions",
                 std::to_string(stats.transactions.retransmissions_absorbed + stats.transactions.retransmissions_sent));
}

TEST_F(sip_peers, caller_cancelling_while_it_rings_gets_487) {
  auto o = defaults();
  o.auto_answer = false;  // it rings and nobody answers
  answering_server server(o);
  ASSERT_TRUE(server.start());
  auto r = run_sipp({target(server), "-sf", scenarios + "uac_cancel.xml", "-s", "12333", "-i", "127.0.0.1", "-p", "0",
                     "-m", "5", "-r", "5"},
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 5u);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 5; }));
  auto lock = server.lock();
  for (const auto& e : server.events) {
    if (e.kind == call_event_kind::ended) {
      EXPECT_EQ(e.cause, end_cause::cancelled);
    }
  }
}

TEST_F(sip_peers, hold_and_unhold_by_reinvite) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  auto r = run_sipp({target(server), "-sf", scenarios + "uac_hold.xml", "-s", "12333", "-i", "127.0.0.1", "-p", "0",
                     "-m", "3", "-r", "3"},
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 3u);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 3; }));
  auto lock = server.lock();
  EXPECT_EQ(server.count(call_event_kind::reinvite_offer), 6u);  // hold + unhold per call
}

TEST_F(sip_peers, calls_over_tcp) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  auto r = run_sipp({target(server), "-sn", "uac", "-t", "t1", "-i", "127.0.0.1", "-p", "0", "-m", "10", "-r", "10",
                     "-d", "100"},
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 10u);
  EXPECT_GT(server.sip().stats().tcp_connections, 0u);
}

TEST_F(sip_peers, calls_over_ipv6) {
  auto o = defaults();
  o.sip.listen = {"::1"};
  answering_server server(o);
  ASSERT_TRUE(server.start());
  auto r = run_sipp({"[::1]:" + std::to_string(server.port()), "-sn", "uac", "-i", "::1", "-p", "0", "-m", "5", "-r",
                     "5", "-d", "100"},
                    dir);
  ASSERT_EQ(r.exit_code, 0) << r.log();
  EXPECT_EQ(r.successful, 5u);
}

TEST_F(sip_peers, phone_registers_with_digest_and_answers_our_call) {
  answering_server server(defaults());
  server.credentials.add("8001", "agent-secret");
  ASSERT_TRUE(server.start());
  uint16_t phone_port = free_udp_port();
  auto reg = run_sipp({target(server), "-sf", scenarios + "register_auth.xml", "-s", "8001", "-au", "8001", "-ap",
                       "agent-secret", "-i", "127.0.0.1", "-p", std::to_string(phone_port), "-m", "1"},
                      dir + "/register");
  ASSERT_EQ(reg.exit_code, 0) << reg.log();
  ASSERT_TRUE(server.wait([&] { return !server.registrations.empty(); }));
  {
    auto lock = server.lock();
    EXPECT_EQ(server.registrations[0].user, "8001");
    EXPECT_EQ(server.registrations[0].flow.port, phone_port);
  }
  // The phone now waits for calls where it registered from.
  sipp_background phone({"-sn", "uas", "-i", "127.0.0.1", "-p", std::to_string(phone_port), "-m", "1"}, dir + "/phone");
  ASSERT_TRUE(wait_until_bound(phone_port));
  sip::originate_request req;
  req.target = "8001";
  req.offer = sdp::make_offer({}, {"127.0.0.1", false, 30000}, [](std::span<std::byte> b) {
    for (auto& x : b) x = std::byte{3};
  });
  sip::call_ref ref = server.sip().originate(req);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::answered) == 1; })) << phone.stats().log();
  server.sip().hangup(ref);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 1; }));
  EXPECT_EQ(phone.wait(), 0) << phone.stats().log();
  auto lock = server.lock();
  for (const auto& e : server.events) {
    if (e.kind == call_event_kind::ended) {
      EXPECT_EQ(e.cause, end_cause::local_bye);
    }
  }
}

TEST_F(sip_peers, wrong_password_is_refused) {
  answering_server server(defaults());
  server.credentials.add("8001", "agent-secret");
  ASSERT_TRUE(server.start());
  auto reg = run_sipp({target(server), "-sf", scenarios + "register_auth.xml", "-s", "8001", "-au", "8001", "-ap",
                       "wrong", "-i", "127.0.0.1", "-p", "0", "-m", "1", "-timeout", "10s"},
                      dir);
  EXPECT_NE(reg.exit_code, 0);
  EXPECT_EQ(reg.successful, 0u);
  EXPECT_EQ(server.sip().stats().bindings, 0u);
}

TEST_F(sip_peers, unanswered_outbound_call_is_cancelled) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  uint16_t phone_port = 0;
  auto phone_uas = start_sipp_uas({"-sf", scenarios + "uas_no_answer.xml", "-i", "127.0.0.1", "-m", "1"}, dir, phone_port);
  ASSERT_TRUE(phone_uas) << "SIPp did not start on a free port";
  auto& phone = *phone_uas;
  sip::originate_request req;
  req.target = "sip:8002@127.0.0.1:" + std::to_string(phone_port);
  req.offer = sdp::make_offer({}, {"127.0.0.1", false, 30002}, [](std::span<std::byte> b) {
    for (auto& x : b) x = std::byte{4};
  });
  sip::call_ref ref = server.sip().originate(req);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::progress) == 1; })) << phone.stats().log();
  server.sip().hangup(ref);  // N-03: the ring timeout gives up on this agent
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 1; }));
  EXPECT_EQ(phone.wait(), 0) << phone.stats().log();
  auto lock = server.lock();
  EXPECT_EQ(server.events.back().cause, end_cause::cancelled);
  EXPECT_EQ(server.events.back().status, 487);
}

// Garbage and torture messages over a real socket: each gets its 400 (or is dropped),
// and the server goes on answering.
TEST_F(sip_peers, malformed_messages_get_400_and_the_server_keeps_serving) {
  answering_server server(defaults());
  ASSERT_TRUE(server.start());
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{1, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(server.port());
  auto exchange = [&](const std::string& msg) -> std::string {
    ::sendto(s, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    char buf[65536];
    ssize_t n = ::recv(s, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  for (const char* name : {"badinv01", "clerr", "ncl", "insuf", "multi01", "mcl01", "quotbal", "badvers"}) {
    std::ifstream f(std::string(HOTLINE_SIP_FIXTURES) + "/rfc4475/" + name + ".sip", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string reply = exchange(ss.str());
    EXPECT_TRUE(reply.starts_with("SIP/2.0 400 ") || reply.starts_with("SIP/2.0 505 ")) << name << ": " << reply;
  }
  for (std::string junk : {std::string("\x01\x02garbage"), std::string(65000, 'x'), std::string("INVITE\r\n\r\n")})
    ::sendto(s, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  std::string options =
      "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-alive;rport\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\n"
      "To: <sip:127.0.0.1>\r\nCall-ID: alive\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  std::string reply;
  for (int i = 0; i < 5 && !reply.starts_with("SIP/2.0 200"); ++i) reply = exchange(options);  // skip late replies
  EXPECT_TRUE(reply.starts_with("SIP/2.0 200")) << reply;
  ::close(s);
  EXPECT_GE(server.sip().stats().ua.bad_messages, 8u);
}

}  // namespace
}  // namespace hotline::test

// ---- baresip: a real softphone as an agent's phone and as a caller ------------------------

namespace hotline::test {
namespace {

TEST_F(sip_peers, baresip_registers_with_digest_and_answers_our_call) {
  auto o = defaults();
  o.sip.ua.trunks = {{"none", {"192.0.2.0/32"}}};  // the phone is no trunk: it must register
  // The default challenge (MD5 alone): libre 1.1 (baresip 1.0) fails the whole REGISTER
  // ("Function not implemented") when any challenge names SHA-256.
  answering_server server(o);
  server.credentials.add("8001", "agent-secret");
  ASSERT_TRUE(server.start());
  baresip_process phone(dir,
                     "<sip:8001@127.0.0.1:" + std::to_string(server.port()) +
                         ">;auth_pass=agent-secret;answermode=auto;regint=300;audio_codecs=PCMU,PCMA");
  ASSERT_TRUE(server.wait([&] { return !server.registrations.empty(); }, 15s)) << "baresip did not register" << phone.output();
  {
    auto lock = server.lock();
    EXPECT_EQ(server.registrations[0].user, "8001");
    EXPECT_EQ(server.registrations[0].what, sip::registration_event::kind::added);
  }
  sip::originate_request req;
  req.target = "8001";
  req.from_display = "Hotline 12333";
  sdp::endpoint_policy policy;
  policy.codec_preference = {"PCMA", "PCMU"};
  policy.srtp = sdp::srtp_policy::off;
  req.offer = sdp::make_offer(policy, {"127.0.0.1", false, 30004}, [](std::span<std::byte> b) {
    for (auto& x : b) x = std::byte{5};
  });
  sip::call_ref ref = server.sip().originate(req);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::answered) == 1; }, 15s)) << phone.output();
  {
    auto lock = server.lock();
    const sip::call_event* answered = nullptr;
    for (const auto& e : server.events)
      if (e.kind == call_event_kind::answered) answered = &e;
    ASSERT_TRUE(answered && answered->sdp);
    auto accepted = sdp::accept_answer(req.offer, *answered->sdp, policy);
    ASSERT_TRUE(std::holds_alternative<sdp::negotiated>(accepted)) << std::get<sdp::negotiation_error>(accepted).reason;
    EXPECT_EQ(std::get<sdp::negotiated>(accepted).audio.name, "PCMA");
  }
  server.sip().hangup(ref);
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::ended) == 1; }));
  auto lock = server.lock();
  EXPECT_EQ(server.events.back().cause, end_cause::local_bye);
}

TEST_F(sip_peers, baresip_calls_in_with_srtp_and_the_crypto_is_negotiated) {
  answering_server server(defaults());  // 127.0.0.0/8 is a trunk here: no registration needed
  ASSERT_TRUE(server.start());
  baresip_process caller(dir,
                      "<sip:13800000000@127.0.0.1:" + std::to_string(server.port()) +
                          ">;regint=0;mediaenc=srtp-mand;audio_codecs=PCMA",
                      {"/dial sip:12333@127.0.0.1:" + std::to_string(server.port())});
  ASSERT_TRUE(server.wait([&] { return server.count(call_event_kind::confirmed) == 1; }, 15s))
      << "baresip did not accept our SRTP answer (" << server.count(call_event_kind::answered) << " answered)"
      << caller.output();
  auto lock = server.lock();
  ASSERT_EQ(server.incoming.size(), 1u);
  const auto& offer = *server.incoming[0].offer;
  ASSERT_FALSE(offer.media.empty());
  EXPECT_EQ(offer.media[0].proto, "RTP/SAVP");  // srtp-mand
  ASSERT_FALSE(offer.media[0].cryptos.empty());
  ASSERT_EQ(server.answers.size(), 1u);
  const auto& negotiated = server.answers[0].session;
  ASSERT_TRUE(negotiated.local_crypto && negotiated.remote_crypto);
  EXPECT_EQ(negotiated.remote_crypto->suite, sdp::crypto_suite::aes_cm_128_hmac_sha1_80);
  EXPECT_EQ(negotiated.local_crypto->tag, negotiated.remote_crypto->tag);
  EXPECT_NE(negotiated.local_crypto->key_salt_base64, negotiated.remote_crypto->key_salt_base64);
  ASSERT_TRUE(sdp::decode_key_salt(*negotiated.local_crypto));
  EXPECT_EQ(sdp::decode_key_salt(*negotiated.local_crypto)->size(), 30u);
  EXPECT_EQ(server.answers[0].answer.media[0].proto, "RTP/SAVP");
}

}  // namespace
}  // namespace hotline::test
