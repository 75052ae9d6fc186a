// Codecs and SRTP on an engine's legs, on both I/O paths: PCMU <-> Opus at the caller's
// bandwidth, Opus FEC following the phone's loss reports and recovering lost packets,
// SDES-SRTP with forgeries counted and never played.
#include <gtest/gtest.h>

#include "media/rtp/rtcp_stats.hpp"
#include "tests/media/media_engine_fixture.hpp"
#include "tests/media/speech_material.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using media::leg_role;
using media::media_event;

TEST_P(media_engine, pcmu_caller_and_opus_agent_are_transcoded_at_the_callers_bandwidth) {
  running r(config());
  rtp_peer caller, agent;
  r.join_pcmu_caller_and_opus_agent(caller, agent);
  caller.stream_pcmu(tone(440, 8000, 1), 2.0);
  agent.collect(200ms);
  auto pk = agent.rtp_with_pt(111);
  ASSERT_GT(pk.size(), 80u);
  for (size_t i = 1; i < pk.size(); ++i) EXPECT_EQ(pk[i].h.timestamp - pk[i - 1].h.timestamp, 960u);  // RFC 7587: 48 kHz clock
  // Narrowband Opus: the TOC byte's config is 0-3 (SILK NB) or 16-19 (CELT NB) (RFC 6716 §3.1).
  int toc_config = static_cast<int>(static_cast<uint8_t>(pk.back().payload[0]) >> 3);
  EXPECT_TRUE(toc_config <= 3 || (toc_config >= 16 && toc_config <= 19)) << toc_config;
  auto pcm = agent.opus_audio(111, 48000);
  ASSERT_GT(pcm.size(), 48000u);
  EXPECT_GT(tone_share(std::span(pcm).subspan(pcm.size() / 2, 24000), 440, 48000), 0.7);
  r.close();
}

// The agent's Opus from a G.711 caller: CELT at 40 kbit/s while the agent's phone reports
// no loss (FEC data would cost the clean stream its quality); once its RTCP reports loss,
// SILK with in-band FEC (the peer asked for it: useinbandfec=1); back when the loss is gone.
TEST_P(media_engine, the_agents_opus_carries_fec_only_while_its_phone_reports_loss) {
  running r(config());
  rtp_peer caller, agent;
  r.join_pcmu_caller_and_opus_agent(caller, agent);
  const auto& speech = mandarin_speech(greeting_text);
  ASSERT_GT(speech.size(), 8000u * 3) << "espeak-ng or sox failed";
  // RFC 6716 §3.1: TOC config 0-3 SILK narrowband, 16-19 CELT narrowband. A code-0 SILK
  // packet of one 20 ms mono frame has its LBRR (FEC) flag in bit 6 of the byte after
  // the TOC (§4.2.3).
  struct mix {
    size_t celt = 0, silk = 0, silk_with_fec = 0, other = 0;
  };
  auto since = [&](size_t from) {
    mix m;
    auto pk = agent.rtp_with_pt(111);
    for (size_t i = from; i < pk.size(); ++i) {
      const auto& p = pk[i].payload;
      int config = static_cast<int>(static_cast<uint8_t>(p[0]) >> 3);
      if (config >= 16 && config <= 19) ++m.celt;
      else if (config <= 3 && p.size() > 1) {
        ++m.silk;
        if ((static_cast<uint8_t>(p[0]) & 3) == 0 && (static_cast<uint8_t>(p[1]) >> 6 & 1)) ++m.silk_with_fec;
      } else ++m.other;
    }
    return m;
  };
  auto report_loss = [&](uint8_t fraction_lost) {  // an RR from the agent's phone about our stream
    auto pk = agent.rtp_with_pt(111);
    ASSERT_FALSE(pk.empty());
    rtp::rtcp_report rr;
    rr.ssrc = agent.ssrc;
    rtp::report_block b;
    b.ssrc = pk.back().h.ssrc;
    b.fraction_lost = fraction_lost;
    rr.blocks.push_back(b);
    std::vector<std::byte> buf(512);
    buf.resize(rtp::build_rtcp(rr, "agent", buf));
    agent.send_raw(buf, true);
  };
  caller.stream_pcmu(speech, 1.5);
  agent.collect(100ms);
  auto clean = since(10);
  EXPECT_GT(clean.celt, 50u);
  EXPECT_EQ(clean.silk + clean.other, 0u);

  report_loss(13);  // 5 %
  agent.collect(60ms);
  size_t mark = agent.rtp_with_pt(111).size();
  caller.stream_pcmu(speech, 1.5);
  agent.collect(100ms);
  auto lossy = since(mark);
  EXPECT_EQ(lossy.celt + lossy.other, 0u);
  EXPECT_GT(lossy.silk, 50u);
  EXPECT_GT(lossy.silk_with_fec, lossy.silk / 2) << "SILK without its FEC data";

  for (int i = 0; i < 4; ++i) report_loss(0);  // 5 % -> 2 -> 1 -> 0: it falls halfway per report
  agent.collect(60ms);
  mark = agent.rtp_with_pt(111).size();
  caller.stream_pcmu(speech, 1.0);
  agent.collect(100ms);
  auto again = since(mark + 5);
  EXPECT_GT(again.celt, 30u);
  EXPECT_EQ(again.silk, 0u);
  r.close();
}

