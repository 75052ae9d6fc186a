// The user agent (registrar, dialogs, calls, admission control, session timers) driven
// over a fake transport and a manual clock, the way phones and trunks talk to it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "media/sdp/negotiate.hpp"
#include "media/sip/parser.hpp"
#include "media/sip/user_agent.hpp"
#include "tests/media/fake_transport.hpp"

namespace hotline::sip {
namespace {

using namespace std::chrono_literals;

using fakes::fake_transport;

struct phones : credential_store {
  std::optional<digest::stored_credentials> find(std::string_view user) const override {
    if (user != "8001" && user != "8002") return std::nullopt;
    return digest::make_credentials(user, "hotline", "pw-" + std::string(user));
  }
};

struct owner : event_handler {
  std::vector<incoming_call> incoming;
  std::vector<call_event> events;
  std::vector<registration_event> registrations;
  void on_incoming(incoming_call c) override { incoming.push_back(std::move(c)); }
  void on_call_event(call_event e) override { events.push_back(std::move(e)); }
  void on_registration(const registration_event& e) override { registrations.push_back(e); }
  const call_event* last(call_event_kind k) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->kind == k) return &*it;
    return nullptr;
  }
};

const address trunk{"198.51.100.7", 5060, transport_kind::udp, 0};
const address phone{"203.0.113.20", 41000, transport_kind::udp, 0};
const address stranger{"192.0.2.99", 5060, transport_kind::udp, 0};

const char* offer_sdp =
    "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
    "m=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n";

std::string invite(std::string_view call_id, std::string_view branch, std::string_view host = "198.51.100.7",
                   std::string_view sdp = offer_sdp, std::string_view extra = "") {
  std::string body(sdp);
  std::ostringstream m;
  m << "INVITE sip:12333@192.0.2.1 SIP/2.0\r\n"
    << "Via: SIP/2.0/UDP " << host << ":5060;branch=" << branch << ";rport\r\n"
    << "Max-Forwards: 70\r\nFrom: <sip:13800000000@" << host << ">;tag=caller1\r\n"
    << "To: <sip:12333@192.0.2.1>\r\nCall-ID: " << call_id << "\r\nCSeq: 1 INVITE\r\n"
    << "Contact: <sip:13800000000@" << host << ":5060>\r\n"
    << extra << "Content-Type: application/sdp\r\nContent-Length: " << body.size() << "\r\n\r\n"
    << body;
  return m.str();
}

std::string in_dialog(std::string_view method, std::string_view call_id, std::string_view to_tag, uint32_t cseq,
                      std::string_view branch, std::string_view body = "", std::string_view type = "application/sdp") {
  std::ostringstream m;
  m << method << " sip:hotline@192.0.2.1:5060 SIP/2.0\r\n"
    << "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=" << branch << "\r\n"
    << "Max-Forwards: 70\r\nFrom: <sip:13800000000@198.51.100.7>;tag=caller1\r\n"
    << "To: <sip:12333@192.0.2.1>;tag=" << to_tag << "\r\nCall-ID: " << call_id << "\r\nCSeq: " << cseq << ' '
    << method << "\r\n";
  if (!body.empty()) m << "Content-Type: " << type << "\r\n";
  m << "Content-Length: " << body.size() << "\r\n\r\n" << body;
  return m.str();
}

struct user_agent_test : ::testing::Test {
  fake_transport transport;
  phones credentials;
  owner events;
  double cpu = 0.0;
  std::array<std::byte, 32> secret{};
  std::unique_ptr<user_agent> ua;
  clock::time_point now = clock::time_point{} + 1h;
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();

