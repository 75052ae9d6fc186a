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
// with --num-threads=1.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
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
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "tests/bench/ng_client.hpp"
#include "tests/bench/rtp_load.hpp"
#include "tests/bench/speech_probe.hpp"

extern char** environ;

namespace {

using namespace hotline;
using test::mono_ns;
namespace ng = hotline::test::ng;

enum class scenario { g711, opus, full, fullrec };
// Media port ranges: Hotline's engine, then rtpengine's.
constexpr size_t hotline_port_min = 44000, hotline_port_max = 53999, rtpengine_port_min = 54000, rtpengine_port_max = 63999;
const char* name_of(scenario s) {
  return s == scenario::g711 ? "g711" : s == scenario::opus ? "opus" : s == scenario::full ? "full" : "fullrec";
}
scenario scenario_of(const std::string& x) {
  return x == "g711" ? scenario::g711 : x == "opus" ? scenario::opus : x == "full" ? scenario::full : scenario::fullrec;
}

struct options {
  std::vector<scenario> scenarios{scenario::g711, scenario::opus};
  std::vector<std::string> relays{"hotline", "rtpengine"};
  double seconds = 6, warmup = 1.5;
  int runs = 1;
  int relay_cpu = 1, generator_cpu = 0;
  bool realtime = false;  // the generator SCHED_FIFO: sends on time on a shared machine
  bool probe = true;      // opus: a speech probe call per step
  struct tuning {
    unsigned tick_phases = media::engine_config{}.tick_phases;
    unsigned reads_per_tick = media::engine_config{}.reads_per_tick;
    bool io_uring = media::engine_config{}.io_uring;
    bool forward_on_arrival = media::engine_config{}.forward_on_arrival;
    int opus_complexity = media::engine_config{}.opus_complexity;
    int opus_narrowband_complexity = media::engine_config{}.opus_narrowband_complexity;
    int record_complexity = record::recording_options{}.complexity;
  } engine;
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

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
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

sdp::negotiated leg_media(bool opus, uint16_t port, bool srtp) {
  sdp::negotiated n;
  n.audio = opus ? sdp::codec{111, "opus", 48000, 2, "useinbandfec=1"} : sdp::codec{0, "PCMU", 8000, 1, ""};
  n.telephone_event = sdp::codec{101, "telephone-event", opus ? 48000u : 8000u, 1, "0-16"};
  n.opus_useinbandfec = opus;
  n.remote_address = "127.0.0.1";
  n.remote_port = n.remote_rtcp_port = port;
  n.rtcp_mux = true;
  if (srtp) {
    // The engine encrypts with A, the phone (our generator) with B.
    n.local_crypto = sdp::crypto{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, 'A'), "", "", ""};
    n.remote_crypto = sdp::crypto{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, 'B'), "", "", ""};
  }
  return n;
}

std::optional<rtp::srtp_session> generator_srtp() {
  sdp::crypto c{1, sdp::crypto_suite::aes_cm_128_hmac_sha1_80, "", std::string(40, 'B'), "", "", ""};
  auto key = sdp::decode_key_salt(c);
  auto s = rtp::srtp_session::create(c.suite, *key, rtp::srtp_session::direction::outbound);
  if (auto* ok = std::get_if<rtp::srtp_session>(&s)) return std::move(*ok);
  return std::nullopt;
}

// ---- Hotline: the engine in a pinned child process -------------------------------------

struct engine_totals {  // from the sessions' closing reports
  uint64_t sessions = 0, received = 0, lost = 0, concealed = 0, late_ticks = 0;
  uint64_t stretched = 0, shed = 0, late_packets = 0;  // the jitter buffers' moves
};

