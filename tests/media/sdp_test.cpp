// SDP model, parser, printer (media/sdp/session.hpp) and offer/answer
// (media/sdp/negotiate.hpp), on offers written the way real phones write them.
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "media/sdp/negotiate.hpp"
#include "media/sdp/session.hpp"

namespace hotline::sdp {
namespace {

// Samples are written with LF for readability; crlf() gives what travels on the wire.
std::string crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
  return out;
}

// baresip 3.x, opus first, "best effort" SRTP (mediaenc=srtp): a=crypto on RTP/AVP.
constexpr std::string_view baresip_offer = R"(v=0
o=- 1953185329 2005542025 IN IP4 192.168.1.20
s=-
c=IN IP4 192.168.1.20
t=0 0
m=audio 10384 RTP/AVP 111 0 8 101
b=AS:64
a=rtpmap:111 opus/48000/2
a=fmtp:111 stereo=1;sprop-stereo=1;useinbandfec=1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-mux
a=ssrc:2948117329 cname:88c2e1bd-0d3a-4c38-bf09-1a8b7e5e0f6a
a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:G7zKz5VSDwRj5CrLFNp1u3nmVfU09vBLtEPeTU1T
a=ptime:20
)";

// Linphone 5: several opus-era codecs, telephone-event at three clock rates, XR.
constexpr std::string_view linphone_offer = R"(v=0
o=alice 3175 1455 IN IP4 10.0.0.5
s=Talk
c=IN IP4 10.0.0.5
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 98 0 8 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1; maxplaybackrate=16000
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
)";

// Asterisk 20 trunk leg: G.711 and G.722, ptime/maxptime, no opus.
constexpr std::string_view asterisk_offer = R"(v=0
o=- 1680020424 1680020424 IN IP4 203.0.113.10
s=Asterisk
c=IN IP4 203.0.113.10
t=0 0
m=audio 16440 RTP/AVP 9 8 0 101
a=rtpmap:9 G722/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:30
a=maxptime:150
a=sendrecv
)";

// SIPp's built-in uac scenario: PCMU only, no telephone-event.
constexpr std::string_view sipp_offer = R"(v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)";

// A softphone with video and T.38 capability, IPv6.
constexpr std::string_view video_offer = R"(v=0
o=bob 2890844526 2890844526 IN IP6 2001:db8::20
s=-
c=IN IP6 2001:db8::20
t=0 0
m=video 51372 RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 profile-level-id=42e01f;packetization-mode=1
m=audio 49170 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
m=image 49172 udptl t38
a=T38FaxVersion:0
)";

std::string with_audio(std::string_view proto, std::string_view extra_lines, std::string_view formats = "0 8 101") {
  return "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\nm=audio 40000 " +
         std::string(proto) + " " + std::string(formats) + "\r\na=rtpmap:101 telephone-event/8000\r\n" +
         std::string(extra_lines);
}