  void SetUp() override {
    user_agent_config cfg;
    cfg.registrar.algorithms = {digest::algorithm::md5, digest::algorithm::sha256};
    make(cfg);
  }
  void make(user_agent_config cfg) {
    if (cfg.trunks.empty()) cfg.trunks.push_back({"carrier", {"198.51.100.0/24"}});
    ua = std::make_unique<user_agent>(cfg, transport, credentials, secret, events, [this] { return cpu; }, nullptr);
  }
  void feed(const std::string& bytes, const address& from) { ua->receive(bytes, from, now, wall); }
  void advance(clock::duration d) {
    for (auto end = now + d; now < end; now += 10ms) ua->poll(now);
  }
  sdp::session_description answer_for(const sdp::session_description& offer) {
    auto r = sdp::answer_offer(offer, {}, {"192.0.2.1", false, 40000}, [](std::span<std::byte> b) {
      for (auto& x : b) x = std::byte{7};
    });
    return std::get<sdp::answer_result>(r).answer;
  }
  // An answered inbound call; returns the 200's To tag.
  std::string establish(std::string_view call_id = "call-1") {
    feed(invite(call_id, "z9hG4bK-inv1"), trunk);
    EXPECT_EQ(events.incoming.size(), 1u);
    const incoming_call& in = events.incoming.back();
    ua->ring(in.ref, now);
    ua->answer(in.ref, answer_for(*in.offer), now);
    auto oks = transport.responses(200);
    EXPECT_FALSE(oks.empty());
    std::string tag = *oks.back().to.tag();
    feed(in_dialog("ACK", call_id, tag, 1, "z9hG4bK-ack1"), trunk);
    return tag;
  }
};

TEST_F(user_agent_test, options_is_answered_for_trunk_keepalives) {
  feed("OPTIONS sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK-o1\r\n"
       "From: <sip:ping@198.51.100.7>;tag=p\r\nTo: <sip:192.0.2.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
       "Content-Length: 0\r\n\r\n",
       stranger);
  auto oks = transport.responses(200);
  ASSERT_EQ(oks.size(), 1u);
  EXPECT_NE(oks[0].header_value("Allow")->find("INVITE"), std::string::npos);
}

TEST_F(user_agent_test, invite_from_an_unknown_source_gets_403) {
  feed(invite("x1", "z9hG4bK-s1", "192.0.2.99"), stranger);
  EXPECT_EQ(transport.responses(403).size(), 1u);
  EXPECT_TRUE(events.incoming.empty());
}

TEST_F(user_agent_test, inbound_call_rings_answers_retransmits_2xx_until_ack_and_ends_on_bye) {
  feed(invite("call-1", "z9hG4bK-inv1"), trunk);
  ASSERT_EQ(transport.responses(100).size(), 1u);
  ASSERT_EQ(events.incoming.size(), 1u);
  const incoming_call& in = events.incoming[0];
  EXPECT_EQ(in.dialled, "12333");
  EXPECT_EQ(in.trunk, "carrier");
  ASSERT_TRUE(in.offer);
  EXPECT_EQ(in.offer->media[0].codecs.size(), 3u);

  ua->ring(in.ref, now);
  auto ringing = transport.responses(180);
  ASSERT_EQ(ringing.size(), 1u);
  ASSERT_NE(ringing[0].to.tag(), nullptr);
  ASSERT_EQ(ringing[0].contacts.size(), 1u);

  ua->answer(in.ref, answer_for(*in.offer), now);
  ASSERT_EQ(transport.responses(200).size(), 1u);
  const message ok = transport.responses(200)[0];
  EXPECT_EQ(*ok.to.tag(), *ringing[0].to.tag()) << "one dialog from 180 to 200";
  EXPECT_EQ(ok.content_type, "application/sdp");
  auto answer = sdp::parse(ok.body);
  ASSERT_TRUE(std::holds_alternative<sdp::session_description>(answer));

  advance(1600ms);  // 2xx again at 0.5 and 1.5 s (§13.3.1.4)
  EXPECT_EQ(transport.responses(200).size(), 3u);
  feed(in_dialog("ACK", "call-1", *ok.to.tag(), 1, "z9hG4bK-ack1"), trunk);
  ASSERT_NE(events.last(call_event_kind::confirmed), nullptr);
  advance(5s);
  EXPECT_EQ(transport.responses(200).size(), 3u) << "the ACK stopped the retransmissions";

  feed(in_dialog("BYE", "call-1", *ok.to.tag(), 2, "z9hG4bK-bye1"), trunk);
  EXPECT_EQ(transport.responses(200).size(), 4u);
  const call_event* ended = events.last(call_event_kind::ended);
  ASSERT_NE(ended, nullptr);
  EXPECT_EQ(ended->cause, end_cause::remote_bye);
  EXPECT_TRUE(ended->released_by_remote);  // N-06
  EXPECT_EQ(ua->stats().active_calls, 0u);
}

