// The media engine heard through real softphones (issue 4, "Tests with real peers"):
// baresip callers, agents and supervisors around a test B2BUA (tests/media/
// bridge_server.hpp: the SIP edge and the engine doing what the call actor will do).
// Each phone plays a WAV as its microphone and records what it hears (the sndfile
// module); what one side played is scored against what the other side heard with the
// similarity tool (tests/support/audio_similarity.hpp): >= 0.9 clean, >= 0.75 through a
// relay with 3 % loss and 0-40 ms jitter. DTMF goes both ways; listen/whisper/barge
// (N-40) are checked by who hears whose tone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>

#include "tests/media/bridge_server.hpp"
#include "tests/media/lossy_relay.hpp"
#include "tests/support/audio_similarity.hpp"
#include "tests/support/baresip.hpp"
#include "tests/support/speech.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using media::leg_role;
using media::media_event;

// A phone's microphone: `samples` with silence before (the far leg is up by then) and
// after (the call ends with the file: the other side's speech must be over by then).
struct microphone {
  std::string path;
  wav_audio audio;
};
microphone make_microphone(const std::string& path, std::vector<int16_t> samples, uint32_t rate, double before_s,
                           double total_s) {
  microphone m{path, {rate, 1, {}}};
  m.audio.samples.assign(static_cast<size_t>(before_s * rate), 0);
  m.audio.samples.insert(m.audio.samples.end(), samples.begin(), samples.end());
  m.audio.samples.resize(std::max(m.audio.samples.size(), static_cast<size_t>(total_s * rate)), 0);
  write_wav(path, m.audio);
  return m;
}

std::vector<int16_t> sine(double hz, uint32_t rate, double seconds, double amplitude = 8000) {
  std::vector<int16_t> s(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate));
  return s;
}

// Power at `hz` (Goertzel) over the window's total power: ~1 for that tone alone, ~0.5
// for it mixed with another tone as loud, ~0 when it is absent.
double tone_share(std::span<const int16_t> s, double hz, uint32_t rate) {
  if (s.empty()) return 0;
  double c = 2 * std::cos(2 * std::numbers::pi * hz / rate), s1 = 0, s2 = 0, total = 0;
  for (int16_t x : s) {
    double s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += static_cast<double>(x) * x;
  }
  double power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return total > 0 ? 2 * power / (total * static_cast<double>(s.size())) : 0;
}

