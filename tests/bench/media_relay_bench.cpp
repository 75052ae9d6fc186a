// Media relay: Hotline's media engine against rtpengine (userspace, no kernel module),
// driven by the same RTP generator in the same run, each relay on one pinned core.
//
//   build/release/tests/bench/media_relay_bench [--scenarios=g711,opus,full] [--seconds=6]
//       [--warmup=1.5] [--runs=1] [--g711-calls=200,400,...] [--opus-calls=...] [--full-calls=...]
//       [--fullrec-calls=...]
//       [--relays=hotline,rtpengine] [--relay-cpu=1] [--generator-cpu=0] [--realtime]
//       [--tick-phases=4]   (engine_config::tick_phases: sub-ticks per 20 ms; 1 = one burst)
//       [--reads-per-tick=1] (engine_config::reads_per_tick: io_uring wake-ups that read per 20 ms)
//       [--io=epoll]        (engine_config::io_uring = false: a recvmmsg per socket, a sendto per packet)
//       [--forward=tick]    (engine_config::forward_on_arrival = false: a plain G.711 bridge forwards
//                            through the jitter buffer at the tick instead of as packets are read)
//       [--opus-complexity=N] [--opus-narrowband-complexity=N] [--record-complexity=N]
//       (libopus 0-10: wideband legs, legs carrying the G.711 caller (all here), recordings)
//
// Scenarios (a call = a caller endpoint and a callee/agent endpoint, 20 ms packets both ways):
//   g711  PCMU both sides. Hotline: a session, caller and agent legs PCMU, mix = bridge.
//         rtpengine: a plain relay (offer/answer, no flags).
//   opus  PCMU caller, Opus agent. Hotline: mix rate 8000, agent leg opus/48000/2 encoded at
//         the caller's 4 kHz bandwidth. rtpengine: codec transcode opus, PCMU masked toward
//         the callee, so it transcodes PCMU <-> opus both ways.
//   full  the 12333 call without recording: PCMU caller, Opus + SDES-SRTP agent (Hotline only).
//   fullrec  the full 12333 call: as `full`, and each call recorded (stereo Ogg Opus) by the
//         engine child's recorder pool (one thread, nice 10, on the same pinned core: its
//         CPU counts in the relay's).
// Speech quality (opus): the first call of each step is a probe that sends speech both ways
// (tests/bench/speech_probe.hpp); the similarity of what each side heard is printed per step
// and, in the summary, at the step that decides calls per core. --no-probe turns it off.
// Each step runs `warmup` + `seconds`, measures over the `seconds` window: the relay's CPU
// (all its threads, from /proc/<pid>/task/*/schedstat), loss, latency p50/p99 (marked PCMU
// frames; see rtp_load.hpp). A relay's ramp stops at >= 1 % loss or a saturated core. Its
// calls per core: calls / CPU share at the highest step with < 0.1 % loss and < 98 % CPU
// (and, with a transcoded side, output jitter p99 - p50 <= 20 ms and the probe's speech
// >= 0.95 both ways). Hotline's steps also print what its jitter buffers did over the
// calls (`playout +stretched/-shed`, `late`: packets that came after their slot was
// played), and every step the generator's worst send lateness (`max`).
//
// Pinning: the generator (this process) runs on --generator-cpu. Hotline's engine runs in
// a child forked at start-up, pinned with sched_setaffinity to --relay-cpu before the
// engine starts its media thread (threads inherit the mask); the parent drives it over a
// socketpair, one text line per command. rtpengine runs under `taskset -c <relay-cpu>`
// with --num-threads=1 (both in tests/bench/media_relays.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "tests/bench/media_relays.hpp"
#include "tests/bench/rtp_load.hpp"
#include "tests/bench/speech_probe.hpp"