TEST_F(user_agent_test, cancel_before_answer_ends_the_call_with_487) {
  feed(invite("call-c", "z9hG4bK-invc"), trunk);
  ua->ring(events.incoming[0].ref, now);
  std::string cancel =
      "CANCEL sip:12333@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-invc;rport\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:13800000000@198.51.100.7>;tag=caller1\r\nTo: <sip:12333@192.0.2.1>\r\n"
      "Call-ID: call-c\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n";
  feed(cancel, trunk);
  ASSERT_EQ(transport.responses(200).size(), 1u);
  EXPECT_EQ(transport.responses(200)[0].cseq_method, "CANCEL");
  ASSERT_EQ(transport.responses(487).size(), 1u);
  const call_event* ended = events.last(call_event_kind::ended);
  ASSERT_NE(ended, nullptr);
  EXPECT_EQ(ended->cause, end_cause::cancelled);
  // Answering now is refused, and says so.
  ua->answer(events.incoming[0].ref, answer_for(*events.incoming[0].offer), now);
  EXPECT_NE(events.last(call_event_kind::operation_refused), nullptr);
}

TEST_F(user_agent_test, reinvite_hold_goes_to_the_owner_and_a_refresh_does_not) {
  std::string tag = establish();
  std::string hold(offer_sdp);
  hold.replace(hold.find("o=- 1 1"), 7, "o=- 1 2");
  hold.replace(hold.find("a=sendrecv"), 10, "a=sendonly");
  feed(in_dialog("INVITE", "call-1", tag, 2, "z9hG4bK-re1", hold), trunk);
  const call_event* offer = events.last(call_event_kind::reinvite_offer);
  ASSERT_NE(offer, nullptr);
  ASSERT_TRUE(offer->sdp);
  EXPECT_EQ(offer->sdp->media[0].dir, sdp::direction::sendonly);
  auto ans = answer_for(*offer->sdp);
  EXPECT_EQ(ans.media[0].dir, sdp::direction::recvonly);
  size_t oks = transport.responses(200).size();
  ua->answer(events.incoming[0].ref, ans, now);
  ASSERT_EQ(transport.responses(200).size(), oks + 1);
  EXPECT_NE(transport.responses(200).back().body.find("a=recvonly"), std::string::npos);
  feed(in_dialog("ACK", "call-1", tag, 2, "z9hG4bK-ack2"), trunk);

  size_t owner_events = events.events.size();
  feed(in_dialog("INVITE", "call-1", tag, 3, "z9hG4bK-re2", hold), trunk);  // same offer: a refresh
  EXPECT_EQ(events.events.size(), owner_events);
  EXPECT_EQ(transport.responses(200).size(), oks + 2);
}

TEST_F(user_agent_test, admission_control_refuses_new_calls_only) {
  user_agent_config cfg;
  cfg.max_calls = 1;
  make(cfg);
  std::string tag = establish();
  feed(invite("call-2", "z9hG4bK-inv2"), trunk);
  auto busy = transport.responses(503);
  ASSERT_EQ(busy.size(), 1u);
  ASSERT_NE(busy[0].header_value("Retry-After"), nullptr);
  // The call in progress is untouched: it still ends normally.
  feed(in_dialog("BYE", "call-1", tag, 2, "z9hG4bK-bye"), trunk);
  EXPECT_EQ(events.last(call_event_kind::ended)->cause, end_cause::remote_bye);
  cpu = 0.97;
  feed(invite("call-3", "z9hG4bK-inv3"), trunk);
  EXPECT_EQ(transport.responses(503).size(), 2u);
  EXPECT_EQ(ua->stats().rejected_overload, 2u);
}

