// The media engine over real loopback sockets: scripted RTP peers on both legs of a
// session, driven through the engine's command interface as a call actor drives it.
// (The media thread's I/O under stress: media_engine_io_test.cpp.)
#include <gtest/gtest.h>

#include <atomic>

#include "media/rtp/rtcp_stats.hpp"
#include "tests/media/media_engine_fixture.hpp"
#include "tests/media/speech_material.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using media::leg_role;
using media::media_event;

TEST_P(media_engine, g711_bridge_carries_audio_both_ways_with_a_continuous_stream) {
  running r(config());
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  std::thread t([&] { agent.stream_pcmu(tone(1000, 8000, 1), 2.0); });
  caller.stream_pcmu(tone(440, 8000, 1), 2.0);
  t.join();
  caller.collect(200ms);
  agent.collect(200ms);
  // The agent hears the caller's 440 Hz, the caller the agent's 1 kHz (after the jitter buffer fills).
  auto heard_by_agent = agent.pcmu_audio();
  auto heard_by_caller = caller.pcmu_audio();
  ASSERT_GT(heard_by_agent.size(), 8000u);
  ASSERT_GT(heard_by_caller.size(), 8000u);
  auto tail = [](const std::vector<int16_t>& v) { return std::span(v).subspan(v.size() / 2, 4000); };
  EXPECT_GT(tone_share(tail(heard_by_agent), 440, 8000), 0.8);
  EXPECT_LT(tone_share(tail(heard_by_agent), 1000, 8000), 0.05);
  EXPECT_GT(tone_share(tail(heard_by_caller), 1000, 8000), 0.8);
  // One SSRC, consecutive sequence numbers, timestamps 160 apart, a marker on the first:
  // the engine's own frames before the caller's first packet, the caller's packets
  // forwarded as they came, the engine's frames again after the caller stopped. Only there
  // the clock may move on by the pause it saw (40-80 ms), as a new talkspurt.
  auto pk = agent.rtp_with_pt(0);
  ASSERT_GT(pk.size(), 80u);
  EXPECT_TRUE(pk[0].h.marker);
  size_t pauses = 0;
  for (size_t i = 1; i < pk.size(); ++i) {
    EXPECT_EQ(pk[i].h.ssrc, pk[0].h.ssrc);
    EXPECT_EQ(static_cast<uint16_t>(pk[i].h.sequence - pk[i - 1].h.sequence), 1) << i;
    const uint32_t step = pk[i].h.timestamp - pk[i - 1].h.timestamp;
    if (step != 160 && i >= 95) {  // the caller's 100 frames were sent: a pause may follow
      ++pauses;
      EXPECT_TRUE(pk[i].h.marker) << i;
      EXPECT_GE(step, 320u) << i;
      EXPECT_LE(step, 640u) << i;
      continue;
    }
    EXPECT_EQ(step, 160u) << i;
    EXPECT_FALSE(pk[i].h.marker) << i;
  }
  EXPECT_LE(pauses, 1u);
  EXPECT_GT(r.eng.stats().forwarded_on_arrival, 80u) << "a plain G.711 bridge forwards packets as they are read";
  auto closed = r.close();
  ASSERT_EQ(closed.reports.size(), 2u);
  EXPECT_GE(closed.reports[0].packets_received, 95u);
  EXPECT_EQ(closed.reports[0].codec, "PCMU");
  EXPECT_EQ(closed.reports[0].quality.packets_lost, 0);
}