[[noreturn]] void run_engine_child(int ctl, int cpu, const options::tuning& tuning) {
  pin_to(cpu);
  media::engine_config c;
  c.tick_phases = tuning.tick_phases;
  c.reads_per_tick = tuning.reads_per_tick;
  c.io_uring = tuning.io_uring;
  c.forward_on_arrival = tuning.forward_on_arrival;
  c.opus_complexity = tuning.opus_complexity;
  c.opus_narrowband_complexity = tuning.opus_narrowband_complexity;
  c.threads = 1;
  c.bind_v4 = "127.0.0.1";
  c.bind_v6 = "";
  c.port_min = hotline_port_min;
  c.port_max = hotline_port_max;
  media::engine eng(c);
  record::recorder_pool recorders;  // fullrec: one thread, inherits the pinned core
  std::string rec_dir = "/tmp/media_relay_bench." + std::to_string(getpid());
  ::mkdir(rec_dir.c_str(), 0700);
  uint64_t recorded = 0;
  if (auto err = eng.start()) {
    std::fprintf(stderr, "engine: %s\n", err->c_str());
    _exit(1);
  }
  std::printf("hotline media I/O: %s (reads per tick %u), tick phases %u, G.711 bridge forwarded %s\n",
              eng.io_description().c_str(), c.reads_per_tick, c.tick_phases,
              c.forward_on_arrival ? "as packets are read" : "at the tick");
  std::fflush(stdout);
  std::mutex m;
  std::condition_variable cv;
  engine_totals totals;
  auto sink = [&](const media::media_event& e) {
    if (e.what != media::media_event::kind::closed) return;
    std::lock_guard l(m);
    ++totals.sessions;
    for (const auto& r : e.reports) {
      totals.received += r.packets_received;
      totals.lost += static_cast<uint64_t>(std::max<int64_t>(r.quality.packets_lost, 0));
      totals.concealed += r.concealed_frames;
      totals.stretched += r.playout_stretched;
      totals.shed += r.playout_shed;
      totals.late_packets += r.late_packets;
    }
    cv.notify_all();
  };
  FILE* in = fdopen(ctl, "r");
  FILE* out = fdopen(dup(ctl), "w");
  std::vector<media::session_id> open;
  uint64_t late_seen = 0;
  char line[256];
  while (std::fgets(line, sizeof line, in)) {
    char what[16] = {};
    unsigned caller_port = 0, agent_port = 0;
    std::sscanf(line, "%15s %u %u", what, &caller_port, &agent_port);
    std::string cmd = what;
    if (cmd == "g711" || cmd == "opus" || cmd == "full" || cmd == "fullrec") {
      bool opus = cmd != "g711", srtp = cmd == "full" || cmd == "fullrec";
      auto s = eng.create_session(8000, sink);
      auto a = eng.open_leg(s, media::leg_role::caller, false, "127.0.0.1");
      auto b = eng.open_leg(s, media::leg_role::agent, false, "127.0.0.1");
      if (!std::holds_alternative<sdp::local_media>(a) || !std::holds_alternative<sdp::local_media>(b)) {
        std::fprintf(out, "error no port\n");
      } else {
        eng.configure_leg(s, media::leg_role::caller, leg_media(false, static_cast<uint16_t>(caller_port), false));
        eng.configure_leg(s, media::leg_role::agent, leg_media(opus, static_cast<uint16_t>(agent_port), srtp), opus ? 4000 : 0);
        eng.set_mix(s, mix::preset(mix::mode::bridge));
        if (cmd == "fullrec") {
          record::recording_options ro;
          ro.complexity = tuning.record_complexity;
          ro.path = rec_dir + "/" + std::to_string(++recorded) + ".opus";
          auto r = recorders.open(std::move(ro));
          if (auto* rec = std::get_if<std::unique_ptr<record::recording>>(&r))
            eng.record(s, std::shared_ptr<record::recording>(std::move(*rec)));
        }
        open.push_back(s);
        std::fprintf(out, "%u %u\n", std::get<sdp::local_media>(a).port, std::get<sdp::local_media>(b).port);
      }
    } else if (cmd == "close") {
      {
        std::lock_guard l(m);
        totals = {};
      }
      for (auto s : open) eng.close_session(s);
      std::unique_lock l(m);
      cv.wait_for(l, std::chrono::seconds(10), [&] { return totals.sessions >= open.size(); });
      l.unlock();
      // fullrec: the recorder pool finishes (a backlog spilled near saturation is encoded
      // after the calls), so its work does not count in the next step's CPU.
      for (int i = 0; i < 600 && recorders.active() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      l.lock();
      open.clear();
      // stats() is a snapshot taken once a second on the media thread: late ticks since
      // the last close, give or take that second.
      uint64_t late = eng.stats().late_ticks;
      std::fprintf(out, "%llu %llu %llu %llu %llu %llu %llu %llu\n", static_cast<unsigned long long>(totals.sessions),
                   static_cast<unsigned long long>(totals.received), static_cast<unsigned long long>(totals.lost),
                   static_cast<unsigned long long>(totals.concealed), static_cast<unsigned long long>(late - late_seen),
                   static_cast<unsigned long long>(totals.stretched), static_cast<unsigned long long>(totals.shed),
                   static_cast<unsigned long long>(totals.late_packets));
      late_seen = late;
    }
    std::fflush(out);
  }
  // MEDIA_BENCH_KEEP_RECORDINGS=1: leave the fullrec files for a look (opusinfo, opusdec).
  if (std::getenv("MEDIA_BENCH_KEEP_RECORDINGS")) std::fprintf(stderr, "recordings kept in %s\n", rec_dir.c_str());
  else std::filesystem::remove_all(rec_dir);
  _exit(0);
}

class hotline_relay {
 public:
  // Forks before the parent starts any thread.
  hotline_relay(int cpu, const options::tuning& tuning) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
    pid_ = fork();
    if (pid_ == 0) {
      ::close(sv[0]);
      run_engine_child(sv[1], cpu, tuning);
    }
    ::close(sv[1]);
    in_ = fdopen(sv[0], "r");
    out_ = fdopen(dup(sv[0]), "w");
  }
  ~hotline_relay() {
    std::fclose(out_);
    std::fclose(in_);
    int st = 0;
    waitpid(pid_, &st, 0);
  }
  pid_t pid() const { return pid_; }

  std::optional<std::pair<uint16_t, uint16_t>> open_call(scenario s, uint16_t caller, uint16_t agent) {
    std::fprintf(out_, "%s %u %u\n", name_of(s), caller, agent);
    std::fflush(out_);
    char line[128];
    unsigned a = 0, b = 0;
    if (!std::fgets(line, sizeof line, in_) || std::sscanf(line, "%u %u", &a, &b) != 2) return std::nullopt;
    return std::pair{static_cast<uint16_t>(a), static_cast<uint16_t>(b)};
  }
  engine_totals close_all() {
    std::fprintf(out_, "close\n");
    std::fflush(out_);
    char line[256];
    engine_totals t;
    unsigned long long v[8] = {};
    if (std::fgets(line, sizeof line, in_))
      std::sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    t.sessions = v[0], t.received = v[1], t.lost = v[2], t.concealed = v[3], t.late_ticks = v[4];
    t.stretched = v[5], t.shed = v[6], t.late_packets = v[7];
    return t;
  }

 private:
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
};