TEST_F(user_agent_test, session_timer_is_honoured_and_an_expired_session_is_ended) {
  feed(invite("call-st", "z9hG4bK-st", "198.51.100.7", offer_sdp, "Session-Expires: 60\r\nSupported: timer\r\n"), trunk);
  ASSERT_EQ(transport.responses(422).size(), 1u) << "below our Min-SE of 90";
  EXPECT_EQ(*transport.responses(422)[0].header_value("Min-SE"), "90");
  feed(invite("call-st2", "z9hG4bK-st2", "198.51.100.7", offer_sdp,
              "Session-Expires: 120;refresher=uac\r\nSupported: timer\r\n"),
       trunk);
  const incoming_call& in = events.incoming.back();
  ua->answer(in.ref, answer_for(*in.offer), now);
  const message ok = transport.responses(200).back();
  EXPECT_EQ(*ok.header_value("Session-Expires"), "120;refresher=uac");
  EXPECT_TRUE(ok.has_option("Require", "timer"));
  feed(in_dialog("ACK", "call-st2", *ok.to.tag(), 1, "z9hG4bK-sta"), trunk);
  advance(70s);
  EXPECT_EQ(events.last(call_event_kind::ended), nullptr) << "still within the interval";
  advance(30s);  // no refresh came: BYE before the interval ends (RFC 4028 §10)
  ASSERT_NE(events.last(call_event_kind::ended), nullptr);
  EXPECT_EQ(events.last(call_event_kind::ended)->cause, end_cause::session_expired);
  EXPECT_NE(transport.last_request("BYE"), nullptr);
}

TEST_F(user_agent_test, info_dtmf_relay_becomes_a_digit) {
  std::string tag = establish();
  feed(in_dialog("INFO", "call-1", tag, 2, "z9hG4bK-info", "Signal=5\r\nDuration=160\r\n", "application/dtmf-relay"),
       trunk);
  const call_event* d = events.last(call_event_kind::dtmf);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->digit, '5');
  EXPECT_EQ(d->duration_ms, 160u);
}

// ---- registrar ----------------------------------------------------------------------

std::string register_request(std::string_view user, uint32_t cseq, std::string_view branch, uint32_t expires,
                             std::string_view authorization = "") {
  std::ostringstream m;
  m << "REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.1.1.20:5060;branch=" << branch << ";rport\r\n"
    << "Max-Forwards: 70\r\nFrom: <sip:" << user << "@192.0.2.1>;tag=r" << user << "\r\n"
    << "To: <sip:" << user << "@192.0.2.1>\r\nCall-ID: reg-" << user << "\r\nCSeq: " << cseq << " REGISTER\r\n"
    << "Contact: <sip:" << user << "@10.1.1.20:5060>\r\nExpires: " << expires << "\r\n";
  if (!authorization.empty()) m << "Authorization: " << authorization << "\r\n";
  m << "Content-Length: 0\r\n\r\n";
  return m.str();
}