// A plain bridge relays: each caller packet goes to the agent as it is read, byte for
// byte, and a packet the caller's network lost is a gap the agent's phone sees (and
// conceals), not a frame the engine made up.
TEST_P(media_engine, a_g711_bridge_forwards_packets_as_they_come_and_losses_as_gaps) {
  running r(config());
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  const auto pcm = tone(440, 8000, 1);
  std::vector<std::array<uint8_t, 160>> sent(50);  // the 1 s tone is 50 distinct frames
  for (size_t f = 0; f < sent.size(); ++f) {
    std::array<int16_t, 160> s{};
    std::copy_n(pcm.begin() + static_cast<std::ptrdiff_t>(f * 160), 160, s.begin());
    codec::encode_ulaw(s, sent[f]);
  }
  std::srand(11);
  caller.stream_pcmu(pcm, 3.0, 0.08);
  agent.collect(200ms);
  auto pk = agent.rtp_with_pt(0);
  ASSERT_GT(pk.size(), 100u);
  size_t gaps = 0, checked = 0;
  for (size_t i = 20; i + 20 < pk.size(); ++i) {  // while the caller streams
    const auto dseq = static_cast<uint16_t>(pk[i].h.sequence - pk[i - 1].h.sequence);
    const uint32_t dts = pk[i].h.timestamp - pk[i - 1].h.timestamp;
    EXPECT_EQ(dts, 160u * dseq) << i << ": the sequence and the clock skip together";
    if (dseq > 1) ++gaps;
    // Each packet is one of the caller's frames, byte for byte (no concealment made up).
    bool known = std::any_of(sent.begin(), sent.end(), [&](const auto& frame) {
      return pk[i].payload.size() == 160 && std::memcmp(frame.data(), pk[i].payload.data(), 160) == 0;
    });
    EXPECT_TRUE(known) << i << ": a frame the caller never sent";
    ++checked;
  }
  EXPECT_GT(checked, 80u);
  EXPECT_GE(gaps, 4u) << "the caller's losses reach the agent as sequence gaps";
  auto closed = r.close();
  EXPECT_GT(closed.reports[0].quality.packets_lost, 4);
}

// The caller's phone starts a new stream mid-call (new SSRC, its clock elsewhere, as after
// a re-INVITE to another device): the agent's stream goes on from where it was.
TEST_P(media_engine, a_new_source_on_a_forwarded_leg_continues_the_agents_stream) {
  running r(config());
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  caller.stream_pcmu(tone(440, 8000, 1), 1.0);
  caller.ssrc = 0x55aa55aa;
  caller.advance(8000 * 30);  // 30 s ahead
  caller.stream_pcmu(tone(440, 8000, 1), 1.0);
  agent.collect(100ms);
  auto pk = agent.rtp_with_pt(0);
  ASSERT_GT(pk.size(), 95u);
  size_t jumps = 0;
  for (size_t i = 1; i < 95; ++i) {
    EXPECT_EQ(pk[i].h.ssrc, pk[0].h.ssrc);
    EXPECT_EQ(static_cast<uint16_t>(pk[i].h.sequence - pk[i - 1].h.sequence), 1) << i;
    const uint32_t step = pk[i].h.timestamp - pk[i - 1].h.timestamp;
    if (step != 160) {
      ++jumps;
      EXPECT_TRUE(pk[i].h.marker) << i << ": a new talkspurt";
      EXPECT_LE(step, 480u) << i << ": moved on by the time between the streams, not by the caller's jump";
    }
  }
  EXPECT_LE(jumps, 1u);
  EXPECT_GT(r.eng.stats().forwarded_on_arrival, 60u);
  r.close();
}

// Forwarding hands over to the tick's mixing and back without a gap or a repeat: a
// supervisor whispers in the middle of a plain bridge.
TEST_P(media_engine, whisper_in_a_forwarded_bridge_keeps_the_agents_stream_continuous) {
  running r(config());
  rtp_peer caller, agent, lead;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  r.join(lead, leg_role::supervisor);
  r.eng.set_mix(r.s, mix::preset(mix::mode::bridge));
  // (The engine's figures are refreshed once a second.)
  std::thread c([&] { caller.stream_pcmu(tone(440, 8000, 1), 3.0); });
  std::thread l([&] { lead.stream_pcmu(tone(1700, 8000, 1), 3.0); });
  std::this_thread::sleep_for(1200ms);
  const uint64_t before = r.eng.stats().forwarded_on_arrival;
  r.eng.set_mix(r.s, mix::preset(mix::mode::whisper));
  std::this_thread::sleep_for(800ms);
  r.eng.set_mix(r.s, mix::preset(mix::mode::bridge));
  c.join();
  l.join();
  agent.collect(200ms);
  EXPECT_GT(before, 0u);
  EXPECT_GT(r.eng.stats().forwarded_on_arrival, before) << "forwarding again after the whisper";
  auto pk = agent.rtp_with_pt(0);
  ASSERT_GT(pk.size(), 145u);
  const size_t end = 140;  // the caller's 150 frames: after them the clock may move on
  for (size_t i = 1; i < end; ++i) {
    EXPECT_EQ(pk[i].h.ssrc, pk[0].h.ssrc);
    EXPECT_EQ(static_cast<uint16_t>(pk[i].h.sequence - pk[i - 1].h.sequence), 1) << i;
    EXPECT_EQ(pk[i].h.timestamp - pk[i - 1].h.timestamp, 160u) << i;
  }
  // The whisper was heard in the middle, and the caller throughout.
  auto pcm = agent.pcmu_audio();
  ASSERT_GT(pcm.size(), 8000u * 2);
  auto middle = std::span(pcm).subspan(static_cast<size_t>(8000 * 1.5), 2400);
  EXPECT_GT(tone_share(middle, 1700, 8000), 0.2);
  EXPECT_GT(tone_share(middle, 440, 8000), 0.2);
  r.close();
}

