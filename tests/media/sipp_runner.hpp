#pragma once
// Runs SIPp (sip-tester) as a child process and reads its statistics: used by the peer
// tests and the sip_cps benchmark. SIPp writes its files into `dir`.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace hotline::test {

struct sipp_result {
  int exit_code = -1;  // 0: every call succeeded
  uint64_t successful = 0, failed = 0, retransmissions = 0;
  double seconds = 0;
  double mean_rtt_us = 0;
  std::vector<double> rtt_ms;  // per call, whole milliseconds (-trace_rtt)
  std::string dir;
  std::string log() const {  // stderr and the error trace, for failure messages
    std::string out;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      auto n = f.path().filename().string();
      if (n == "stderr.txt" || n.ends_with("_errors.log") || n.ends_with("_messages.log")) {
        std::ifstream in(f.path());
        std::stringstream ss;
        ss << in.rdbuf();
        std::string s = ss.str();
        out += "== " + n + "\n" + (s.size() > 6000 ? s.substr(s.size() - 6000) : s);
      }
    }
    return out;
  }
};

inline pid_t spawn_process(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

inline void read_sipp_stats(sipp_result& r) {
  for (const auto& f : std::filesystem::directory_iterator(r.dir)) {
    std::string name = f.path().filename();
    if (name.ends_with("_.csv")) {  // -trace_stat: the last line holds the totals
      std::ifstream in(f.path());
      std::string header, line, last;
      std::getline(in, header);
      while (std::getline(in, line))
        if (!line.empty()) last = line;
      std::vector<std::string> h, v;
      for (std::stringstream a(header); std::getline(a, line, ';');) h.push_back(line);
      for (std::stringstream b(last); std::getline(b, line, ';');) v.push_back(line);
      for (size_t i = 0; i < h.size() && i < v.size(); ++i) {
        if (h[i] == "SuccessfulCall(C)") r.successful = std::stoull(v[i]);
        if (h[i] == "FailedCall(C)") r.failed = std::stoull(v[i]);
        if (h[i] == "Retransmissions(C)") r.retransmissions = std::stoull(v[i]);
        if (h[i] == "ResponseTime1(C)") {  // "hh:mm:ss:uuuuuu"
          auto colon = v[i].rfind(':');
          if (colon != std::string::npos) r.mean_rtt_us = std::stod(v[i].substr(colon + 1));
        }
      }
    } else if (name.ends_with("_rtt.csv")) {  // Date_ms;response_time_ms;rtd_no
      std::ifstream in(f.path());
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        std::vector<std::string> v;
        for (std::stringstream s(line); std::getline(s, line, ';');) v.push_back(line);
        if (v.size() >= 2) r.rtt_ms.push_back(std::stod(v[1]));
      }
    }
  }
}

// Runs `sipp <args> -trace_stat ...` to completion (or kills it after `timeout`).
inline sipp_result run_sipp(std::vector<std::string> args, const std::string& dir,
                            std::chrono::seconds timeout = std::chrono::seconds(60)) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sipp_result r;
  r.dir = dir;
  args.insert(args.begin(), "sipp");
  for (const char* a : {"-nostdin", "-trace_stat", "-fd", "1", "-trace_err", "-buff_size", "4194304"}) args.push_back(a);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = spawn_process(args, dir);
  if (pid < 0) return r;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  read_sipp_stats(r);
  return r;
}

// A SIPp that runs in the background (a UAS waiting for our calls); killed on scope exit.
class sipp_background {
 public:
  sipp_background(std::vector<std::string> args, const std::string& dir) : dir_(dir) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    args.insert(args.begin(), "sipp");
    for (const char* a : {"-nostdin", "-trace_stat", "-fd", "1", "-trace_err"}) args.push_back(a);
    pid_ = spawn_process(args, dir);
  }
  ~sipp_background() { stop(); }
  // Waits for SIPp to exit on its own (-m N reached); returns its exit code.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    auto start = std::chrono::steady_clock::now();
    while (pid_ > 0 && waitpid(pid_, &status_, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() - start > timeout) return stop(), -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  // SIPp has ended (e.g. it could not bind its port).
  bool exited() {
    if (pid_ > 0 && waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
  sipp_result stats() const {
    sipp_result r;
    r.dir = dir_;
    read_sipp_stats(r);
    return r;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int status_ = 0;
};

// A UDP port nobody uses right now (bind 0, read it, close): for SIPp's -p.
inline uint16_t free_udp_port() {
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// Waits until someone (a SIPp UAS we started) has bound UDP `port` on loopback: our own
// bind then fails with EADDRINUSE. Instead of sleeping for a guess.
inline bool wait_until_bound(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool taken = ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
    ::close(s);
    if (taken) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// A background SIPp UAS on a free port (`args` without -p). free_udp_port() closes its
// socket before SIPp binds, so under a parallel test run the port can be taken meanwhile or
// SIPp can be slow to start: waits up to 15 s per try, and tries another port when SIPp
// exits without binding. `port` is where it listens; nullptr after three tries.
inline std::unique_ptr<sipp_background> start_sipp_uas(std::vector<std::string> args, const std::string& dir,
                                                       uint16_t& port) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    port = free_udp_port();
    auto a = args;
    a.insert(a.end(), {"-p", std::to_string(port)});
    auto p = std::make_unique<sipp_background>(a, dir);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline && !p->exited()) {
      if (wait_until_bound(port, std::chrono::milliseconds(100)) && !p->exited()) return p;
    }
  }
  return nullptr;
}

}  // namespace hotline::test