struct registrar_test : user_agent_test {
  // Answers the last challenge like a phone would, with the given algorithm.
  std::string authorize(std::string_view user, std::string_view password, digest::algorithm alg,
                        std::string_view method = "REGISTER") {
    const message last = transport.responses(401).back();
    auto challenges = last.header_values("WWW-Authenticate");
    std::optional<digest::challenge> chosen;
    for (auto c : challenges)
      if (auto parsed = digest::parse_challenge(c); parsed && parsed->alg == alg) chosen = parsed;
    EXPECT_TRUE(chosen);
    digest::credentials c;
    c.username = user;
    c.realm = chosen->realm;
    c.nonce = chosen->nonce;
    c.uri = "sip:192.0.2.1";
    c.alg = alg;
    c.algorithm_name = std::string(digest::name(alg));
    c.qop = "auth";
    c.nc = "00000001";
    c.cnonce = "0a4f113b";
    c.response = digest::compute_response(alg, digest::ha1(alg, user, chosen->realm, password), c.nonce, c.nc,
                                          c.cnonce, c.qop, method, c.uri);
    return digest::format_authorization(c);
  }
};

TEST_F(registrar_test, challenges_in_the_configured_order) {
  make({});
  feed(register_request("8001", 1, "z9hG4bK-r0", 600), phone);
  const message first = transport.responses(401)[0];
  auto defaults = first.header_values("WWW-Authenticate");
  ASSERT_EQ(defaults.size(), 1u);  // MD5 alone: what every phone in service understands
  EXPECT_EQ(digest::parse_challenge(defaults[0])->alg, digest::algorithm::md5);
  transport.sent.clear();
  user_agent_config cfg;
  cfg.registrar.algorithms = {digest::algorithm::sha256, digest::algorithm::md5};  // RFC 8760's preference
  make(cfg);
  feed(register_request("8001", 1, "z9hG4bK-r1", 600), phone);
  auto challenges = transport.responses(401);
  ASSERT_EQ(challenges.size(), 1u);
  auto values = challenges[0].header_values("WWW-Authenticate");
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(digest::parse_challenge(values[0])->alg, digest::algorithm::sha256);  // RFC 8760 §2.4
  EXPECT_EQ(digest::parse_challenge(values[1])->alg, digest::algorithm::md5);
}

TEST_F(registrar_test, registers_with_either_algorithm_and_reports_the_binding) {
  for (auto alg : {digest::algorithm::md5, digest::algorithm::sha256}) {
    std::string user = alg == digest::algorithm::md5 ? "8001" : "8002";
    feed(register_request(user, 1, "z9hG4bK-a" + user, 600), phone);
    feed(register_request(user, 2, "z9hG4bK-b" + user, 600, authorize(user, "pw-" + user, alg)), phone);
    auto oks = transport.responses(200);
    ASSERT_FALSE(oks.empty());
    ASSERT_EQ(oks.back().contacts.size(), 1u);
    EXPECT_EQ(*find_param(oks.back().contacts[0].params, "expires"), "600");
    ASSERT_FALSE(events.registrations.empty());
    EXPECT_EQ(events.registrations.back().what, registration_event::kind::added);
    EXPECT_EQ(events.registrations.back().user, user);
    // We reach the phone where it really is (NAT), not at its private Contact.
    EXPECT_EQ(events.registrations.back().flow.ip, "203.0.113.20");
  }
  EXPECT_EQ(ua->registrations().binding_count(), 2u);
}

TEST_F(registrar_test, wrong_password_and_unknown_user_both_get_403) {
  feed(register_request("8001", 1, "z9hG4bK-w1", 600), phone);
  feed(register_request("8001", 2, "z9hG4bK-w2", 600, authorize("8001", "wrong", digest::algorithm::md5)), phone);
  EXPECT_EQ(transport.responses(403).size(), 1u);
  feed(register_request("9999", 1, "z9hG4bK-w3", 600), phone);
  feed(register_request("9999", 2, "z9hG4bK-w4", 600, authorize("9999", "pw", digest::algorithm::md5)), phone);
  EXPECT_EQ(transport.responses(403).size(), 2u);
  EXPECT_EQ(ua->registrations().binding_count(), 0u);
}