TEST_P(media_engine, symmetric_rtp_sends_where_the_peer_really_sends_from) {
  running r(config());
  auto& eng = r.eng;
  auto s = r.s;
  rtp_peer behind_nat, sdp_says;
  uint16_t local = r.open(leg_role::caller);
  behind_nat.target(local);
  eng.configure_leg(s, leg_role::caller, pcmu_to(sdp_says.port()));  // SDP names a private address:port
  eng.play(s, std::make_shared<media::pcm_clip>(media::pcm_clip{8000, tone(440, 8000, 2)}), {leg_role::caller});
  behind_nat.stream_pcmu(tone(300, 8000, 1), 1.0);
  behind_nat.collect(200ms);
  sdp_says.collect(10ms);
  EXPECT_GT(behind_nat.rtp_with_pt(0).size(), 30u) << "latched onto the real source";
  // Before the first packet the SDP's address was all there was.
  EXPECT_LT(sdp_says.rtp_with_pt(0).size(), 10u);
  EXPECT_EQ(behind_nat.last_from_port, local);  // and from the port we advertised (symmetric)
  r.close();
}

TEST_P(media_engine, silent_leg_raises_stream_timeout_and_resumes) {
  auto c = config();
  c.stream_timeout = 300ms;
  running r(c);
  auto& eng = r.eng;
  auto& ev = r.ev;
  auto s = r.s;
  rtp_peer caller;
  r.join(caller, leg_role::caller);
  ASSERT_TRUE(ev.wait(media_event::kind::stream_timeout, 1, 2s));
  EXPECT_EQ(ev.last(media_event::kind::stream_timeout).leg, leg_role::caller);
  caller.stream_pcmu(tone(440, 8000, 1), 0.2);
  EXPECT_TRUE(ev.wait(media_event::kind::stream_resumed, 1, 2s));
  // On hold (we only send), silence is expected: no timeout.
  auto held = pcmu_to(caller.port());
  held.local_direction = sdp::direction::sendonly;
  eng.configure_leg(s, leg_role::caller, held);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(ev.count(media_event::kind::stream_timeout), 1u);
  r.close();
}