// ---- rtpengine over its ng protocol --------------------------------------------------------

class rtpengine_relay {
 public:
  static constexpr uint16_t ng_port = 22299;

  explicit rtpengine_relay(int cpu) : pidfile_("/tmp/media_relay_bench.rtpengine." + std::to_string(getpid()) + ".pid") {
    std::vector<std::string> args{"taskset", "-c", std::to_string(cpu), "rtpengine", "--config-file=none", "--foreground",
                                  "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:" + std::to_string(ng_port),
                                  "--port-min=" + std::to_string(rtpengine_port_min), "--port-max=" + std::to_string(rtpengine_port_max), "--num-threads=1", "--delete-delay=0",
                                  "--timeout=60", "--log-stderr", "--log-level=4",
                                  "--pidfile=" + pidfile_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    log_ = "/tmp/media_relay_bench.rtpengine." + std::to_string(getpid()) + ".log";
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "taskset", &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 50 && pid_ > 0; ++i) {  // up within ~5 s
      if (ng_.call({{"command", "ping"}}, std::chrono::milliseconds(100))) {
        up_ = true;
        break;
      }
    }
  }
  ~rtpengine_relay() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      waitpid(pid_, &st, 0);
    }
    ::unlink(pidfile_.c_str());
    if (up_) ::unlink(log_.c_str());  // kept when it failed to start
  }
  bool up() const { return up_; }
  pid_t pid() const { return pid_; }  // taskset execs rtpengine: same pid
  const std::string& log() const { return log_; }

  struct call_ports {
    uint16_t caller_to = 0, callee_to = 0;  // where each side sends
    uint8_t callee_pt = 0;
  };
  std::optional<call_ports> open_call(scenario s, int index, uint16_t caller, uint16_t callee) {
    std::string id = "bench-" + std::to_string(index);
    ng::value::dict offer{{"command", "offer"}, {"call-id", id}, {"from-tag", "caller"},
                          {"sdp", sdp_for(caller, "0", "PCMU/8000")}, {"ICE", "remove"}};
    if (s == scenario::opus)
      offer["codec"] = ng::value::dict{{"transcode", ng::value::list{"opus/48000/2"}}, {"mask", ng::value::list{"PCMU"}}};
    auto o = ng_.call(offer);
    if (!o || o->get("result") != "ok") return fail("offer", o);
    call_ports p;
    std::string callee_sdp = o->get("sdp");
    p.callee_to = port_in(callee_sdp);
    std::string pt = "0", rtpmap = "PCMU/8000";
    if (s == scenario::opus) {
      std::smatch m;
      if (!std::regex_search(callee_sdp, m, std::regex("a=rtpmap:(\\d+) opus/48000"))) return fail("offer without opus", o);
      pt = m[1];
      rtpmap = "opus/48000/2";
    }
    p.callee_pt = static_cast<uint8_t>(std::stoi(pt));
    auto a = ng_.call({{"command", "answer"}, {"call-id", id}, {"from-tag", "caller"}, {"to-tag", "callee"},
                       {"sdp", sdp_for(callee, pt, rtpmap)}, {"ICE", "remove"}});
    if (!a || a->get("result") != "ok") return fail("answer", a);
    p.caller_to = port_in(a->get("sdp"));
    calls_.push_back(id);
    return p;
  }
  void close_all() {
    for (const auto& id : calls_) ng_.call({{"command", "delete"}, {"call-id", id}, {"from-tag", "caller"}});
    calls_.clear();
  }

 private:
  static std::string sdp_for(uint16_t port, const std::string& pt, const std::string& rtpmap) {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " + std::to_string(port) +
           " RTP/AVP " + pt + "\r\na=rtpmap:" + pt + " " + rtpmap + "\r\na=ptime:20\r\na=rtcp-mux\r\na=sendrecv\r\n";
  }
  static uint16_t port_in(const std::string& sdp) {
    std::smatch m;
    return std::regex_search(sdp, m, std::regex("m=audio (\\d+)")) ? static_cast<uint16_t>(std::stoi(m[1])) : 0;
  }
  std::nullopt_t fail(const char* what, const std::optional<ng::value>& reply) {
    std::fprintf(stderr, "rtpengine %s failed: %s\n", what, reply ? reply->get("error-reason").c_str() : "no reply");
    return std::nullopt;
  }
  std::string pidfile_;
  pid_t pid_ = -1;
  bool up_ = false;
  std::string log_;
  ng::client ng_{ng_port};
  std::vector<std::string> calls_;
};

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