TEST_F(registrar_test, registered_phone_may_call_in_and_bindings_expire) {
  feed(register_request("8001", 1, "z9hG4bK-e1", 60), phone);
  feed(register_request("8001", 2, "z9hG4bK-e2", 60, authorize("8001", "pw-8001", digest::algorithm::md5)), phone);
  feed(invite("from-phone", "z9hG4bK-pi", "10.1.1.20"), phone);
  ASSERT_EQ(events.incoming.size(), 1u);
  EXPECT_EQ(events.incoming[0].registered_user, "8001");
  advance(61s);
  ASSERT_EQ(events.registrations.back().what, registration_event::kind::expired);
  EXPECT_EQ(events.registrations.back().contacts_left, 0u);
  feed(invite("from-phone-2", "z9hG4bK-pj", "10.1.1.20"), phone);
  EXPECT_EQ(transport.responses(403).size(), 1u) << "an expired phone is a stranger";
}

TEST_F(registrar_test, too_short_expiry_gets_423_and_unregister_removes) {
  feed(register_request("8001", 1, "z9hG4bK-t1", 600), phone);
  std::string auth = authorize("8001", "pw-8001", digest::algorithm::md5);
  feed(register_request("8001", 2, "z9hG4bK-t2", 10, auth), phone);
  ASSERT_EQ(transport.responses(423).size(), 1u);
  EXPECT_EQ(*transport.responses(423)[0].header_value("Min-Expires"), "60");
  feed(register_request("8001", 3, "z9hG4bK-t3", 600, auth), phone);
  feed(register_request("8001", 4, "z9hG4bK-t4", 0, auth), phone);
  EXPECT_EQ(events.registrations.back().what, registration_event::kind::removed);
  EXPECT_EQ(ua->registrations().binding_count(), 0u);
}

TEST_F(registrar_test, originate_to_a_registered_phone_answer_and_hang_up) {
  feed(register_request("8001", 1, "z9hG4bK-o1", 600), phone);
  feed(register_request("8001", 2, "z9hG4bK-o2", 600, authorize("8001", "pw-8001", digest::algorithm::md5)), phone);
  originate_request req;
  req.target = "8001";
  req.offer = sdp::make_offer({}, {"192.0.2.1", false, 40002}, [](std::span<std::byte> b) {
    for (auto& x : b) x = std::byte{1};
  });
  call_ref ref = ua->new_ref();
  ua->originate(ref, req, now);
  const message* inv = transport.last_request("INVITE");
  ASSERT_NE(inv, nullptr);
  EXPECT_EQ(transport.sent.back().to.ip, "203.0.113.20");
  EXPECT_EQ(transport.sent.back().to.port, 41000);
  EXPECT_EQ(inv->request_uri.user, "8001");
  message invite_copy = *inv;

  message ringing = make_response(invite_copy, 180, {}, "ph1");
  feed(ringing.to_string(), phone);
  EXPECT_NE(events.last(call_event_kind::progress), nullptr);
  auto offer = sdp::parse(invite_copy.body);
  message ok = make_response(invite_copy, 200, {}, "ph1");
  ok.contacts.push_back(invite_copy.contacts[0]);
  ok.contacts[0].uri.host = "10.1.1.20";
  ok.content_type = "application/sdp";
  ok.body = sdp::to_string(answer_for(std::get<sdp::session_description>(offer)));
  feed(ok.to_string(), phone);
  ASSERT_NE(events.last(call_event_kind::answered), nullptr);
  EXPECT_TRUE(events.last(call_event_kind::answered)->sdp);
  ASSERT_NE(transport.last_request("ACK"), nullptr);
  feed(ok.to_string(), phone);  // our ACK got lost: the 2xx comes again, we ACK again
  size_t acks = 0;
  for (const auto& s : transport.sent) acks += s.msg.method == "ACK";
  EXPECT_EQ(acks, 2u);

  ua->hangup(ref, now);
  const message* bye = transport.last_request("BYE");
  ASSERT_NE(bye, nullptr);
  EXPECT_EQ(*bye->to.tag(), "ph1");
  feed(make_response(*bye, 200).to_string(), phone);
  ASSERT_NE(events.last(call_event_kind::ended), nullptr);
  EXPECT_EQ(events.last(call_event_kind::ended)->cause, end_cause::local_bye);
  EXPECT_FALSE(events.last(call_event_kind::ended)->released_by_remote);
}