namespace {

using namespace hotline;
using namespace hotline::bench;
using test::mono_ns;

struct options {
  std::vector<scenario> scenarios{scenario::g711, scenario::opus};
  std::vector<std::string> relays{"hotline", "rtpengine"};
  double seconds = 6, warmup = 1.5;
  int runs = 1;
  int relay_cpu = 1, generator_cpu = 0;
  bool realtime = false;  // the generator SCHED_FIFO: sends on time on a shared machine
  bool probe = true;      // opus: a speech probe call per step
  engine_tuning engine;
  std::map<scenario, std::vector<int>> calls{{scenario::g711, {200, 300, 400, 500, 600, 700, 800}},
                                             {scenario::opus, {25, 50, 75, 100, 150, 200, 250}},
                                             {scenario::full, {50, 100, 200, 300}},
                                             {scenario::fullrec, {50, 100, 150, 200}}};
};

std::vector<std::string> split(const std::string& s, char sep = ',') {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

// CPU time of every thread of a process, in ns (the scheduler's own accounting).
int64_t process_cpu_ns(pid_t pid) {
  int64_t total = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/schedstat");
    int64_t on_cpu = 0;
    if (f >> on_cpu) total += on_cpu;
  }
  closedir(d);
  return total;
}

// Time the hypervisor ran something else on a (virtual) CPU, from /proc/stat's "steal"
// column, in ms (clock-tick grain): a step whose relay or generator lost its core for tens
// of milliseconds shows it here (late packets, a jitter buffer that grew mid-call).
int64_t steal_ms(int cpu) {
  std::ifstream f("/proc/stat");
  std::string name;
  const std::string want = "cpu" + std::to_string(cpu);
  for (std::string line; std::getline(f, line);) {
    std::istringstream in(line);
    in >> name;
    if (name != want) continue;
    int64_t v[8] = {};
    for (auto& x : v) in >> x;
    return v[7] * 1000 / sysconf(_SC_CLK_TCK);
  }
  return 0;
}

// Datagrams dropped by full socket buffers, summed over the UDP sockets that matter: the
// relays' port ranges and the generator's own ports (/proc/net/udp's "drops" column, per
// socket; the machine-wide counter would count other people's tests too).
uint64_t udp_drops(const std::vector<bool>& ports) {
  std::ifstream f("/proc/net/udp");
  std::string line;
  std::getline(f, line);  // header
  uint64_t drops = 0;
  while (std::getline(f, line)) {
    auto fields = split(line, ' ');
    if (fields.size() < 13) continue;
    auto colon = fields[1].find(':');
    if (colon == std::string::npos) continue;
    auto port = std::stoul(fields[1].substr(colon + 1), nullptr, 16);
    if (port < ports.size() && ports[port]) drops += std::stoull(fields.back());
  }
  return drops;
}

std::optional<rtp::srtp_session> generator_srtp() {
  sdp::crypto c{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, 'B'), "", "", ""};
  auto key = sdp::decode_key_salt(c);
  auto s = rtp::srtp_session::create(c.suite, *key, rtp::srtp_session::direction::outbound);
  if (auto* ok = std::get_if<rtp::srtp_session>(&s)) return std::move(*ok);
  return std::nullopt;
}

// ---- One step: N calls through one relay ---------------------------------------------------

struct step_result {
  int calls = 0;
  double cpu = 0;   // of the relay, share of one core over the window
  double loss = 0;  // the figure that decides (see loss_of)
  double marked_loss = -1, worst_stream = 0, deficit = 0, seq_loss = 0, concealed = -1, engine_lost = 0;
  double p50 = -1, p99 = -1;
  double jitter = 0;  // arrival jitter p99 - p50 of the relay's output, ms
  bool transcoded = false;
  test::probe_scores speech;  // the probe call's similarity, -1: no probe
  double gen_cpu = 0, gen_late_p99 = 0, gen_late_max = 0;
  uint64_t udp_drops = 0, late_ticks = 0;
  uint64_t stretched = 0, shed = 0, late_packets = 0;  // Hotline's jitter buffers, all calls
  int64_t relay_steal_ms = 0, gen_steal_ms = 0;  // the hypervisor's, over the whole step
  bool ok = false;  // the calls were set up
  // The generator's core saturated (or it sent very late): the relay was offered less
  // than the nominal load, so the step does not count for calls per core.
  bool generator_bound() const { return gen_cpu > 0.85 || gen_late_p99 > 20; }
  // With a transcoded side the loss figure cannot see a relay that falls behind but
  // catches up (Hotline replays up to 5 late ticks): output jitter above a frame fails
  // too, and so does speech the probe heard degraded (below 0.95 either way; 0.995-0.998
  // is what both relays deliver below saturation).
  bool counts() const {
    const bool speech_ok = (speech.to_callee < 0 || speech.to_callee >= 0.95) && (speech.to_caller < 0 || speech.to_caller >= 0.95);
    return ok && cpu > 0 && loss < 0.001 && cpu < 0.98 && !generator_bound() && (!transcoded || (jitter <= 20 && speech_ok));
  }
};