struct media_peers : ::testing::Test {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("media_peers." + std::to_string(getpid()) + "." +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override {
    if (!HasFailure() && !keep_peer_dirs()) std::filesystem::remove_all(dir);
  }

  baresip_options phone(const std::string& user, std::vector<std::string> codecs, const std::string& wav) {
    baresip_options o;
    o.user = user;
    o.dir = dir + "/" + user;
    o.audio_codecs = std::move(codecs);
    o.audio_file = wav;
    o.record = true;
    return o;
  }
  static sdp::endpoint_policy policy(std::vector<std::string> codecs, sdp::srtp_policy srtp = sdp::srtp_policy::off) {
    sdp::endpoint_policy p;
    p.codec_preference = std::move(codecs);
    p.srtp = srtp;
    return p;
  }

  // The caller dials 12333; the harness brings the agent in; both ends are established.
  static void connect(bridge_server& server, baresip_peer& caller, baresip_peer& agent) {
    ASSERT_TRUE(caller.dial("sip:12333@" + server.address())) << caller.log();
    ASSERT_TRUE(agent.wait_event("CALL_ESTABLISHED", 15s)) << "the agent's phone did not answer" << agent.log();
    ASSERT_TRUE(caller.wait_event("CALL_ESTABLISHED", 15s)) << "the caller was not connected" << caller.log();
  }
  // Waits for the caller's file to end the call and the harness to close the session.
  static void wait_for_the_end(bridge_server& server, baresip_peer& caller, std::chrono::seconds timeout) {
    ASSERT_TRUE(caller.wait_event("CALL_CLOSED", timeout)) << caller.log();
    ASSERT_TRUE(server.wait([&] { return server.closed(); }, 10s)) << [&] {
      auto lock = server.lock();
      std::string out = "the media session was not closed; SIP events:";
      for (const auto& e : server.sip_events)
        out += " [ref " + std::to_string(e.ref) + " " + std::string(sip::to_string(e.kind)) + " " +
               std::string(sip::to_string(e.cause)) + "]";
      out += "; legs:";
      for (const auto& [role, leg] : server.legs_)
        out += " [" + std::string(media::to_string(role)) + " ref " + std::to_string(leg.ref) +
               (leg.up ? " up" : "") + (leg.ended ? " ended" : "") + "]";
      for (const auto& p : server.problems) out += "; " + p;
      return out + caller.log(3000);
    }();
  }
  // What the phone heard (the sndfile module's decoded stream), once baresip has quit
  // and closed its files.
  static std::optional<wav_audio> heard(baresip_peer& p) {
    p.quit();
    for (const auto& f : p.recordings()) {
      if (f.ends_with("-dec.wav")) return read_wav(f);
    }
    return std::nullopt;
  }
  static similarity_result score(const microphone& sent, const wav_audio& received, const std::string& what) {
    auto r = audio_similarity(sent.audio.samples, sent.audio.sample_rate, channel_of(received, 0), received.sample_rate);
    std::printf("[ similarity ] %s: %.4f (lag %.1f ms, overlap %.1f s, waveform %.3f)\n", what.c_str(), r.score,
                r.lag_ms, r.overlap_s, r.waveform);
    ::testing::Test::RecordProperty(what, std::to_string(r.score));
    return r;
  }
};

// ---- speech both ways across a transcoding bridge ---------------------------------------

struct speech_call {
  microphone caller_mic, agent_mic;
};

// The caller's sentence from the caller (at `caller_rate`), the agent's from the agent;
// the caller's file is the longer so the agent's speech is over when the call ends.
speech_call speech_for(const std::string& dir, uint32_t caller_rate, uint32_t agent_rate) {
  auto greeting = speech_at(caller_text, caller_rate, dir);
  auto other = speech_at(agent_text, agent_rate, dir);
  double greeting_s = static_cast<double>(greeting.size()) / caller_rate;
  double other_s = static_cast<double>(other.size()) / agent_rate;
  double caller_total = 1.0 + std::max(greeting_s, other_s) + 1.5;
  return {make_microphone(dir + "/caller.wav", std::move(greeting), caller_rate, 1.0, caller_total),
          make_microphone(dir + "/agent.wav", std::move(other), agent_rate, 1.0, caller_total + 30)};
}

struct speech_figures {
  double agent_heard = 0, caller_heard = 0;
};

// One bridged call of `call` through `server`: both directions scored.
void run_speech_call(bridge_server& server, const speech_call& call, baresip_options caller_o, baresip_peer& agent,
                     speech_figures& out) {
  caller_o.domain = server.address();
  baresip_peer caller(caller_o);
  ASSERT_TRUE(caller.start()) << caller.error();
  media_peers::connect(server, caller, agent);
  media_peers::wait_for_the_end(server, caller, 60s);
  auto to_agent = media_peers::heard(agent);
  auto to_caller = media_peers::heard(caller);
  ASSERT_TRUE(to_agent) << "no recording from the agent's phone" << agent.log();
  ASSERT_TRUE(to_caller) << "no recording from the caller's phone" << caller.log();
  out.agent_heard = media_peers::score(call.caller_mic, *to_agent, "caller_to_agent").score;
  out.caller_heard = media_peers::score(call.agent_mic, *to_caller, "agent_to_caller").score;
  // The score tells the sentences apart: nobody hears their own voice back.
  EXPECT_LT(media_peers::score(call.agent_mic, *to_agent, "agent_own_voice").score, 0.5);
}

TEST_F(media_peers, opus_caller_and_pcmu_agent_hear_each_others_speech) {
  auto call = speech_for(dir, 48000, 8000);
  ASSERT_FALSE(call.caller_mic.audio.samples.empty()) << "espeak-ng/sox failed";
  bridge_server::options o;
  o.caller_policy = policy({"opus"});
  o.agent_policy = policy({"PCMU"});
  auto agent_o = phone("8001", {"PCMU/8000/1"}, call.agent_mic.path);
  baresip_peer agent(agent_o);
  ASSERT_TRUE(agent.start()) << agent.error();
  o.agent_target = agent.uri();
  bridge_server server(o);
  ASSERT_EQ(server.start(), "");
  auto caller_o = phone("13800000000", {"opus/48000/2"}, call.caller_mic.path);
  speech_figures f;
  run_speech_call(server, call, caller_o, agent, f);
  if (HasFatalFailure()) return;
  EXPECT_GE(f.agent_heard, 0.9);
  EXPECT_GE(f.caller_heard, 0.9);
  auto lock = server.lock();
  ASSERT_TRUE(server.legs_[leg_role::caller].media && server.legs_[leg_role::agent].media);
  EXPECT_EQ(server.legs_[leg_role::caller].media->audio.name, "opus");
  EXPECT_EQ(server.legs_[leg_role::agent].media->audio.name, "PCMU");
}

TEST_F(media_peers, srtp_on_both_legs_pcmu_caller_opus_agent) {
  auto call = speech_for(dir, 8000, 48000);
  ASSERT_FALSE(call.caller_mic.audio.samples.empty()) << "espeak-ng/sox failed";
  bridge_server::options o;
  o.caller_policy = policy({"PCMU"}, sdp::srtp_policy::required);
  o.agent_policy = policy({"opus"}, sdp::srtp_policy::required);
  o.record_path = dir + "/call.opus";
  auto agent_o = phone("8002", {"opus/48000/2"}, call.agent_mic.path);
  agent_o.mediaenc = "srtp-mand";
  baresip_peer agent(agent_o);
  ASSERT_TRUE(agent.start()) << agent.error();
  o.agent_target = agent.uri();
  bridge_server server(o);
  ASSERT_EQ(server.start(), "");
  auto caller_o = phone("13800000001", {"PCMU/8000/1"}, call.caller_mic.path);
  caller_o.domain = server.address();
  caller_o.mediaenc = "srtp-mand";

  baresip_peer caller(caller_o);
  ASSERT_TRUE(caller.start()) << caller.error();
  connect(server, caller, agent);
  ASSERT_TRUE(caller.wait_event("CALL_MENC", 10s)) << caller.log();
  ASSERT_TRUE(agent.wait_event("CALL_MENC", 10s)) << agent.log();
  EXPECT_EQ(caller.srtp_suite(), "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(agent.srtp_suite(), "AES_CM_128_HMAC_SHA1_80");
  wait_for_the_end(server, caller, 60s);
  auto to_agent = heard(agent);
  auto to_caller = heard(caller);
  ASSERT_TRUE(to_agent && to_caller) << agent.log() << caller.log();
  EXPECT_GE(score(call.caller_mic, *to_agent, "srtp_caller_to_agent").score, 0.9);
  EXPECT_GE(score(call.agent_mic, *to_caller, "srtp_agent_to_caller").score, 0.9);

  // N-42, the 12333 call: the recording's left channel is the caller, its right the agent.
  // With an Opus agent both sides are the packets the engine had (sent to the agent,
  // received from it), stored without encoding again.
  ASSERT_TRUE(server.wait([&] { return server.recording.has_value(); }, 20s)) << "the recording did not finish";
  {
    auto lock = server.lock();
    ASSERT_FALSE(server.recording->error) << server.recording->error->message;
  }
  const std::string stereo = dir + "/recording.wav";
  ASSERT_EQ(std::system(("opusdec --quiet --rate 48000 " + server.recording->path + " " + stereo + " 2>/dev/null").c_str()), 0);
  auto recorded = read_wav(stereo);
  ASSERT_TRUE(recorded && recorded->channels == 2);
  auto left = audio_similarity(call.caller_mic.audio.samples, call.caller_mic.audio.sample_rate, channel_of(*recorded, 0),
                               recorded->sample_rate);
  auto right = audio_similarity(call.agent_mic.audio.samples, call.agent_mic.audio.sample_rate, channel_of(*recorded, 1),
                                recorded->sample_rate);
  auto crossed = audio_similarity(call.agent_mic.audio.samples, call.agent_mic.audio.sample_rate,
                                  channel_of(*recorded, 0), recorded->sample_rate);
  std::printf("[ similarity ] recording: caller left %.4f, agent right %.4f, agent in the left %.4f\n", left.score,
              right.score, crossed.score);
  EXPECT_GE(left.score, 0.9) << "the caller's channel";
  EXPECT_GE(right.score, 0.9) << "the agent's channel";
  EXPECT_LT(crossed.score, 0.5) << "the agent is heard in the caller's channel";

  auto lock = server.lock();
  for (auto role : {leg_role::caller, leg_role::agent}) {
    const auto& leg = server.legs_[role];
    ASSERT_TRUE(leg.media && leg.media->local_crypto && leg.media->remote_crypto) << media::to_string(role);
    EXPECT_EQ(leg.media->local_crypto->suite, sdp::crypto_suite::aes_cm_128_hmac_sha1_80);
    EXPECT_EQ(leg.media->remote_crypto->suite, sdp::crypto_suite::aes_cm_128_hmac_sha1_80);
  }
  const media_event* closed = nullptr;
  for (const auto& e : server.media_events)
    if (e.what == media_event::kind::closed) closed = &e;
  ASSERT_TRUE(closed);
  for (const auto& r : closed->reports) {
    if (r.role == leg_role::supervisor) continue;
    EXPECT_TRUE(r.srtp) << media::to_string(r.role);
    // baresip 1.0 sends two RTCP packets in the clear on an SRTP stream: an APP
    // "PINGPONG" before its SRTP context is up and its RTCP BYE at hangup (seen in a
    // capture). The engine drops and counts them; nothing else may fail.
    EXPECT_LE(r.srtp_auth_failures, 2u) << media::to_string(r.role);
    EXPECT_GT(r.packets_received, 200u) << media::to_string(r.role);
  }
}

TEST_F(media_peers, speech_survives_loss_and_jitter_from_a_relay) {
  auto call = speech_for(dir, 48000, 8000);
  ASSERT_FALSE(call.caller_mic.audio.samples.empty()) << "espeak-ng/sox failed";
  lossy_relay relay({});
  ASSERT_TRUE(relay.ok());
  bridge_server::options o;
  o.caller_policy = policy({"opus"});
  o.agent_policy = policy({"PCMU"});
  o.caller_relay = &relay;
  auto agent_o = phone("8003", {"PCMU/8000/1"}, call.agent_mic.path);
  baresip_peer agent(agent_o);
  ASSERT_TRUE(agent.start()) << agent.error();
  o.agent_target = agent.uri();
  bridge_server server(o);
  ASSERT_EQ(server.start(), "");
  auto caller_o = phone("13800000002", {"opus/48000/2"}, call.caller_mic.path);
  speech_figures f;
  run_speech_call(server, call, caller_o, agent, f);
  if (HasFatalFailure()) return;
  auto c = relay.figures();
  std::printf("[ relay ] forwarded %llu, dropped %llu (%.1f %%)\n", static_cast<unsigned long long>(c.forwarded),
              static_cast<unsigned long long>(c.dropped), 100.0 * static_cast<double>(c.dropped) / static_cast<double>(c.forwarded + c.dropped));
  EXPECT_GT(c.dropped, 0u);
  EXPECT_GT(c.forwarded, 500u) << "the caller's media went through the relay both ways";
  EXPECT_GE(f.agent_heard, 0.75);
  EXPECT_GE(f.caller_heard, 0.75);
}

// ---- DTMF ---------------------------------------------------------------------------------

// Both legs G.711: baresip 1.0 has telephone-event/8000 only, so a phone on Opus alone
// answers our telephone-event/48000 without it and gets no RFC 4733 digits at all.
// The agent's phone registers with digest here and is called by its user name.
TEST_F(media_peers, dtmf_from_the_callers_phone_and_to_the_agents_registered_phone) {
  auto caller_mic = make_microphone(dir + "/caller.wav", {}, 8000, 0, 20);  // silence
  auto agent_mic = make_microphone(dir + "/agent.wav", {}, 8000, 0, 40);
  bridge_server::options o;
  o.caller_policy = policy({"PCMU"});
  o.agent_policy = policy({"PCMA"});
  o.agent_target = "8004";
  bridge_server server(o);
  server.credentials.add("8004", "agent-secret");
  ASSERT_EQ(server.start(), "");
  auto agent_o = phone("8004", {"PCMA/8000/1"}, agent_mic.path);
  agent_o.domain = server.address();
  agent_o.auth_pass = "agent-secret";
  agent_o.regint = 300;
  baresip_peer agent(agent_o);
  ASSERT_TRUE(agent.start()) << agent.error();
  ASSERT_TRUE(agent.wait_registered()) << agent.log();
  ASSERT_TRUE(server.wait([&] { return server.registrations() > 0; }));
  auto caller_o = phone("13800000003", {"PCMU/8000/1"}, caller_mic.path);
  caller_o.domain = server.address();
  baresip_peer caller(caller_o);
  ASSERT_TRUE(caller.start()) << caller.error();
  connect(server, caller, agent);

  // In: one digit at a time, the next once the engine has reported the last.
  const std::string digits = "159#";
  for (size_t i = 0; i < digits.size(); ++i) {
    ASSERT_TRUE(caller.send_digits(std::string(1, digits[i]))) << caller.log();
    ASSERT_TRUE(server.wait([&] { return server.count(media_event::kind::dtmf) == i + 1; }, 5s))
        << "digit " << digits[i] << " was not reported";
  }
  {
    auto lock = server.lock();
    std::string got;
    for (const auto& e : server.media_events) {
      if (e.what != media_event::kind::dtmf) continue;
      got += e.digit;
      std::printf("[ dtmf ] from the caller: %c, %u ms\n", e.digit, e.duration_ms);
      EXPECT_EQ(e.leg, leg_role::caller);
      EXPECT_GE(e.duration_ms, 100u) << e.digit;
    }
    EXPECT_EQ(got, digits);
  }
  // Out: the engine's RFC 4733 digits to the agent's phone.
  server.send_dtmf(leg_role::agent, "4567");
  ASSERT_TRUE(server.wait([&] { return server.count(media_event::kind::dtmf_sent) == 1; }, 10s)) << [&] {
    auto lock = server.lock();
    const auto& leg = server.legs_[leg_role::agent];
    return "our offer:\n" + sdp::to_string(leg.offer) + "the agent's answer:\n" + sdp::to_string(leg.answer) +
           "telephone-event negotiated: " + (leg.media && leg.media->telephone_event ? "yes" : "no");
  }();
  std::string shown;
  for (int i = 0; i < 4; ++i) {
    auto e = agent.wait_event("CALL_DTMF_START", 5s);
    ASSERT_TRUE(e) << "the agent's phone saw " << shown << agent.log();
    shown += e->param;
  }
  EXPECT_EQ(shown, "4567");
  EXPECT_TRUE(agent.wait_event("CALL_DTMF_END", 2s));
  server.hangup_all();
  EXPECT_TRUE(caller.wait_event("CALL_CLOSED", 10s));
}

// ---- listen / whisper / barge (N-40) ----------------------------------------------------

struct monitoring_case {
  mix::mode mode;
  const char* name;
  bool caller_hears_supervisor, agent_hears_supervisor, supervisor_hears_caller, supervisor_hears_agent;
};
void PrintTo(const monitoring_case& c, std::ostream* os) { *os << c.name; }

struct monitoring : media_peers, ::testing::WithParamInterface<monitoring_case> {};

// Caller 400 Hz, agent 700 Hz, supervisor 1100 Hz; each phone's recording after the
// supervisor joined shows whose tones it carries.
TEST_P(monitoring, each_party_hears_whom_the_mode_says) {
  const auto& c = GetParam();
  constexpr double caller_hz = 400, agent_hz = 700, supervisor_hz = 1100;
  auto caller_mic = make_microphone(dir + "/caller.wav", sine(caller_hz, 8000, 8), 8000, 0, 8);
  auto agent_mic = make_microphone(dir + "/agent.wav", sine(agent_hz, 8000, 40), 8000, 0, 40);
  auto sup_mic = make_microphone(dir + "/supervisor.wav", sine(supervisor_hz, 8000, 40), 8000, 0, 40);
  bridge_server::options o;
  o.caller_policy = o.agent_policy = o.supervisor_policy = policy({"PCMU"});
  auto agent_o = phone("8005", {"PCMU/8000/1"}, agent_mic.path);
  baresip_peer agent(agent_o);
  ASSERT_TRUE(agent.start()) << agent.error();
  o.agent_target = agent.uri();
  bridge_server server(o);
  ASSERT_EQ(server.start(), "");
  auto caller_o = phone("13800000004", {"PCMU/8000/1"}, caller_mic.path);
  caller_o.domain = server.address();
  baresip_peer supervisor(phone("9001", {"PCMU/8000/1"}, sup_mic.path));
  ASSERT_TRUE(supervisor.start()) << supervisor.error();
  baresip_peer caller(caller_o);
  ASSERT_TRUE(caller.start()) << caller.error();
  connect(server, caller, agent);
  auto joined = std::chrono::steady_clock::now();
  server.add_supervisor(supervisor.uri(), c.mode);
  ASSERT_TRUE(supervisor.wait_event("CALL_ESTABLISHED", 10s)) << supervisor.log();
  ASSERT_TRUE(server.wait([&] { return server.up(leg_role::supervisor); }, 5s));
  double join_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - joined).count();
  wait_for_the_end(server, caller, 30s);
  auto caller_heard = heard(caller), agent_heard = heard(agent), sup_heard = heard(supervisor);
  ASSERT_TRUE(caller_heard && agent_heard && sup_heard);

  // From a second after the supervisor joined (the caller's and the agent's recordings
  // started with the call) to half a second before the end.
  auto window = [&](const wav_audio& w, double from_s) {
    auto mono = channel_of(w, 0);
    size_t from = static_cast<size_t>(from_s * w.sample_rate), tail = w.sample_rate / 2;
    if (mono.size() < from + tail + w.sample_rate) return std::vector<int16_t>{};
    return std::vector<int16_t>(mono.begin() + static_cast<ptrdiff_t>(from), mono.end() - static_cast<ptrdiff_t>(tail));
  };
  auto caller_w = window(*caller_heard, join_s + 1.0);
  auto agent_w = window(*agent_heard, join_s + 1.0);
  auto sup_w = window(*sup_heard, 1.0);
  ASSERT_FALSE(caller_w.empty() || agent_w.empty() || sup_w.empty()) << "recordings too short";
  auto share = [](const std::vector<int16_t>& w, double hz) { return tone_share(w, hz, 8000); };
  std::printf("[ %s ] caller hears agent %.3f supervisor %.3f | agent hears caller %.3f supervisor %.3f | "
              "supervisor hears caller %.3f agent %.3f\n",
              c.name, share(caller_w, agent_hz), share(caller_w, supervisor_hz), share(agent_w, caller_hz),
              share(agent_w, supervisor_hz), share(sup_w, caller_hz), share(sup_w, agent_hz));
  auto expect_heard = [&](const std::vector<int16_t>& w, double hz, bool expected, const char* what) {
    if (expected) {
      EXPECT_GT(share(w, hz), 0.2) << what;
    } else {
      EXPECT_LT(share(w, hz), 0.01) << what;
    }
  };
  expect_heard(caller_w, agent_hz, true, "the caller hears the agent");
  expect_heard(agent_w, caller_hz, true, "the agent hears the caller");
  expect_heard(caller_w, supervisor_hz, c.caller_hears_supervisor, "the caller and the supervisor");
  expect_heard(agent_w, supervisor_hz, c.agent_hears_supervisor, "the agent and the supervisor");
  expect_heard(sup_w, caller_hz, c.supervisor_hears_caller, "the supervisor and the caller");
  expect_heard(sup_w, agent_hz, c.supervisor_hears_agent, "the supervisor and the agent");
}

INSTANTIATE_TEST_SUITE_P(n40, monitoring,
                         ::testing::Values(monitoring_case{mix::mode::listen, "listen", false, false, true, true},
                                           monitoring_case{mix::mode::whisper, "whisper", false, true, true, true},
                                           monitoring_case{mix::mode::barge, "barge", true, true, true, true}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace hotline::test
