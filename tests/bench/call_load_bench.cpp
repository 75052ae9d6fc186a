// Calls end to end under load (the calls issue's benchmark): the whole application with
// IVR, queue, bridge and recording; agents are registered phones simulated by one SIPp UAS
// (digest REGISTER for each, then it answers every INVITE with SDP and echoes the RTP);
// callers are SIPp from the trunk dialling 12333 and pressing 1 (RFC 4733 from a pcap),
// then staying on the line for the talk time. Reports failed calls, the time from the IVR
// hand-off to the agent's answer (from the call records), service level within 30 s, the
// server's CPU per call and memory per call.
//
//   call_load_bench [--agents 150] [--rate 5] [--talk-s 20] [--calls 300] [--prompts DIR] [--record 1]
//                   [--speech 0]
//
// --speech 1: the callers talk after their key — espeak-ng Mandarin then as long a silence,
// looped as PCMU by SIPp's rtp_stream (tests/fixtures/sip/sipp/caller_ivr_speech.xml), which
// the agents echo: each side of a recording speaks half the time, as on a real call.
//
// Concurrent calls ≈ rate × (talk + ~1.5 s before the caller's key; ~6 s with --speech).
// Without --speech the callers send no RTP after their key (play_pcap_audio takes a thread
// per call, too many at this scale), so keep talk under the stream timeout (30 s): a
// caller silent that long is hung up as gone (N-06). Reports, besides, the live calls and
// the memory at each minute, the whole machine's CPU (the server and SIPp), the recorder's
// backlog (audio spilled to disk, media/record/recorder.hpp) and how long after the last
// call every recording was finished and in its call record (the bench waits for that).
// The calls issue's goal, 10 minutes at ~1,000 concurrent: --agents 1100 --rate 35
// --talk-s 27 --calls 21000, or with speech --rate 32 --talk-s 29 --calls 19200
// (docs/PERFORMANCE.md).

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "actors/call/center.hpp"
#include "api/app/app.hpp"
#include "api/sip/phones.hpp"
#include "media/sip/digest.hpp"
#include "storage/env.hpp"
#include "storage/record.hpp"
#include "tests/bench/process_stats.hpp"
#include "tests/media/sipp_runner.hpp"
#include "media/codec/g711.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/loopback_site.hpp"
#include "tests/support/speech.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono;
using namespace hotline;
namespace json = boost::json;