step_result run_step(const std::string& relay, scenario s, int calls, const options& o, test::rtp_load& gen,
                     hotline_relay* hl, rtpengine_relay* re, const test::probe_speech* speech) {
  using test::rtp_load;
  step_result r;
  r.calls = calls;
  gen.clear();
  const bool probe = speech && s == scenario::opus;
  for (int i = 0; i < calls; ++i) {
    auto [a, a_port] = gen.add_endpoint();
    auto [b, b_port] = gen.add_endpoint();
    gen.connect(a, b);
    const bool probing = probe && i == 0;
    auto caller_kind = probing ? rtp_load::payload::pcmu_speech : rtp_load::payload::pcmu_marked;
    auto callee_kind = s == scenario::g711 ? rtp_load::payload::pcmu_marked
                       : probing           ? rtp_load::payload::opus_speech
                                           : rtp_load::payload::opus;
    if (relay == "hotline") {
      auto ports = hl->open_call(s, a_port, b_port);
      if (!ports) return r;
      gen.setup(a, {caller_kind, 0, ports->first, std::nullopt, probing});
      gen.setup(b, {callee_kind, static_cast<uint8_t>(s == scenario::g711 ? 0 : 111), ports->second,
                    s == scenario::full || s == scenario::fullrec ? generator_srtp() : std::nullopt, probing});
    } else {
      auto ports = re->open_call(s, i, a_port, b_port);
      if (!ports) return r;
      gen.setup(a, {caller_kind, 0, ports->caller_to, std::nullopt, probing});
      gen.setup(b, {callee_kind, ports->callee_pt, ports->callee_to, std::nullopt, probing});
    }
  }
  pid_t pid = relay == "hotline" ? hl->pid() : re->pid();
  std::vector<bool> watched(65536, false);
  for (size_t p = hotline_port_min; p <= rtpengine_port_max; ++p) watched[p] = true;
  for (uint16_t p : gen.ports()) watched[p] = true;
  int64_t cpu0 = 0, wall0 = 0;
  uint64_t drops0 = 0;
  const int64_t relay_steal0 = steal_ms(o.relay_cpu), gen_steal0 = steal_ms(o.generator_cpu);
  auto w = gen.run(o.warmup, o.seconds, [&](bool start) {
    if (start) {
      cpu0 = process_cpu_ns(pid);
      wall0 = mono_ns();
      drops0 = udp_drops(watched);
    } else {
      r.cpu = static_cast<double>(process_cpu_ns(pid) - cpu0) / static_cast<double>(mono_ns() - wall0);
      r.udp_drops = udp_drops(watched) - drops0;
    }
  });
  r.relay_steal_ms = steal_ms(o.relay_cpu) - relay_steal0;
  r.gen_steal_ms = steal_ms(o.generator_cpu) - gen_steal0;
  if (relay == "hotline") {
    auto t = hl->close_all();
    r.late_ticks = t.late_ticks;
    r.stretched = t.stretched, r.shed = t.shed, r.late_packets = t.late_packets;
    if (t.received + t.concealed) r.concealed = static_cast<double>(t.concealed) / static_cast<double>(t.received + t.concealed);
    if (t.received + t.lost) r.engine_lost = static_cast<double>(t.lost) / static_cast<double>(t.received + t.lost);
  } else {
    re->close_all();
  }
  r.ok = true;
  if (probe) r.speech = test::score_probe(gen, 0, 1, *speech);
  if (s == scenario::g711 && w.marked_sent) {
    r.marked_loss = 1 - static_cast<double>(w.marked_heard) / static_cast<double>(w.marked_sent);
    r.worst_stream = w.worst_stream_loss;
  }
  if (w.latency.count()) {
    r.p50 = w.latency.percentile_ms(0.5);
    r.p99 = w.latency.percentile_ms(0.99);
  }
  r.deficit = w.expected_packets ? std::max(0.0, 1 - static_cast<double>(w.arrived_packets) / static_cast<double>(w.expected_packets)) : 0;
  r.seq_loss = w.seq_received ? static_cast<double>(w.seq_lost) / static_cast<double>(w.seq_received + w.seq_lost) : 0;
  r.gen_cpu = w.generator_cpu;
  r.jitter = w.jitter_ms();
  r.transcoded = s != scenario::g711;
  r.gen_late_p99 = w.send_late_p99_ms;
  r.gen_late_max = w.send_late_max_ms;
  // Loss. G.711: the marked frames, exact and end to end, whatever the relay does to
  // headers. With a transcoded side the payload cannot carry marks: packets missing from
  // the expected 50/s and sequence gaps; Hotline sends a packet every tick even from
  // nothing, so for it also the packets its legs saw missing (RTCP's cumulative loss, from
  // the closing reports). Its concealed frames are printed but include each call's start
  // and end (the generator starts and stops), so they do not decide.
  r.loss = std::max({r.marked_loss, r.deficit, r.seq_loss, r.engine_lost});
  // A datagram dropped by a full socket buffer (the relay's or ours) counts too.
  if (w.expected_packets) r.loss = std::max(r.loss, static_cast<double>(r.udp_drops) / static_cast<double>(w.expected_packets));
  return r;
}