TEST_P(media_engine, rfc4733_digits_in_and_out) {
  running r(config());
  auto& eng = r.eng;
  auto& ev = r.ev;
  auto s = r.s;
  rtp_peer caller;
  r.join(caller, leg_role::caller);
  // The caller presses 5 for 120 ms: start, updates, three end packets (one timestamp).
  for (int i = 1; i <= 6; ++i) {
    rtp::telephone_event te{5, i == 6, 10, static_cast<uint16_t>(i * 160)};
    std::array<std::byte, 4> p;
    rtp::build_telephone_event(te, p);
    for (int k = 0; k < (i == 6 ? 3 : 1); ++k) caller.send(101, p, i == 1);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(ev.wait(media_event::kind::dtmf));
  EXPECT_EQ(ev.last(media_event::kind::dtmf).digit, '5');
  EXPECT_EQ(ev.last(media_event::kind::dtmf).duration_ms, 120u);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(ev.count(media_event::kind::dtmf), 1u) << "the end packet's copies are one digit";
  // Out: the engine sends "1#" to the trunk.
  eng.send_dtmf(s, leg_role::caller, "1#");
  ASSERT_TRUE(ev.wait(media_event::kind::dtmf_sent));
  caller.collect(100ms);
  auto te = caller.rtp_with_pt(101);
  ASSERT_GE(te.size(), 10u);
  std::vector<std::pair<char, int>> ends;
  uint32_t first_ts = te[0].h.timestamp;
  EXPECT_TRUE(te[0].h.marker);
  for (const auto& p : te) {
    auto e = rtp::parse_telephone_event(p.payload);
    ASSERT_TRUE(e);
    if (p.h.timestamp == first_ts) {
      EXPECT_EQ(rtp::event_to_digit(e->event), '1');
    }
    if (e->end) ends.emplace_back(rtp::event_to_digit(e->event), e->duration);
  }
  ASSERT_EQ(ends.size(), 6u);  // three end packets per digit
  EXPECT_EQ(ends[0].first, '1');
  EXPECT_EQ(ends[3].first, '#');
  EXPECT_EQ(ends[0].second, 800);  // 100 ms at 8 kHz
  r.close();
}

TEST_P(media_engine, listen_whisper_and_barge_decide_who_hears_the_supervisor) {
  running r(config());
  auto& eng = r.eng;
  auto s = r.s;
  rtp_peer caller, agent, lead;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  r.join(lead, leg_role::supervisor);
  auto run = [&](mix::mode m) {
    eng.set_mix(s, mix::preset(m));
    caller.packets.clear();
    agent.packets.clear();
    lead.packets.clear();
    std::thread a([&] { agent.stream_pcmu(tone(1000, 8000, 1), 1.0); });
    std::thread l([&] { lead.stream_pcmu(tone(1700, 8000, 1), 1.0); });
    caller.stream_pcmu(tone(440, 8000, 1), 1.0);
    a.join();
    l.join();
    caller.collect(100ms);
  };
  auto share = [](const rtp_peer& p, double hz) {
    auto pcm = p.pcmu_audio();
    return pcm.size() < 4000 ? 0.0 : tone_share(std::span(pcm).subspan(pcm.size() - 3000, 2400), hz, 8000);
  };
  run(mix::mode::listen);  // N-40: the supervisor hears both, nobody hears the supervisor
  EXPECT_GT(share(lead, 440), 0.2);
  EXPECT_GT(share(lead, 1000), 0.2);
  EXPECT_LT(share(caller, 1700), 0.01);
  EXPECT_LT(share(agent, 1700), 0.01);
  run(mix::mode::whisper);  // the agent hears the supervisor, the caller does not
  EXPECT_GT(share(agent, 1700), 0.2);
  EXPECT_LT(share(caller, 1700), 0.01);
  run(mix::mode::barge);  // everyone hears everyone
  EXPECT_GT(share(caller, 1700), 0.2);
  EXPECT_GT(share(caller, 1000), 0.2);
  r.close();
}

TEST_P(media_engine, a_prompt_plays_only_into_the_legs_it_is_sent_to) {
  running r(config(), 16000);  // a wideband session: the 8 kHz clip is resampled
  auto& ev = r.ev;
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  r.eng.play(r.s, std::make_shared<media::pcm_clip>(media::pcm_clip{8000, tone(600, 8000, 1.0)}), {leg_role::caller});
  ASSERT_TRUE(ev.wait(media_event::kind::playback_done, 1, 3s));
  caller.collect(100ms);
  agent.collect(100ms);
  auto c = caller.pcmu_audio();
  ASSERT_GT(c.size(), 8000u);
  EXPECT_GT(tone_share(std::span(c).subspan(2000, 4000), 600, 8000), 0.8);
  EXPECT_LT(rms(agent.pcmu_audio()), 50) << "the agent hears nothing of the caller's prompt";
  r.close();
}

TEST_P(media_engine, rtcp_reports_flow_both_ways_with_loss_and_round_trip) {
  auto c = config();
  c.rtcp_interval = 200ms;
  running r(c);
  rtp_peer caller;
  r.join(caller, leg_role::caller);
  std::srand(7);
  caller.stream_pcmu(tone(440, 8000, 1), 1.5, 0.1);  // 10 % lost on the way in
  // The engine's SR: its own stream, and a block about ours with the loss it saw.
  std::optional<rtp::rtcp_report> sr;
  for (const auto& p : caller.packets) {
    if (!p.rtcp) continue;
    std::vector<rtp::rtcp_report> reports;
    bool bye = false;
    if (!rtp::parse_rtcp(p.payload, reports, bye)) continue;
    for (const auto& r : reports)
      if (r.sender && !r.blocks.empty()) sr = r;
  }
  ASSERT_TRUE(sr) << "no SR with a report block";
  EXPECT_EQ(sr->blocks[0].ssrc, caller.ssrc);
  EXPECT_GT(sr->blocks[0].cumulative_lost, 0);
  // Our RR about its stream, answering its SR: the engine computes the round trip.
  rtp::rtcp_report rr;
  rr.ssrc = caller.ssrc;
  rtp::report_block b;
  b.ssrc = sr->ssrc;
  b.fraction_lost = 64;
  b.cumulative_lost = 3;
  b.jitter = 80;
  b.last_sr = rtp::ntp_middle(sr->sender->ntp_timestamp);
  b.delay_since_last_sr = 0;
  rr.blocks.push_back(b);
  std::vector<std::byte> buf(512);
  buf.resize(rtp::build_rtcp(rr, "phone", buf));
  caller.send_raw(buf, true);
  std::this_thread::sleep_for(100ms);
  auto closed = r.close();
  const auto& q = closed.reports[0].quality;
  EXPECT_GT(q.packets_lost, 3);
  EXPECT_EQ(q.peer_reports, 1u);
  EXPECT_DOUBLE_EQ(q.peer_fraction_lost, 0.25);
  EXPECT_DOUBLE_EQ(q.peer_jitter_ms, 10.0);
  EXPECT_GE(q.round_trip_ms, 0);
  EXPECT_LT(q.round_trip_ms, 2000);
}

TEST_P(media_engine, dead_air_is_reported_when_both_sides_are_silent) {
  auto c = config();
  c.dead_air_ms = 400;
  c.talk_over_ms = 300;
  running r(c);
  auto& ev = r.ev;
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  std::thread t([&] { agent.stream_pcmu(tone(1000, 8000, 1), 1.0); });
  caller.stream_pcmu(tone(440, 8000, 1), 1.0);  // both talk: talk-over, no dead air
  t.join();
  EXPECT_EQ(ev.count(media_event::kind::dead_air), 0u);
  EXPECT_GE(ev.count(media_event::kind::talk_over), 1u);
  std::thread t2([&] { agent.stream_pcmu(std::vector<int16_t>(160, 0), 1.0); });
  caller.stream_pcmu(std::vector<int16_t>(160, 0), 1.0);  // silence from both
  t2.join();
  EXPECT_TRUE(ev.wait(media_event::kind::dead_air, 1, 1s));
  auto closed = r.close();
  EXPECT_GE(closed.activity.dead_air_ms, 400u);
  EXPECT_GE(closed.activity.caller_speech_ms, 800u);
}

TEST_P(media_engine, hold_and_resume_keep_ssrc_sequence_and_timestamp_continuous) {
  running r(config());
  auto& eng = r.eng;
  auto s = r.s;
  rtp_peer caller;
  caller.target(r.open(leg_role::caller));
  auto n = pcmu_to(caller.port());
  eng.configure_leg(s, leg_role::caller, n);
  caller.collect(300ms);
  auto held = n;
  held.local_direction = sdp::direction::recvonly;  // we hold: nothing sent
  eng.configure_leg(s, leg_role::caller, held);
  std::this_thread::sleep_for(50ms);
  caller.collect(10ms);
  size_t before = caller.rtp_with_pt(0).size();
  caller.collect(300ms);
  EXPECT_LE(caller.rtp_with_pt(0).size(), before + 1) << "nothing sent on hold";
  eng.configure_leg(s, leg_role::caller, n);
  caller.collect(300ms);
  auto pk = caller.rtp_with_pt(0);
  ASSERT_GT(pk.size(), before + 5);
  size_t gap = 0;
  for (size_t i = 1; i < pk.size(); ++i) {
    EXPECT_EQ(pk[i].h.ssrc, pk[0].h.ssrc);
    EXPECT_EQ(static_cast<uint16_t>(pk[i].h.sequence - pk[i - 1].h.sequence), 1) << "no sequence gap across hold";
    if (pk[i].h.timestamp - pk[i - 1].h.timestamp != 160) {
      gap = i;
      EXPECT_TRUE(pk[i].h.marker) << "a new talkspurt after hold";
      // The timestamp moved on with the wall clock (RFC 3550 §5.1): ~300 ms.
      EXPECT_NEAR(static_cast<double>(pk[i].h.timestamp - pk[i - 1].h.timestamp), 8000 * 0.35, 8000 * 0.15);
    }
  }
  EXPECT_GT(gap, 0u);
  r.close();
}

// A media thread that stalls (here a tap consumer that blocks it for 100 ms, against the
// tap's contract) must, once it runs again, read every datagram that waited before it
// plays the ticks it owes: none may be played as lost and then dropped as late. 24 legs
// with packets waiting: more than the 20 task-work items Linux 6.1x runs for a plain
// io_uring_get_events. Returns each leg's closing report.

TEST_P(media_engine, the_tap_delivers_opus_of_both_parties) {
  running r(config());
  auto& eng = r.eng;
  auto s = r.s;
  rtp_peer caller, agent;
  r.join(caller, leg_role::caller);
  r.join(agent, leg_role::agent);
  std::mutex m;
  std::vector<std::vector<std::byte>> frames;
  eng.set_tap(s, [&](std::span<const std::byte> opus, uint32_t) {
    std::lock_guard l(m);
    frames.emplace_back(opus.begin(), opus.end());
  });
  std::thread t([&] { agent.stream_pcmu(tone(1000, 8000, 1), 1.0); });
  caller.stream_pcmu(tone(440, 8000, 1), 1.0);
  t.join();
  r.close();
  std::lock_guard l(m);
  ASSERT_GT(frames.size(), 40u);
  int err = 0;
  OpusDecoder* d = opus_decoder_create(8000, 1, &err);
  std::vector<int16_t> pcm;
  for (const auto& f : frames) {
    std::vector<int16_t> out(480);
    int k = opus_decode(d, reinterpret_cast<const unsigned char*>(f.data()), static_cast<opus_int32>(f.size()), out.data(), 480, 0);
    if (k > 0) pcm.insert(pcm.end(), out.begin(), out.begin() + k);
  }
  opus_decoder_destroy(d);
  auto mid = std::span(pcm).subspan(pcm.size() / 2, 2400);
  EXPECT_GT(tone_share(mid, 440, 8000), 0.25);
  EXPECT_GT(tone_share(mid, 1000, 8000), 0.25);
}

TEST_P(media_engine, inband_tones_on_a_g711_trunk_without_telephone_event_are_detected) {
  running r(config());
  auto& eng = r.eng;
  auto& ev = r.ev;
  auto s = r.s;
  rtp_peer trunk;
  trunk.target(r.open(leg_role::caller));
  auto n = pcmu_to(trunk.port());
  n.telephone_event.reset();  // an old gateway: tones in the audio
  eng.configure_leg(s, leg_role::caller, n);
  // "3" = 697 Hz + 1477 Hz for 120 ms, then silence; then "#" = 941 + 1477 Hz.
  auto dual = [](double f1, double f2) {
    auto a = tone(f1, 8000, 0.12, 5000), b = tone(f2, 8000, 0.12, 5000);
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<int16_t>(a[i] + b[i]);
    a.resize(a.size() + 1600, 0);
    return a;
  };
  auto pcm = dual(697, 1477);
  auto hash = dual(941, 1477);
  pcm.insert(pcm.end(), hash.begin(), hash.end());
  pcm.resize(pcm.size() + 1600, 0);
  trunk.stream_pcmu(pcm, static_cast<double>(pcm.size()) / 8000.0);
  ASSERT_TRUE(ev.wait(media_event::kind::dtmf, 2, 2s));
  std::lock_guard l(ev.m);
  std::string digits;
  for (const auto& e : ev.list)
    if (e.what == media_event::kind::dtmf) digits += e.digit;
  EXPECT_EQ(digits, "3#");
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(io, media_engine, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "io_uring" : "epoll"; });

}  // namespace hotline::test