int main(int argc, char** argv) {
  size_t agents = 150, rate = 5, talk_s = 20, calls = 300, record = 1, speech = 0;
  std::string prompts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    auto v = std::strtoul(argv[i + 1], nullptr, 10);
    if (a == "--agents") agents = v;
    else if (a == "--rate") rate = v;
    else if (a == "--talk-s") talk_s = v;
    else if (a == "--calls") calls = v;
    else if (a == "--record") record = v;
    else if (a == "--speech") speech = v;
    else if (a == "--prompts") prompts = argv[i + 1];
  }
  test::temp_dir dir;
  std::filesystem::create_directories(dir.sub("data"));
  if (!prompts.empty())
    std::filesystem::create_directory_symlink(std::filesystem::absolute(prompts), dir.sub("data/prompts"));
  json::array roster;
  for (size_t i = 0; i < agents; ++i) {
    auto id = std::to_string(10000 + i), phone = std::to_string(80000 + i);
    roster.push_back(json::object{{"id", id}, {"name", "坐席" + id}, {"phone", phone},
                                  {"skills", json::array{json::object{{"skill", "pension"}, {"level", 3}, {"post", "A"}}}},
                                  {"queues", json::array{json::object{{"queue", "pension"}, {"priority", 1}}}}});
  }
  std::ofstream(dir.sub("agents.json")) << json::serialize(roster);
  std::ofstream(dir.sub("queues.json")) << R"([{"id":"pension","hours":"always","wrap_up_s":0},{"id":"general","hours":"always"}])";

  auto sip_port = test::free_udp_port();
  auto cfg = test::loopback_site(dir, sip_port, 20000, 29999);
  cfg.sip.max_calls = 5000;
  cfg.media.threads = 2;
  cfg.calls.record = static_cast<uint32_t>(record);
  std::string error;
  auto app = app::application::start(cfg, error);
  if (!app) return std::fprintf(stderr, "start: %s\n", error.c_str()), 1;
  for (size_t i = 0; i < agents; ++i) {
    phones::account acc;
    acc.user = std::to_string(80000 + i);
    acc.realm = cfg.sip.realm;
    auto c = sip::digest::make_credentials(acc.user, acc.realm, "pw" + acc.user);
    acc.ha1_md5 = c.ha1_md5;
    acc.ha1_sha256 = c.ha1_sha256;
    acc.srtp = "off";
    phones::save(app->env(), acc);
  }
  // The agents' phones: REGISTER from one port, then the UAS answers there.
  auto agents_port = test::free_udp_port();
  std::string fixtures = HOTLINE_SIP_FIXTURES;
  size_t registered = 0;
  for (size_t i = 0; i < agents; ++i) {
    auto phone = std::to_string(80000 + i);
    auto reg = test::run_sipp({"-sf", fixtures + "/sipp/agent_register.xml", "-s", phone, "-au", phone, "-ap",
                               "pw" + phone, "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(agents_port),
                               "127.0.0.1:" + std::to_string(sip_port)},
                              dir.sub("register"), seconds(10));
    registered += reg.successful;
  }
  std::printf("agents registered: %zu of %zu\n", registered, agents);
  test::sipp_background uas({"-sn", "uas", "-i", "127.0.0.1", "-p", std::to_string(agents_port), "-mi", "127.0.0.1",
                             "-rtp_echo"},
                            dir.sub("uas"));
  test::wait_until_bound(agents_port);
  auto* center = app->calls();
  for (size_t i = 0; i < agents; ++i) {
    auto id = std::to_string(10000 + i);
    for (auto c : {calls::agent_command::login, calls::agent_command::ready}) {
      std::promise<std::string> p;
      center->command(id, c, acd::not_ready_reason::none, [&](std::string e) { p.set_value(std::move(e)); });
      p.get_future().get();
    }
  }
  // Offers go only to agents the ACD sees ready with a registered phone: wait for that.
  auto ready_with_phone = [&](const std::string& id) {
    std::promise<bool> p;
    center->agent(id, [&](std::optional<acd::agent_view> v) {
      p.set_value(v && v->state == acd::agent_state::ready && v->phone_registered);
    });
    return p.get_future().get();
  };
  for (size_t i = 0; i < agents; ++i)
    if (!test::eventually([&] { return ready_with_phone(std::to_string(10000 + i)); }, seconds(10), milliseconds(20)))
      std::fprintf(stderr, "agent %zu not ready with a registered phone after 10 s\n", 10000 + i);

  std::string caller_scenario = fixtures + "/sipp/caller_ivr.xml";
  if (speech) {
    auto pcm = test::speech_at(test::caller_text, 8000, dir.path());
    if (pcm.empty()) return std::fprintf(stderr, "espeak-ng and sox are needed for --speech\n"), 1;
    pcm.resize(pcm.size() / 160 * 160);
    std::vector<uint8_t> ulaw(2 * pcm.size(), codec::linear_to_ulaw(0));  // the speech, then as long a silence
    codec::encode_ulaw(pcm, std::span(ulaw).first(pcm.size()));
    std::ofstream(dir.sub("speech.ul"), std::ios::binary).write(reinterpret_cast<const char*>(ulaw.data()),
                                                                 static_cast<std::streamsize>(ulaw.size()));
    std::ifstream in(fixtures + "/sipp/caller_ivr_speech.xml");
    std::string xml{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (auto at = xml.find("@SPEECH@"); at != std::string::npos; at = xml.find("@SPEECH@", at))
      xml.replace(at, 8, dir.sub("speech.ul"));
    caller_scenario = dir.sub("caller_ivr_speech.xml");
    std::ofstream(caller_scenario) << xml;
  }
  auto cpu0 = bench::process_cpu_s();
  auto machine0 = bench::machine_cpu_now();
  auto rss0 = bench::rss_kb();
  auto t0 = steady_clock::now();
  long rss_peak = rss0;
  size_t peak_calls = 0;
  uint64_t peak_backlog_ms = 0;  // the recorder's: audio spilled and not yet encoded
  double call_seconds = 0;  // integral of live calls over time
  std::vector<size_t> per_minute;  // live calls at each full minute
  std::vector<std::pair<long, long>> rss_per_minute;  // MB: heap (anonymous), mapped files (LMDB)
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      rss_peak = std::max(rss_peak, bench::rss_kb());
      auto live = center->active_calls();
      peak_calls = std::max(peak_calls, live);
      peak_backlog_ms = std::max(peak_backlog_ms, center->recordings().backlog_ms);
      call_seconds += live * 0.5;
      if (auto m = size_t(duration<double>(steady_clock::now() - t0).count() / 60); m >= per_minute.size() + 1)
        per_minute.push_back(live),
            rss_per_minute.emplace_back(bench::status_kb("RssAnon:") / 1024, bench::status_kb("RssFile:") / 1024);
      std::this_thread::sleep_for(500ms);
    }
  });
  auto callers = test::run_sipp(
      {"-sf", caller_scenario, "-s", "12333", "-d", std::to_string(talk_s * 1000), "-r",
       std::to_string(rate), "-m", std::to_string(calls), "-l", "5000", "-i", "127.0.0.1", "-p",
       std::to_string(test::free_udp_port()), "-mi", "127.0.0.1", "127.0.0.1:" + std::to_string(sip_port)},
      dir.sub("callers"), seconds(calls / rate + talk_s + 120));
  sampling = false;
  sampler.join();
  if (callers.successful == 0) std::fprintf(stderr, "SIPp (callers) exit %d:\n%s\n", callers.exit_code, callers.log().c_str());
  double wall = duration<double>(steady_clock::now() - t0).count();
  double cpu = bench::process_cpu_s() - cpu0;
  auto machine1 = bench::machine_cpu_now();
  double machine_busy = machine1.total > machine0.total
                            ? double(machine1.busy - machine0.busy) / double(machine1.total - machine0.total)
                            : 0.0;
  // A call actor ends once its record is durable, so no live calls means every record is in.
  if (!test::eventually([&] { return center->active_calls() == 0; }, seconds(30), milliseconds(20)))
    std::fprintf(stderr, "%zu calls still live 30 s after the callers finished\n", center->active_calls());

  // Recordings the pool could not encode during the run are finished from their spill
  // files now; each adds its length and checksum to its call record when done.
  const auto calls_done = steady_clock::now();
  const auto backlog_at_end = center->recordings().backlog_ms;
  if (!test::eventually([&] { return center->recordings().unfinished == 0; }, minutes(60), milliseconds(100)))
    std::fprintf(stderr, "%zu recordings unfinished an hour after the calls\n", center->recordings().unfinished);
  const double drain_s = duration<double>(steady_clock::now() - calls_done).count();
  auto pending_records = [&] {
    size_t n = 0;
    auto txn = app->env().read();
    txn.scan(storage::table::calls, "", "", [&](std::string_view, std::string_view v) {
      auto r = storage::decode_record(v);
      if (r && r->if_contains("recording_pending")) ++n;
      return true;
    });
    return n;
  };
  if (!test::eventually([&] { return pending_records() == 0; }, seconds(30), milliseconds(100)))
    std::fprintf(stderr, "%zu call records still wait for their recording\n", pending_records());

  // The call records: hand-off -> answer, service level.
  std::vector<double> to_answer;
  size_t answered = 0, records = 0, within30 = 0, recorded = 0;
  double recorded_ms = 0, recorded_bytes = 0;
  {
    auto txn = app->env().read();
    txn.scan(storage::table::calls, "", "", [&](std::string_view, std::string_view v) {
      auto r = storage::decode_record(v);
      if (!r) return true;
      ++records;
      auto* rec = r->if_contains("recording_ms");
      auto* sha = r->if_contains("recording_sha256");
      bool finished = rec && rec->is_int64() && rec->as_int64() > 0 && sha && sha->is_string() &&
                      sha->as_string().size() == 64;
      if (finished) {
        ++recorded;
        recorded_ms += static_cast<double>(rec->as_int64());
        std::error_code ec;
        auto* path = r->if_contains("recording");
        if (path && path->is_string()) {
          std::filesystem::path p(std::string(path->as_string()));
          auto size = std::filesystem::file_size(p.is_absolute() ? p : std::filesystem::path(dir.sub("data")) / p, ec);
          if (!ec) recorded_bytes += static_cast<double>(size);
        }
      }
      auto* q = r->if_contains("queued_ms");
      auto* a = r->if_contains("agent_answered_ms");
      if (q && a && q->is_int64() && a->is_int64()) {
        ++answered;
        double ms = static_cast<double>(a->as_int64() - q->as_int64());
        to_answer.push_back(ms);
        if (ms <= 30000) ++within30;
      }
      return true;
    });
  }
  std::sort(to_answer.begin(), to_answer.end());
  auto pct = [&](double p) { return to_answer.empty() ? 0.0 : to_answer[std::min(to_answer.size() - 1, size_t(p * to_answer.size()))]; };
  std::printf("callers: %llu successful, %llu failed of %zu (rate %zu/s, talk %zu s, peak %zu concurrent, record %zu)\n",
              static_cast<unsigned long long>(callers.successful), static_cast<unsigned long long>(callers.failed),
              calls, rate, talk_s, peak_calls, record);
  std::printf("callers' audio: %s\n", speech ? "speech half the time (rtp_stream), echoed by the agents"
                                              : "their key only (RFC 4733), then none");
  std::printf("call records: %zu, answered by an agent: %zu, service level (answered within 30 s): %.1f %%\n", records,
              answered, records ? 100.0 * within30 / records : 0.0);
  std::printf("recordings: %zu calls with a finished recording (length and checksum in the record), %.0f s, "
              "%.2f kB/s on average (a silent call ~1, both sides speaking all the time ~3.7)\n",
              recorded, recorded_ms / 1000, recorded_ms > 0 ? recorded_bytes / recorded_ms : 0.0);
  std::printf("recorder backlog (audio spilled, not yet encoded): peak %.0f s, %.0f s when the last call ended, "
              "all encoded %.0f s after it\n",
              static_cast<double>(peak_backlog_ms) / 1000, static_cast<double>(backlog_at_end) / 1000, drain_s);
  std::printf("IVR hand-off -> agent answer: p50 %.0f ms, p99 %.0f ms\n", pct(0.5), pct(0.99));
  std::printf("server CPU: %.1f %% of one core over %.0f s = %.2f %% of a core per live call\n", 100 * cpu / wall,
              wall, call_seconds > 0 ? 100 * cpu / call_seconds : 0.0);
  std::printf("machine CPU (server, SIPp and all else): %.1f %% of %u cores\n", 100 * machine_busy,
              std::thread::hardware_concurrency());
  std::printf("live calls at each minute:");
  for (auto n : per_minute) std::printf(" %zu", n);
  std::printf("\n");
  std::printf("memory: RSS %ld MB before, peak %ld MB: ~%.0f KB per concurrent call; at each minute, MB of heap + "
              "mapped files:", rss0 / 1024, rss_peak / 1024, peak_calls ? double(rss_peak - rss0) / peak_calls : 0.0);
  for (auto [anon, file] : rss_per_minute) std::printf(" %ld+%ld", anon, file);
  std::printf("\n");
  app->stop();
  return callers.failed == 0 ? 0 : 2;
}