void print_step(const std::string& relay, scenario s, const step_result& r) {
  std::printf("%-9s %-4s %5d calls  relay CPU %5.1f%%  loss %6.3f%%", relay.c_str(), name_of(s), r.calls, r.cpu * 100, r.loss * 100);
  if (r.marked_loss >= 0) std::printf(" (marked %.3f%%, worst stream %.1f%%)", r.marked_loss * 100, r.worst_stream * 100);
  std::printf("  deficit %.3f%% seq-gaps %.3f%%", r.deficit * 100, r.seq_loss * 100);
  if (r.concealed >= 0)
    std::printf(" engine-lost %.3f%% concealed %.3f%% late-ticks %llu playout +%llu/-%llu late %llu", r.engine_lost * 100,
                r.concealed * 100, static_cast<unsigned long long>(r.late_ticks), static_cast<unsigned long long>(r.stretched),
                static_cast<unsigned long long>(r.shed), static_cast<unsigned long long>(r.late_packets));
  if (r.p50 >= 0) std::printf("  latency p50 %.1f ms p99 %.1f ms", r.p50, r.p99);
  std::printf("  jitter p99 %.1f ms", r.jitter);
  if (r.speech.to_callee >= 0 || r.speech.to_caller >= 0)
    std::printf("  speech %.4f/%.4f", r.speech.to_callee, r.speech.to_caller);
  std::printf("  udp-drops %llu  generator CPU %.0f%% late-p99 %.2f ms max %.1f ms", static_cast<unsigned long long>(r.udp_drops),
              r.gen_cpu * 100, r.gen_late_p99, r.gen_late_max);
  if (r.relay_steal_ms || r.gen_steal_ms)
    std::printf("  steal relay %lld ms generator %lld ms", static_cast<long long>(r.relay_steal_ms), static_cast<long long>(r.gen_steal_ms));
  if (r.generator_bound()) std::printf("  (generator-bound)");
  else if (r.counts()) std::printf("  -> %.0f calls/core", r.calls / r.cpu);
  std::printf("\n");
  std::fflush(stdout);
}