TEST_F(registrar_test, originate_to_an_unregistered_user_fails_with_480) {
  originate_request req;
  req.target = "8002";
  call_ref ref = ua->new_ref();
  ua->originate(ref, req, now);
  const call_event* e = events.last(call_event_kind::ended);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ref, ref);
  EXPECT_EQ(e->status, 480);
}

// ---- RFC 4475 messages the parser accepts but the user agent must refuse ----------------

std::string torture(std::string_view name) {
  std::ifstream f(std::string(HOTLINE_SIP_FIXTURES) + "/rfc4475/" + std::string(name) + ".sip", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST_F(user_agent_test, rfc4475_messages_get_the_codes_the_rfc_names) {
  struct row {
    const char* name;
    int status;
  } rows[] = {
      {"unkscm", 416},    // unknown URI scheme in the Request-URI
      {"bext01", 420},    // Require: nothing we support
      {"invut", 415},     // a body of unknown type
      {"sdp01", 406},     // Accept without application/sdp
      {"regaut01", 401},  // an Authorization of an unknown scheme: still challenged
      {"zeromf", 200},    // Max-Forwards 0: an endpoint processes it
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.name);
    transport.sent.clear();
    feed(torture(r.name), trunk);
    bool found = false;
    for (const auto& s : transport.sent) found |= s.msg.status == r.status;
    EXPECT_TRUE(found);
  }
  transport.sent.clear();
  feed(torture("bcast"), trunk);  // a response nobody asked for: dropped
  EXPECT_TRUE(transport.sent.empty());
}

}  // namespace
}  // namespace hotline::sip

namespace hotline::sip {
namespace {

// Codec preference and SRTP are per trunk and per phone: the edge hands the right
// policy to the owner with each call.
TEST_F(registrar_test, each_call_carries_its_trunk_or_phone_policy) {
  user_agent_config cfg;
  cfg.trunks.push_back({"carrier", {"198.51.100.0/24"}, {}});
  cfg.trunks[0].policy.codec_preference = {"PCMA"};
  cfg.trunks[0].policy.srtp = sdp::srtp_policy::required;
  cfg.phone_policy.codec_preference = {"opus", "PCMU"};
  make(cfg);
  feed(invite("t1", "z9hG4bK-pol1"), trunk);
  ASSERT_EQ(events.incoming.size(), 1u);
  EXPECT_EQ(events.incoming[0].policy.codec_preference, std::vector<std::string>{"PCMA"});
  EXPECT_EQ(events.incoming[0].policy.srtp, sdp::srtp_policy::required);
  // A required-SRTP trunk offering plain RTP gets 488 from the owner's negotiation.
  auto r = sdp::answer_offer(*events.incoming[0].offer, events.incoming[0].policy, {"192.0.2.1", false, 4000},
                             [](std::span<std::byte>) {});
  ASSERT_TRUE(std::holds_alternative<sdp::negotiation_error>(r));
  EXPECT_EQ(std::get<sdp::negotiation_error>(r).sip_status, 488);

  feed(register_request("8001", 1, "z9hG4bK-p1", 600), phone);
  feed(register_request("8001", 2, "z9hG4bK-p2", 600, authorize("8001", "pw-8001", digest::algorithm::md5)), phone);
  feed(invite("p1", "z9hG4bK-pol2", "10.1.1.20"), phone);
  ASSERT_EQ(events.incoming.size(), 2u);
  EXPECT_EQ(events.incoming[1].registered_user, "8001");
  EXPECT_EQ(events.incoming[1].policy.codec_preference, (std::vector<std::string>{"opus", "PCMU"}));
}

}  // namespace
}  // namespace hotline::sip