session_description parsed(std::string_view body) {
  auto r = parse(body);
  if (auto* e = std::get_if<parse_error>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<session_description>(r);
}

random_bytes counting_random(uint8_t start = 1) {
  auto next = std::make_shared<uint8_t>(start);
  return [next](std::span<std::byte> out) {
    for (auto& b : out) b = std::byte{(*next)++};
  };
}

const local_media ours{"192.0.2.1", false, 30000};

answer_result answered(const session_description& offer, const endpoint_policy& policy = {},
                       const session_description* previous = nullptr, uint8_t seed = 1) {
  auto r = answer_offer(offer, policy, ours, counting_random(seed), previous);
  if (auto* e = std::get_if<negotiation_error>(&r)) {
    ADD_FAILURE() << e->reason;
    return {};
  }
  return std::get<answer_result>(r);
}

std::string refused(const session_description& offer, const endpoint_policy& policy = {}) {
  auto r = answer_offer(offer, policy, ours, counting_random());
  auto* e = std::get_if<negotiation_error>(&r);
  if (!e) return "(accepted)";
  EXPECT_EQ(e->sip_status, 488);
  return e->reason;
}

// An independent decoder, so the key length checks do not trust the code under test.
size_t base64_length(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  return s.size() * 6 / 8;
}

// ---- parsing real offers ----

TEST(sdp_parse, baresip_offer_with_best_effort_srtp) {
  auto sd = parsed(crlf(baresip_offer));
  EXPECT_EQ(sd.session_id, 1953185329u);
  EXPECT_EQ(sd.session_version, 2005542025u);
  EXPECT_EQ(sd.origin_username, "-");
  EXPECT_EQ(sd.connection_address, "192.168.1.20");
  ASSERT_EQ(sd.media.size(), 1u);
  const auto& m = sd.media[0];
  EXPECT_EQ(m.port, 10384);
  EXPECT_EQ(m.proto, "RTP/AVP");
  ASSERT_EQ(m.codecs.size(), 4u);
  EXPECT_EQ(m.codecs[0], (codec{111, "opus", 48000, 2, "stereo=1;sprop-stereo=1;useinbandfec=1"}));
  EXPECT_EQ(m.codecs[3], (codec{101, "telephone-event", 8000, 1, "0-15"}));
  EXPECT_TRUE(m.rtcp_mux);
  EXPECT_EQ(m.ptime_ms, 20u);
  EXPECT_EQ(m.dir, direction::sendrecv);
  ASSERT_EQ(m.cryptos.size(), 2u);
  EXPECT_EQ(m.cryptos[0].tag, 1u);
  EXPECT_EQ(m.cryptos[0].suite, crypto_suite::aes_cm_128_hmac_sha1_32);
  EXPECT_EQ(m.cryptos[1].key_salt_base64, "G7zKz5VSDwRj5CrLFNp1u3nmVfU09vBLtEPeTU1T");
  EXPECT_EQ(m.other_attributes,
            (std::vector<std::string>{"label:1", "ssrc:2948117329 cname:88c2e1bd-0d3a-4c38-bf09-1a8b7e5e0f6a"}));
}

TEST(sdp_parse, linphone_offer_keeps_order_and_unknown_attributes) {
  auto sd = parsed(linphone_offer);  // LF-only line endings
  EXPECT_EQ(sd.session_name, "Talk");
  EXPECT_EQ(sd.attributes.size(), 1u);
  const auto& m = sd.media.at(0);
  std::vector<int> pts;
  for (const auto& c : m.codecs) pts.push_back(c.payload_type);
  EXPECT_EQ(pts, (std::vector<int>{96, 97, 98, 0, 8, 101, 99, 100}));
  EXPECT_EQ(m.codecs[0].fmtp, "useinbandfec=1; maxplaybackrate=16000");
  EXPECT_EQ(m.codecs[3].name, "PCMU");  // static, no rtpmap
  EXPECT_EQ(m.other_attributes.size(), 2u);
}

TEST(sdp_parse, static_payload_types_get_their_names) {
  auto sd = parsed(with_audio("RTP/AVP", "", "0 8 9 18 3 13"));
  const auto& c = sd.media[0].codecs;
  EXPECT_EQ(c[0], (codec{0, "PCMU", 8000}));
  EXPECT_EQ(c[1], (codec{8, "PCMA", 8000}));
  EXPECT_EQ(c[2], (codec{9, "G722", 8000}));
  EXPECT_EQ(c[3], (codec{18, "G729", 8000}));
  EXPECT_EQ(c[4].name, "GSM");
  EXPECT_EQ(c[5].name, "CN");
}

TEST(sdp_parse, ipv6_video_and_t38) {
  auto sd = parsed(video_offer);
  EXPECT_TRUE(sd.origin_ipv6);
  EXPECT_TRUE(sd.connection_ipv6);
  ASSERT_EQ(sd.media.size(), 3u);
  EXPECT_EQ(sd.media[0].media, "video");
  EXPECT_EQ(sd.media[0].codecs[0].clock_rate, 90000u);
  EXPECT_TRUE(sd.media[1].ipv6);
  EXPECT_EQ(sd.media[1].connection_address, "2001:db8::20");
  EXPECT_TRUE(sd.media[2].codecs.empty());
  EXPECT_EQ(sd.media[2].formats, (std::vector<std::string>{"t38"}));
  EXPECT_EQ(sd.media[2].other_attributes, (std::vector<std::string>{"T38FaxVersion:0"}));
}

TEST(sdp_parse, media_level_connection_and_direction_override_session_level) {
  auto sd = parsed(
      "v=0\no=- 1 1 IN IP4 a.example.net\ns=\nc=IN IP4 198.51.100.1\nt=0 0\na=sendonly\n"
      "m=audio 5000 RTP/AVP 0\nm=audio 5002 RTP/AVP 0\nc=IN IP4 198.51.100.2\na=recvonly\n");
  EXPECT_EQ(sd.session_name, "-");
  EXPECT_EQ(sd.media[0].connection_address, "198.51.100.1");
  EXPECT_EQ(sd.media[0].dir, direction::sendonly);
  EXPECT_EQ(sd.media[1].connection_address, "198.51.100.2");
  EXPECT_EQ(sd.media[1].dir, direction::recvonly);
}

TEST(sdp_parse, tolerates_blanks_empty_lines_and_fractional_ptime) {
  auto sd = parsed("v=0  \r\no=-  1 1 IN IP4 h\r\ns=x\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n"
                   "m=audio   5000 RTP/AVP 0\t\r\na=ptime:20.0\r\n\r\n");
  EXPECT_EQ(sd.media.at(0).port, 5000);
  EXPECT_EQ(sd.media[0].ptime_ms, 20u);
}

TEST(sdp_parse, crypto_details_and_lines_we_cannot_represent) {
  auto sd = parsed(with_audio("RTP/SAVP",
                              "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 KDR=1\r\n"
                              "a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:key\r\n"
                              "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:a|2^20;inline:b|2^20\r\n"
                              "a=crypto:4 AES_CM_128_HMAC_SHA1_80 psk:whatever\r\n"));
  const auto& m = sd.media.at(0);
  ASSERT_EQ(m.cryptos.size(), 2u);
  EXPECT_EQ(m.cryptos[0].lifetime, "2^20");
  EXPECT_EQ(m.cryptos[0].mki, "1:4");
  EXPECT_EQ(m.cryptos[0].session_params, "KDR=1");
  EXPECT_EQ(m.cryptos[1].suite, crypto_suite::unknown);
  EXPECT_EQ(m.cryptos[1].suite_name, "AES_256_CM_HMAC_SHA1_80");
  EXPECT_EQ(m.other_attributes.size(), 2u);  // the multi-key line and the psk: method
}

TEST(sdp_parse, rtcp_attribute_and_stray_rtpmaps) {
  auto sd = parsed(with_audio("RTP/AVP", "a=rtcp:40011 IN IP4 198.51.100.9\r\na=rtpmap:96 foo/8000\r\n"
                                         "a=rtpmap:0 PCMU/8000\r\na=rtpmap:0 FAKE/8000\r\n"));
  const auto& m = sd.media.at(0);
  EXPECT_EQ(m.rtcp_port, 40011);
  EXPECT_EQ(m.rtcp_address, "198.51.100.9");
  EXPECT_EQ(m.codecs[0].name, "PCMU");  // the first rtpmap for a type wins
  EXPECT_EQ(m.other_attributes, (std::vector<std::string>{"rtpmap:96 foo/8000", "rtpmap:0 FAKE/8000"}));
}

TEST(sdp_parse, hold_detection) {
  media_description m{.connection_address = "198.51.100.1"};
  EXPECT_FALSE(is_hold(m));
  m.dir = direction::sendonly;
  EXPECT_TRUE(is_hold(m));
  m.dir = direction::inactive;
  EXPECT_TRUE(is_hold(m));
  m.dir = direction::recvonly;
  EXPECT_FALSE(is_hold(m));
  m.dir = direction::sendrecv;
  m.connection_address = "0.0.0.0";
  EXPECT_TRUE(is_hold(m));
}

// ---- every way a body is refused names the line ----

struct bad_body {
  std::string body;
  std::string message;
  size_t line;
};

TEST(sdp_parse, errors_name_the_line) {
  const std::string head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n";  // 5 lines
  const std::vector<bad_body> cases = {
      {"", "empty body", 0},
      {"o=- 1 1 IN IP4 h\r\n", "line 1: the body must start with v=0", 1},
      {"v=1\r\n", "line 1: the body must start with v=0", 1},
      {"v=0\r\ns=-\r\nt=0 0\r\n", "missing o= line", 0},
      {"v=0\r\no=- 1 1 IN IP4 h\r\nt=0 0\r\n", "missing s= line", 0},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n", "missing t= line", 0},
      {"v=0\r\no=- 1 1 IN IP4\r\n", "line 2: o= needs 6 fields", 2},
      {"v=0\r\no=- x1 1 IN IP4 h\r\n", "line 2: o= session id is not a number", 2},
      {"v=0\r\no=- 1 99999999999999999999 IN IP4 h\r\n", "line 2: o= session version is not a number", 2},
      {"v=0\r\no=- 1 1 ATM IP4 h\r\n", "line 2: o= network type is not IN", 2},
      {"v=0\r\no=- 1 1 IN IP5 h\r\n", "line 2: o= address type is not IP4 or IP6", 2},
      {"v=0\r\no=- 1 1 IN IP4 h\r\no=- 1 1 IN IP4 h\r\n", "line 3: second o= line", 3},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\ns=-\r\n", "line 4: second s= line", 4},
      {"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n", "line 4: m= before the o=, s= and t= lines", 4},
      {"v=0\r\nx=1\r\n", "line 2: unknown line type x=", 2},
      {"v=0\r\nhello\r\n", "line 2: not a <type>=<value> line", 2},
      {"v=0\r\ns=a\x01z\r\n", "line 2: control character in line", 2},
      {"v=0\r\ns=-\r\nt=0\r\n", "line 3: t= needs a start and a stop time", 3},
      {"v=0\r\nc=IN IP4 224.2.1.1/127\r\n", "line 2: c= multicast addresses (TTL or count) are not supported", 2},
      {"v=0\r\nc=IN IP4 1.2.3.4;rm -rf\r\n", "line 2: c= needs 3 fields", 2},
      {"v=0\r\nc=IN IP4 1.2.3.4;x\r\n", "line 2: c= address '1.2.3.4;x' is not valid", 2},
      {"v=0\r\nc=IN IP6 fe80::1%eth0\r\n", "line 2: c= address 'fe80::1%eth0' is not valid", 2},
      {"v=0\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n", "line 3: second session-level c= line", 3},
      {"v=0\r\na=:x\r\n", "line 2: attribute without a name", 2},
      {head + "m=audio 70000 RTP/AVP 0\r\n", "line 6: m= port is not a number", 6},
      {head + "m=audio 5000/2 RTP/AVP 0\r\n", "line 6: m= port counts are not supported", 6},
      {head + "m=audio 5000 RTP/AVP\r\n", "line 6: m= needs media, port, proto and at least one format", 6},
      {head + "m=audio 5000 RTP/AVP 0 128\r\n", "line 6: m= payload type '128' is not 0-127", 6},
      {head + "m=audio 5000 RTP/AVP 0 -1\r\n", "line 6: m= payload type '-1' is not 0-127", 6},
      {head + "m=audio 5000 RTP/AVP 8 0 8\r\n", "line 6: m= lists payload type 8 twice", 6},
      {head + "m=audio 5000 RTP/AVP 0\r\nt=0 0\r\n", "line 7: t= is not allowed after m=", 7},
      {head + "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.1\r\n",
       "line 8: second c= line in one media section", 8},
      {head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n",
       "line 7: a=rtpmap is not <pt> <name>/<clock rate>[/<channels>]", 7},
      {head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/0\r\n",
       "line 7: a=rtpmap is not <pt> <name>/<clock rate>[/<channels>]", 7},
      {head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2/1\r\n",
       "line 7: a=rtpmap is not <pt> <name>/<clock rate>[/<channels>]", 7},
      {head + "m=audio 5000 RTP/AVP 96\r\na=rtpmap:300 opus/48000\r\n", "line 7: a=rtpmap payload type is not 0-127", 7},
      {head + "m=audio 5000 RTP/AVP 96\r\na=fmtp:x 0-16\r\n", "line 7: a=fmtp payload type is not 0-127", 7},
      {head + "m=audio 5000 RTP/AVP 0\r\na=ptime:twenty\r\n", "line 7: a=ptime is not a number of milliseconds", 7},
      {head + "m=audio 5000 RTP/AVP 0\r\na=maxptime:-1\r\n", "line 7: a=maxptime is not a number of milliseconds", 7},
      {head + "m=audio 5000 RTP/AVP 0\r\na=rtcp:5001 IN IP4\r\n", "line 7: a=rtcp is not <port> [IN IP4|IP6 <address>]", 7},
  };
  for (const auto& c : cases) {
    auto r = parse(c.body);
    auto* e = std::get_if<parse_error>(&r);
    ASSERT_NE(e, nullptr) << c.body;
    EXPECT_EQ(e->message, c.message) << c.body;
    EXPECT_EQ(e->line, c.line) << c.body;
  }
}

TEST(sdp_parse, limits) {
  std::string head = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n";
  std::string many_media = head;
  for (int i = 0; i < 17; ++i) many_media += "m=audio 0 RTP/AVP 0\r\n";
  auto r = parse(many_media);
  ASSERT_TRUE(std::holds_alternative<parse_error>(r));
  EXPECT_EQ(std::get<parse_error>(r).message, "line 22: more than 16 m= lines");

  std::string many_formats = head + "m=audio 5000 RTP/AVP";
  for (int pt = 0; pt < 65; ++pt) many_formats += " " + std::to_string(pt);
  r = parse(many_formats);
  EXPECT_EQ(std::get<parse_error>(r).message, "line 6: more than 64 formats on m=");

  r = parse(head + "a=x:" + std::string(max_line_bytes, 'y') + "\r\n");
  EXPECT_EQ(std::get<parse_error>(r).message, "line 6: line is longer than 4096 bytes");

  std::string big = head;
  while (big.size() <= max_body_bytes) big += "a=tool:" + std::string(1000, 'z') + "\r\n";
  r = parse(big);
  EXPECT_EQ(std::get<parse_error>(r).message, "body is larger than 65536 bytes");
  // Not a terminated string: parse must stop at the view's end.
  std::string body = crlf(sipp_offer);
  r = parse(std::string_view(body).substr(0, body.size() - 2));
  EXPECT_TRUE(std::holds_alternative<session_description>(r));
}

// ---- printing ----

TEST(sdp_print, round_trip_of_every_sample) {
  for (auto sample : {baresip_offer, linphone_offer, asterisk_offer, sipp_offer, video_offer}) {
    auto first = parsed(sample);
    std::string text = to_string(first);
    EXPECT_EQ(parsed(text), first) << text;
    EXPECT_EQ(to_string(parsed(text)), text);
    EXPECT_EQ(text.find("\n"), text.find("\r\n") + 1);
  }
}

TEST(sdp_print, order_and_crlf) {
  session_description sd{.session_id = 7, .session_version = 8, .origin_address = "192.0.2.1",
                         .connection_address = "192.0.2.1"};
  media_description m{.media = "audio", .port = 30000, .proto = "RTP/SAVP"};
  m.codecs = {{8, "PCMA", 8000}, {101, "telephone-event", 8000, 1, "0-16"}};
  m.connection_address = "192.0.2.1";
  m.dir = direction::sendonly;
  m.rtcp_mux = true;
  m.ptime_ms = 20;
  m.cryptos.push_back({1, crypto_suite::aes_cm_128_hmac_sha1_80, "", "KEY"});
  m.other_attributes = {"label:1"};
  sd.media.push_back(m);
  EXPECT_EQ(to_string(sd),
            "v=0\r\no=- 7 8 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
            "m=audio 30000 RTP/SAVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendonly\r\na=rtcp-mux\r\n"
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY\r\na=label:1\r\n");
}

// ---- answering ----

endpoint_policy with_srtp(srtp_policy p) {
  endpoint_policy policy;
  policy.srtp = p;
  return policy;
}

TEST(sdp_answer, opus_preferred_from_baresip) {
  auto r = answered(parsed(baresip_offer), with_srtp(srtp_policy::off));
  const auto& a = r.answer.media.at(0);
  ASSERT_EQ(a.codecs.size(), 1u);  // telephone-event is only offered at 8000
  EXPECT_EQ(a.codecs[0], (codec{111, "opus", 48000, 2, "maxplaybackrate=48000;stereo=0;useinbandfec=1"}));
  EXPECT_EQ(a.port, 30000);
  EXPECT_EQ(a.proto, "RTP/AVP");
  EXPECT_TRUE(a.cryptos.empty());
  EXPECT_EQ(r.answer.session_name, "-");
  EXPECT_EQ(r.answer.connection_address, "192.0.2.1");
  EXPECT_EQ(a.ptime_ms, 20u);
  EXPECT_EQ(r.session.audio.payload_type, 111);
  EXPECT_FALSE(r.session.telephone_event);
  EXPECT_TRUE(r.session.opus_stereo);
  EXPECT_TRUE(r.session.opus_useinbandfec);
  EXPECT_EQ(r.session.remote_address, "192.168.1.20");
  EXPECT_EQ(r.session.remote_port, 10384);
  EXPECT_EQ(parsed(to_string(r.answer)), r.answer);
}

TEST(sdp_answer, telephone_event_follows_the_chosen_clock_rate) {
  auto linphone = answered(parsed(linphone_offer));
  ASSERT_TRUE(linphone.session.telephone_event);
  EXPECT_EQ(linphone.session.telephone_event->payload_type, 101);  // the 48000 one, offerer's PT
  EXPECT_EQ(linphone.answer.media[0].codecs.at(1), (codec{101, "telephone-event", 48000, 1, "0-16"}));
  EXPECT_EQ(linphone.session.opus_maxplaybackrate, 16000u);
  EXPECT_FALSE(linphone.session.opus_stereo);

  auto asterisk = answered(parsed(asterisk_offer));
  EXPECT_EQ(asterisk.session.audio, (codec{8, "PCMA", 8000}));  // our preference, not the offer's G722
  EXPECT_EQ(asterisk.session.telephone_event->clock_rate, 8000u);
  EXPECT_EQ(asterisk.session.ptime_ms, 30u);  // what the peer asked to receive
}

TEST(sdp_answer, pcmu_only_caller) {
  auto r = answered(parsed(sipp_offer));
  EXPECT_EQ(r.answer.media.at(0).codecs, (std::vector<codec>{{0, "PCMU", 8000}}));
  EXPECT_FALSE(r.session.telephone_event);
  EXPECT_FALSE(r.session.rtcp_mux);
  EXPECT_EQ(r.session.remote_rtcp_port, 6001);
  EXPECT_FALSE(r.answer.media[0].rtcp_mux);
}

TEST(sdp_answer, no_common_codec_and_no_audio) {
  EXPECT_EQ(refused(parsed(with_audio("RTP/AVP", "", "18 101"))), "no common codec");
  auto video_only = parsed(video_offer);
  video_only.media.erase(video_only.media.begin() + 1);
  EXPECT_EQ(refused(video_only), "no audio stream");
  EXPECT_EQ(refused(parsed(with_audio("UDP/TLS/RTP/SAVPF", ""))), "transport UDP/TLS/RTP/SAVPF is not supported");
}

TEST(sdp_answer, unsupported_streams_keep_their_place_with_port_zero) {
  auto r = answered(parsed(video_offer));
  ASSERT_EQ(r.answer.media.size(), 3u);
  EXPECT_EQ(r.answer.media[0].media, "video");
  EXPECT_EQ(r.answer.media[0].port, 0);
  EXPECT_EQ(r.answer.media[1].port, 30000);
  EXPECT_EQ(r.answer.media[1].codecs[0].name, "PCMA");
  EXPECT_EQ(r.answer.media[2].port, 0);
  EXPECT_EQ(r.answer.media[2].formats, (std::vector<std::string>{"t38"}));
  EXPECT_EQ(r.session.remote_address, "2001:db8::20");
  EXPECT_EQ(parsed(to_string(r.answer)), r.answer);
}

TEST(sdp_answer, second_audio_stream_taken_when_the_first_has_no_common_codec) {
  auto offer = parsed(with_audio("RTP/AVP", "m=audio 40002 RTP/AVP 8\r\n", "18"));
  auto r = answered(offer);
  EXPECT_EQ(r.answer.media.at(0).port, 0);
  EXPECT_EQ(r.answer.media.at(1).port, 30000);
  EXPECT_EQ(r.session.remote_port, 40002);
}

TEST(sdp_answer, hold_directions) {
  struct hold_case {
    std::string extra;
    direction answer;
  };
  for (const auto& c : std::vector<hold_case>{{"a=sendonly\r\n", direction::recvonly},
                                              {"a=recvonly\r\n", direction::sendonly},
                                              {"a=inactive\r\n", direction::inactive},
                                              {"a=sendrecv\r\n", direction::sendrecv},
                                              {"c=IN IP4 0.0.0.0\r\n", direction::recvonly},
                                              {"c=IN IP4 0.0.0.0\r\na=inactive\r\n", direction::inactive}}) {
    auto r = answered(parsed(with_audio("RTP/AVP", c.extra)));
    EXPECT_EQ(r.answer.media.at(0).dir, c.answer) << c.extra;
    EXPECT_EQ(r.session.local_direction, c.answer) << c.extra;
  }
}

TEST(sdp_answer, reinvite_hold_then_unhold_keeps_session_id_and_bumps_version) {
  auto offer = parsed(crlf(baresip_offer));
  auto first = answered(offer);
  auto same = answered(offer, {}, &first.answer, 99);
  EXPECT_EQ(same.answer, first.answer);  // nothing changed: same version (RFC 3264 §8)

  offer.media[0].dir = direction::sendonly;
  auto hold = answered(offer, {}, &first.answer, 50);
  EXPECT_EQ(hold.answer.session_id, first.answer.session_id);
  EXPECT_EQ(hold.answer.session_version, first.answer.session_version + 1);
  EXPECT_EQ(hold.session.local_direction, direction::recvonly);
  EXPECT_EQ(hold.session.local_crypto, first.session.local_crypto);  // same tag and suite: same key

  offer.media[0].dir = direction::sendrecv;
  auto unhold = answered(offer, {}, &hold.answer, 70);
  EXPECT_EQ(unhold.answer.session_version, hold.answer.session_version + 1);
  EXPECT_EQ(unhold.session.local_direction, direction::sendrecv);

  offer.media[0].cryptos.erase(offer.media[0].cryptos.begin());  // tag 1 gone: answer tag 2, new key
  auto rekeyed = answered(offer, {}, &unhold.answer, 90);
  EXPECT_EQ(rekeyed.session.local_crypto->tag, 2u);
  EXPECT_NE(rekeyed.session.local_crypto->key_salt_base64, first.session.local_crypto->key_salt_base64);
}

TEST(sdp_answer, rtcp_mux_and_rtcp_port) {
  auto muxed = answered(parsed(with_audio("RTP/AVP", "a=rtcp-mux\r\n")));
  EXPECT_TRUE(muxed.answer.media[0].rtcp_mux);
  EXPECT_EQ(muxed.session.remote_rtcp_port, 40000);
  auto explicit_port = answered(parsed(with_audio("RTP/AVP", "a=rtcp:40009\r\n")));
  EXPECT_FALSE(explicit_port.answer.media[0].rtcp_mux);
  EXPECT_EQ(explicit_port.session.remote_rtcp_port, 40009);
}

// ---- SRTP ----

struct suite_case {
  std::string_view name;
  std::string_view key;
  crypto_suite suite;
  size_t key_bytes;
};

class sdp_srtp_suite : public testing::TestWithParam<suite_case> {};

TEST_P(sdp_srtp_suite, answered_with_same_tag_and_a_fresh_key_of_the_right_length) {
  const auto& p = GetParam();
  auto offer = parsed(with_audio("RTP/SAVP", "a=crypto:7 " + std::string(p.name) + " inline:" + std::string(p.key) + "\r\n"));
  auto r = answered(offer, with_srtp(srtp_policy::required));
  const auto& a = r.answer.media.at(0);
  EXPECT_EQ(a.proto, "RTP/SAVP");
  ASSERT_EQ(a.cryptos.size(), 1u);
  EXPECT_EQ(a.cryptos[0].tag, 7u);
  EXPECT_EQ(a.cryptos[0].suite, p.suite);
  EXPECT_EQ(a.cryptos[0].suite_name, p.name);
  EXPECT_TRUE(a.cryptos[0].lifetime.empty() && a.cryptos[0].mki.empty() && a.cryptos[0].session_params.empty());
  EXPECT_EQ(base64_length(a.cryptos[0].key_salt_base64), p.key_bytes);
  EXPECT_EQ(decode_key_salt(*r.session.remote_crypto)->size(), p.key_bytes);
  auto ours_key = decode_key_salt(*r.session.local_crypto);
  ASSERT_TRUE(ours_key);
  EXPECT_EQ((*ours_key)[0], 9);  // bytes 1..8 went to the o= session id
  EXPECT_NE(r.session.local_crypto->key_salt_base64, p.key);
  EXPECT_NE(to_string(r.answer).find("inline:" + a.cryptos[0].key_salt_base64 + "\r\n"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    suites, sdp_srtp_suite,
    testing::Values(suite_case{"AES_CM_128_HMAC_SHA1_80", "TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex",
                               crypto_suite::aes_cm_128_hmac_sha1_80, 30},
                    suite_case{"AES_CM_128_HMAC_SHA1_32", "/3DU5w/LHF7/yA+uu1ArlaCc1iVhyoPMau6aq24t",
                               crypto_suite::aes_cm_128_hmac_sha1_32, 30},
                    suite_case{"AEAD_AES_128_GCM", "zUvsG4mNgXOnybcS9R7DQHyocGKIzWO7xrD86Q==",
                               crypto_suite::aead_aes_128_gcm, 28}));

TEST(sdp_srtp, unusable_lines_are_skipped_in_offer_order) {
  auto offer = parsed(with_audio(
      "RTP/SAVP",
      "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:qI1OvX3MRp6VussXD3TkZSZVXP2MN/xtj6PQwf0FlCStzA8rJb2irG56+/z6OA==\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:ojEuZHGHUuwxC2S2/tzHhOO6qievtplkwoKk2Bw=\r\n"
      "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex|2^31|1:4\r\n"
      "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex|2^20\r\n"
      "a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex UNENCRYPTED_SRTCP\r\n"
      "a=crypto:6 AEAD_AES_128_GCM inline:MlbD7qKN0tJTid19QztYEqGat8TY+VZhg/eTAw|2^48\r\n"));
  const auto& c = offer.media.at(0).cryptos;
  EXPECT_STREQ(unusable_crypto_reason(c[0]), "unknown crypto suite");
  EXPECT_STREQ(unusable_crypto_reason(c[1]), "key||salt is not the suite's length");  // 29 bytes
  EXPECT_STREQ(unusable_crypto_reason(c[2]), "MKI is not supported");
  EXPECT_STREQ(unusable_crypto_reason(c[3]), "key lifetime under 2^31 packets");
  EXPECT_STREQ(unusable_crypto_reason(c[4]), "session parameters are not supported");
  auto r = answered(offer);
  EXPECT_EQ(r.session.local_crypto->tag, 6u);  // GCM key without its "==" padding is fine
  EXPECT_EQ(r.session.local_crypto->suite, crypto_suite::aead_aes_128_gcm);

  offer.media[0].cryptos.pop_back();
  EXPECT_EQ(refused(offer), "no usable crypto suite");
}

TEST(sdp_srtp, policies) {
  auto plain = parsed(sipp_offer);
  EXPECT_EQ(refused(plain, with_srtp(srtp_policy::required)), "SRTP required");
  auto savp = parsed(with_audio("RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex\r\n"));
  EXPECT_EQ(refused(savp, with_srtp(srtp_policy::off)), "SRTP is not enabled");
  EXPECT_EQ(refused(parsed(with_audio("RTP/SAVP", ""))), "RTP/SAVP offered without a=crypto");

  auto best_effort = parsed(baresip_offer);
  auto ignored = answered(best_effort, with_srtp(srtp_policy::off));
  EXPECT_FALSE(ignored.session.local_crypto);
  auto taken = answered(best_effort, with_srtp(srtp_policy::optional));
  EXPECT_EQ(taken.answer.media[0].proto, "RTP/AVP");  // mirrored, with the crypto line
  EXPECT_EQ(taken.answer.media[0].cryptos.at(0).tag, 1u);
  EXPECT_EQ(taken.session.remote_crypto, best_effort.media[0].cryptos[0]);
  auto required = answered(best_effort, with_srtp(srtp_policy::required));
  EXPECT_TRUE(required.session.local_crypto);
  EXPECT_FALSE(answered(plain, with_srtp(srtp_policy::optional)).session.local_crypto);
}

TEST(sdp_srtp, decode_key_salt_checks_length_and_alphabet) {
  crypto c{1, crypto_suite::aes_cm_128_hmac_sha1_80, "", "TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpex"};
  EXPECT_EQ(decode_key_salt(c)->size(), 30u);
  c.key_salt_base64 = "TFoHIJCdiQZuKkLVA904vIHDQ9ZcpevcASCPzpe!";
  EXPECT_FALSE(decode_key_salt(c));
  c.key_salt_base64 = "zUvsG4mNgXOnybcS9R7DQHyocGKIzWO7xrD86Q==";
  EXPECT_FALSE(decode_key_salt(c));  // 28 bytes is GCM's length, not AES_CM's
  c.suite = crypto_suite::aead_aes_128_gcm;
  EXPECT_EQ(decode_key_salt(c)->size(), 28u);
  c.key_salt_base64 = "zUvsG4mNgXOnybcS9R7DQHyocGKIzWO7xrD86Q=";
  EXPECT_FALSE(decode_key_salt(c));
}

// ---- offering and accepting answers ----

TEST(sdp_offer, default_offer) {
  auto offer = make_offer({}, ours, counting_random());
  const auto& m = offer.media.at(0);
  std::vector<int> pts;
  for (const auto& c : m.codecs) pts.push_back(c.payload_type);
  EXPECT_EQ(pts, (std::vector<int>{111, 8, 0, 101, 100}));
  EXPECT_EQ(m.codecs[0], (codec{111, "opus", 48000, 2, "maxplaybackrate=48000;stereo=0;useinbandfec=1"}));
  EXPECT_EQ(m.codecs[3], (codec{101, "telephone-event", 48000, 1, "0-16"}));
  EXPECT_EQ(m.codecs[4], (codec{100, "telephone-event", 8000, 1, "0-16"}));
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_TRUE(m.rtcp_mux);
  ASSERT_EQ(m.cryptos.size(), 3u);
  EXPECT_EQ(m.cryptos[2].suite, crypto_suite::aead_aes_128_gcm);
  EXPECT_EQ(decode_key_salt(m.cryptos[2])->size(), 28u);
  EXPECT_EQ(parsed(to_string(offer)), offer);

  EXPECT_EQ(make_offer(with_srtp(srtp_policy::required), ours, counting_random()).media[0].proto, "RTP/SAVP");
  EXPECT_TRUE(make_offer(with_srtp(srtp_policy::off), ours, counting_random()).media[0].cryptos.empty());
  endpoint_policy narrow;
  narrow.codec_preference = {"PCMU"};
  narrow.offer_rtcp_mux = false;
  auto pcmu = make_offer(narrow, {"2001:db8::1", true, 4000}, counting_random());
  EXPECT_EQ(pcmu.media[0].codecs.size(), 2u);
  EXPECT_FALSE(pcmu.media[0].rtcp_mux);
  EXPECT_NE(to_string(pcmu).find("c=IN IP6 2001:db8::1\r\n"), std::string::npos);
}

TEST(sdp_offer, hold_reoffer_keeps_id_and_keys) {
  auto first = make_offer({}, ours, counting_random(1));
  auto hold = make_offer({}, ours, counting_random(100), &first, direction::sendonly);
  EXPECT_EQ(hold.session_id, first.session_id);
  EXPECT_EQ(hold.session_version, first.session_version + 1);
  EXPECT_EQ(hold.media[0].dir, direction::sendonly);
  EXPECT_EQ(hold.media[0].cryptos, first.media[0].cryptos);
  auto again = make_offer({}, ours, counting_random(200), &hold, direction::sendonly);
  EXPECT_EQ(again.session_version, hold.session_version);
}

TEST(sdp_offer, our_answer_accepted_by_our_offerer) {
  auto offer = make_offer({}, ours, counting_random(1));
  auto r = answer_offer(parsed(to_string(offer)), {}, {"198.51.100.50", false, 50000}, counting_random(77));
  auto& answer = std::get<answer_result>(r);
  auto accepted = accept_answer(offer, parsed(to_string(answer.answer)), {});
  ASSERT_TRUE(std::holds_alternative<negotiated>(accepted)) << std::get<negotiation_error>(accepted).reason;
  const auto& n = std::get<negotiated>(accepted);
  EXPECT_EQ(n.audio.name, "opus");
  EXPECT_EQ(n.telephone_event->payload_type, 101);
  EXPECT_EQ(n.remote_address, "198.51.100.50");
  EXPECT_EQ(n.remote_rtcp_port, 50000);
  EXPECT_TRUE(n.rtcp_mux);
  EXPECT_EQ(n.local_direction, direction::sendrecv);
  // Each side decrypts with what the other encrypts with.
  EXPECT_EQ(n.local_crypto, answer.session.remote_crypto);
  EXPECT_EQ(n.remote_crypto, answer.session.local_crypto);
}

TEST(sdp_offer, accept_answer_refuses_mismatches) {
  auto offer = make_offer({}, ours, counting_random(1));
  auto good = std::get<answer_result>(answer_offer(offer, {}, {"198.51.100.50", false, 50000}, counting_random(77))).answer;
  auto reason = [&](auto change, const endpoint_policy& policy = {}) {
    auto answer = good;
    change(answer.media[0]);
    auto r = accept_answer(offer, answer, policy);
    return std::holds_alternative<negotiation_error>(r) ? std::get<negotiation_error>(r).reason : "(accepted)";
  };
  using md = media_description;
  EXPECT_EQ(reason([](md& m) { m.codecs[0].payload_type = 96; }), "the answer chose payload type 96, which we did not offer");
  EXPECT_EQ(reason([](md& m) { m.codecs[0].name = "speex"; }), "the answer maps payload type 111 to speex, we offered opus");
  EXPECT_EQ(reason([](md& m) { m.codecs.erase(m.codecs.begin()); }), "the answer has no audio codec");
  EXPECT_EQ(reason([](md& m) { m.port = 0; }), "the answer rejected the audio stream");
  EXPECT_EQ(reason([](md& m) { m.proto = "RTP/SAVP"; }), "the answer changed the transport to RTP/SAVP");
  EXPECT_EQ(reason([](md& m) { m.media = "video"; }), "m= line 1 of the answer is not audio");
  EXPECT_EQ(reason([](md& m) { m.cryptos[0].tag = 9; }), "the answer's crypto tag 9 was not offered");
  EXPECT_EQ(reason([](md& m) { m.cryptos[0].suite = crypto_suite::aes_cm_128_hmac_sha1_32; }),
            "the answer's crypto tag 1 names another suite");
  EXPECT_EQ(reason([](md& m) { m.cryptos[0].key_salt_base64 = "short"; }),
            "the answer's crypto: key||salt is not the suite's length");
  EXPECT_EQ(reason([](md& m) { m.cryptos.push_back(m.cryptos[0]); }), "the answer has more than one a=crypto");
  EXPECT_EQ(reason([](md& m) { m.cryptos.clear(); }), "(accepted)");  // best effort: plain is fine
  EXPECT_EQ(reason([](md& m) { m.cryptos.clear(); }, with_srtp(srtp_policy::required)), "SRTP required");
  EXPECT_EQ(reason([](md& m) { m.codecs[0].name.clear(); }), "(accepted)");  // rtpmap left out

  auto extra = good;
  extra.media.push_back(good.media[0]);
  EXPECT_EQ(std::get<negotiation_error>(accept_answer(offer, extra, {})).reason,
            "the answer has 2 m= lines, the offer had 1");
  auto plain_offer = make_offer(with_srtp(srtp_policy::off), ours, counting_random(1));
  EXPECT_EQ(std::get<negotiation_error>(accept_answer(plain_offer, good, {})).reason,
            "the answer has a=crypto but we offered none");
}

TEST(sdp_offer, accept_answer_directions) {
  auto check = [](direction offered, direction answered_dir, std::string_view address, direction expected) {
    auto offer = make_offer({}, ours, counting_random(1), nullptr, offered);
    auto answer = std::get<answer_result>(answer_offer(offer, {}, {"198.51.100.50", false, 50000}, counting_random(5))).answer;
    answer.media[0].dir = answered_dir;
    answer.media[0].connection_address = std::string(address);
    auto n = std::get<negotiated>(accept_answer(offer, answer, {}));
    EXPECT_EQ(n.local_direction, expected) << to_string(offered) << "/" << to_string(answered_dir);
  };
  check(direction::sendrecv, direction::sendrecv, "198.51.100.50", direction::sendrecv);
  check(direction::sendrecv, direction::recvonly, "198.51.100.50", direction::sendonly);
  check(direction::sendrecv, direction::sendonly, "198.51.100.50", direction::recvonly);
  check(direction::sendonly, direction::recvonly, "198.51.100.50", direction::sendonly);
  check(direction::sendonly, direction::inactive, "198.51.100.50", direction::inactive);
  check(direction::sendrecv, direction::sendrecv, "0.0.0.0", direction::recvonly);
}

}  // namespace
}  // namespace hotline::sdp