// The highest step with < 0.1 % loss below a saturated core: it gives calls per core.
const step_result* deciding_step(const std::vector<step_result>& steps) {
  const step_result* best = nullptr;
  for (const auto& r : steps)
    if (r.counts() && (!best || r.calls > best->calls)) best = &r;
  return best;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    std::string key = a.substr(0, eq), val = eq == std::string::npos ? "" : a.substr(eq + 1);
    auto ints = [&] {
      std::vector<int> v;
      for (auto& x : split(val)) v.push_back(std::stoi(x));
      return v;
    };
    if (key == "--scenarios") {
      o.scenarios.clear();
      for (auto& x : split(val)) o.scenarios.push_back(scenario_of(x));
    } else if (key == "--relays") o.relays = split(val);
    else if (key == "--seconds") o.seconds = std::stod(val);
    else if (key == "--warmup") o.warmup = std::stod(val);
    else if (key == "--runs") o.runs = std::stoi(val);
    else if (key == "--relay-cpu") o.relay_cpu = std::stoi(val);
    else if (key == "--generator-cpu") o.generator_cpu = std::stoi(val);
    else if (key == "--realtime") o.realtime = true;
    else if (key == "--no-probe") o.probe = false;
    else if (key == "--tick-phases") o.engine.tick_phases = static_cast<unsigned>(std::stoul(val));
    else if (key == "--reads-per-tick") o.engine.reads_per_tick = static_cast<unsigned>(std::stoul(val));
    else if (key == "--io") o.engine.io_uring = val != "epoll";
    else if (key == "--forward") o.engine.forward_on_arrival = val != "tick";
    else if (key == "--opus-complexity") o.engine.opus_complexity = std::stoi(val);
    else if (key == "--opus-narrowband-complexity") o.engine.opus_narrowband_complexity = std::stoi(val);
    else if (key == "--record-complexity") o.engine.record_complexity = std::stoi(val);
    else if (key == "--g711-calls") o.calls[scenario::g711] = ints();
    else if (key == "--opus-calls") o.calls[scenario::opus] = ints();
    else if (key == "--full-calls") o.calls[scenario::full] = ints();
    else if (key == "--fullrec-calls") o.calls[scenario::fullrec] = ints();
    else {
      std::fprintf(stderr, "usage: see the comment at the top of tests/bench/media_relay_bench.cpp\n");
      return 2;
    }
  }
  // Thousands of sockets: ours, the engine's (inherited) and rtpengine's.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  signal(SIGPIPE, SIG_IGN);

  bool want_hotline = std::count(o.relays.begin(), o.relays.end(), "hotline") > 0;
  bool want_rtpengine = std::count(o.relays.begin(), o.relays.end(), "rtpengine") > 0;
  std::unique_ptr<hotline_relay> hl;
  if (want_hotline) hl = std::make_unique<hotline_relay>(o.relay_cpu, o.engine);  // fork before any thread
  pin_to(o.generator_cpu);
  std::unique_ptr<rtpengine_relay> re;
  if (want_rtpengine) {
    re = std::make_unique<rtpengine_relay>(o.relay_cpu);
    if (!re->up()) {
      std::fprintf(stderr, "rtpengine did not answer on its ng port (log: %s)\n", re->log().c_str());
      return 1;
    }
  }
  if (o.realtime) {
    sched_param p{};
    p.sched_priority = 10;
    if (sched_setscheduler(0, SCHED_FIFO, &p) != 0) std::perror("SCHED_FIFO");
  }
  test::rtp_load gen;
  std::optional<test::probe_speech> speech;
  if (o.probe && std::count(o.scenarios.begin(), o.scenarios.end(), scenario::opus)) {
    std::string dir = "/tmp/media_relay_bench.speech." + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    speech = test::make_probe_speech(dir);
    std::filesystem::remove_all(dir);
    if (speech) gen.set_speech(speech->caller_8k, speech->callee_48k);
    else std::printf("(espeak-ng or sox missing: no speech probe)\n");
  }
  std::printf("media_relay_bench: relays on cpu %d, generator on cpu %d, %.1f s warm-up + %.1f s per step, %d run(s); "
              "Opus complexity %d (narrowband %d), recordings %d\n",
              o.relay_cpu, o.generator_cpu, o.warmup, o.seconds, o.runs, o.engine.opus_complexity,
              o.engine.opus_narrowband_complexity, o.engine.record_complexity);

  for (scenario s : o.scenarios) {
    std::map<std::string, std::vector<double>> merit, to_callee, to_caller;
    for (int run = 0; run < o.runs; ++run) {
      std::map<std::string, std::vector<step_result>> steps;
      std::map<std::string, bool> stopped;
      for (int calls : o.calls[s]) {
        for (const auto& relay : o.relays) {
          if (stopped[relay] || (relay == "rtpengine" && (s == scenario::full || s == scenario::fullrec))) continue;
          auto r = run_step(relay, s, calls, o, gen, hl.get(), re.get(), speech ? &*speech : nullptr);
          if (!r.ok) {
            std::printf("%-9s %-4s %5d calls: setup failed\n", relay.c_str(), name_of(s), calls);
            stopped[relay] = true;
            continue;
          }
          print_step(relay, s, r);
          steps[relay].push_back(r);
          if (r.loss >= 0.01 || r.cpu >= 0.98 || r.generator_bound() || (r.transcoded && r.jitter > 100)) stopped[relay] = true;
        }
      }
      for (auto& [relay, list] : steps) {
        const step_result* d = deciding_step(list);
        merit[relay].push_back(d ? d->calls / d->cpu : 0);
        if (d && d->speech.to_callee >= 0) to_callee[relay].push_back(d->speech.to_callee);
        if (d && d->speech.to_caller >= 0) to_caller[relay].push_back(d->speech.to_caller);
      }
    }
    std::printf("%s: calls per core at < 0.1 %% loss", name_of(s));
    for (auto& [relay, v] : merit)
      std::printf("  %s %.0f (min %.0f max %.0f)", relay.c_str(), median(v), *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()));
    if (merit.count("hotline") && merit.count("rtpengine") && median(merit["rtpengine"]) > 0)
      std::printf("  ratio hotline/rtpengine %.2f", median(merit["hotline"]) / median(merit["rtpengine"]));
    std::printf("\n");
    for (auto& [relay, v] : to_callee)
      std::printf("%s: speech similarity at that step  %s caller->callee %.3f callee->caller %.3f\n", name_of(s),
                  relay.c_str(), median(v), median(to_caller[relay]));
    std::printf("\n");
    std::fflush(stdout);
  }
  gen.clear();
  return 0;
}