// An Opus phone that loses packets on the way in: after the first loss the leg's jitter
// buffer holds one more frame, so the packet after a lost one is there when the lost one
// is played, and its in-band FEC data recovers it instead of plain concealment.
TEST_P(media_engine, lost_opus_packets_are_recovered_from_the_next_packets_fec) {
  running r(config());
  rtp_peer caller, agent;
  r.join_pcmu_caller_and_opus_agent(caller, agent);
  const auto& speech = mandarin_speech(greeting_text);
  ASSERT_GT(speech.size(), 8000u * 3) << "espeak-ng or sox failed";
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, &err);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(10));
  auto start = std::chrono::steady_clock::now();
  size_t dropped = 0;
  for (size_t f = 0; f < 150; ++f) {  // 3 s, every 10th packet lost on the way
    std::array<unsigned char, 400> packet;
    int n = opus_encode(enc, speech.data() + f * 160 % (speech.size() - 160), 160, packet.data(), packet.size());
    ASSERT_GT(n, 0);
    if (f % 10 == 5) {
      agent.advance(960);
      agent.skip_sequence();
      ++dropped;
    } else {
      agent.send(111, std::as_bytes(std::span(packet.data(), static_cast<size_t>(n))), f == 0);
      agent.advance(960);
    }
    std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * (f + 1)));
    caller.drain();
    agent.drain();
  }
  opus_encoder_destroy(enc);
  auto closed = r.close();
  const media::leg_report* leg = nullptr;
  for (const auto& rep : closed.reports)
    if (rep.role == leg_role::agent) leg = &rep;
  ASSERT_NE(leg, nullptr);
  // The first loss finds the buffer at one frame; after it, each is recovered.
  EXPECT_GE(leg->fec_recovered, dropped - 2) << "of " << dropped << " lost";
}

TEST_P(media_engine, srtp_legs_encrypt_and_count_forgeries_without_playing_them) {
  running r(config());
  auto& eng = r.eng;
  auto s = r.s;
  rtp_peer caller, agent;
  auto keyed = [](uint16_t port, char ours, char theirs) {
    sdp::negotiated n = pcmu_to(port);
    n.local_crypto = sdp::crypto{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, ours), "", "", ""};
    n.remote_crypto = sdp::crypto{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, theirs), "", "", ""};
    return n;
  };
  auto caller_leg = keyed(caller.port(), 'A', 'B');  // engine encrypts with A, the phone with B
  caller.target(r.open(leg_role::caller));
  eng.configure_leg(s, leg_role::caller, caller_leg);
  r.join(agent, leg_role::agent);  // the agent leg stays plain
  auto key = [](const sdp::crypto& c) { return *sdp::decode_key_salt(c); };
  caller.srtp_out.emplace(std::get<0>(rtp::srtp_session::create(caller_leg.remote_crypto->suite, key(*caller_leg.remote_crypto),
                                                                 rtp::srtp_session::direction::outbound)));
  caller.srtp_in.emplace(std::get<0>(rtp::srtp_session::create(caller_leg.local_crypto->suite, key(*caller_leg.local_crypto),
                                                                rtp::srtp_session::direction::inbound)));
  std::thread t([&] { agent.stream_pcmu(tone(1000, 8000, 1), 1.5); });
  caller.stream_pcmu(tone(440, 8000, 1), 1.5);
  t.join();
  // A forged packet (another key) is dropped and counted.
  rtp_peer forger;
  forger.target(0);
  {
    auto forged = rtp::srtp_session::create(sdp::crypto_suite::aes_cm_128_hmac_sha1_80,
                                            key(sdp::crypto{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, 'Z'), "", "", ""}),
                                            rtp::srtp_session::direction::outbound);
    caller.srtp_out.emplace(std::move(std::get<0>(forged)));
    std::array<std::byte, 160> junk{};
    for (int i = 0; i < 5; ++i) caller.send(0, junk);
  }
  caller.collect(200ms);
  agent.collect(200ms);
  EXPECT_EQ(caller.undecryptable, 0u);
  auto heard = agent.pcmu_audio();
  ASSERT_GT(heard.size(), 4000u);
  EXPECT_GT(tone_share(std::span(heard).subspan(heard.size() / 2, 2000), 440, 8000), 0.8);
  auto to_caller = caller.pcmu_audio();
  ASSERT_GT(to_caller.size(), 4000u);
  EXPECT_GT(tone_share(std::span(to_caller).subspan(to_caller.size() / 2, 2000), 1000, 8000), 0.8);
  auto closed = r.close();
  EXPECT_TRUE(closed.reports[0].srtp);
  EXPECT_EQ(closed.reports[0].srtp_auth_failures, 5u);
}

}  // namespace
}  // namespace hotline::test
