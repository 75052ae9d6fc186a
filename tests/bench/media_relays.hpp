#pragma once
// The two relays media_relay_bench measures, behind one small interface each: Hotline's
// engine in a child process forked at start and pinned to a core (driven over a
// socketpair, one text line per command), and rtpengine (userspace) under taskset, driven
// over its ng protocol. Single-TU header for the bench executable.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "tests/bench/ng_client.hpp"

extern char** environ;

namespace hotline::bench {

namespace ng = hotline::test::ng;

enum class scenario { g711, opus, full, fullrec };
// Media port ranges: Hotline's engine, then rtpengine's.
inline constexpr size_t hotline_port_min = 44000, hotline_port_max = 53999, rtpengine_port_min = 54000, rtpengine_port_max = 63999;
inline const char* name_of(scenario s) {
  return s == scenario::g711 ? "g711" : s == scenario::opus ? "opus" : s == scenario::full ? "full" : "fullrec";
}
inline scenario scenario_of(const std::string& x) {
  return x == "g711" ? scenario::g711 : x == "opus" ? scenario::opus : x == "full" ? scenario::full : scenario::fullrec;
}

// The engine's settings the bench can change (engine_config's, recordings' complexity).
struct engine_tuning {
  unsigned tick_phases = media::engine_config{}.tick_phases;
  unsigned reads_per_tick = media::engine_config{}.reads_per_tick;
  bool io_uring = media::engine_config{}.io_uring;
  bool forward_on_arrival = media::engine_config{}.forward_on_arrival;
  int opus_complexity = media::engine_config{}.opus_complexity;
  int opus_narrowband_complexity = media::engine_config{}.opus_narrowband_complexity;
  int record_complexity = record::recording_options{}.complexity;
};

inline void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

inline sdp::negotiated leg_media(bool opus, uint16_t port, bool srtp) {
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

// ---- Hotline: the engine in a pinned child process -------------------------------------

struct engine_totals {  // from the sessions' closing reports
  uint64_t sessions = 0, received = 0, lost = 0, concealed = 0, late_ticks = 0;
  uint64_t stretched = 0, shed = 0, late_packets = 0;  // the jitter buffers' moves
};

[[noreturn]] inline void run_engine_child(int ctl, int cpu, const engine_tuning& tuning) {
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
  hotline_relay(int cpu, const engine_tuning& tuning) {
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

}  // namespace hotline::bench
