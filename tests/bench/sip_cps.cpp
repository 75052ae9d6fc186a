// SIP call rate: SIPp (its built-in "uac": INVITE with SDP / 100 / 180 / 200 / ACK /
// BYE / 200) against Hotline's SIP edge answering every call with an SDP answer, then the
// same load against SIPp's own UAS in the same run, for the ratio. Hotline's SIP work runs
// on its one SIP thread (one core); SIPp has the other core.
//
//   build/release/tests/bench/sip_cps [rate=3000] [seconds=10] [runs=3]
//
// Prints per run: completed and failed calls, retransmissions seen by SIPp, achieved
// calls/s, INVITE->200 latency p50/p99 (SIPp's -trace_rtt), the SIP thread's CPU.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/media/answering_server.hpp"

extern char** environ;

namespace {

struct sipp_result {
  int exit_code = -1;
  uint64_t successful = 0, failed = 0, retransmissions = 0;
  double seconds = 0;
  double mean_rtt_us = 0;
  std::vector<double> rtt_ms;
};

pid_t spawn(const std::vector<std::string>& args, const std::string& dir) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawn_file_actions_addopen(&fa, 1, (dir + "/stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, (dir + "/stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

// The last line of SIPp's -trace_stat CSV holds the cumulative counters.
void read_stats(const std::string& dir, sipp_result& r) {
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::string name = f.path().filename();
    if (name.ends_with("_.csv")) {
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
        if (h[i] == "ResponseTime1(C)") {  // "hh:mm:ss:uuuuuu", the mean INVITE->200
          auto last = v[i].rfind(':');
          if (last != std::string::npos) r.mean_rtt_us = std::stod(v[i].substr(last + 1));
        }
      }
    } else if (name.ends_with("_rtt.csv")) {
      std::ifstream in(f.path());
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        // Date_ms;response_time_ms;rtd_no (whole milliseconds)
        std::vector<std::string> v;
        for (std::stringstream s(line); std::getline(s, line, ';');) v.push_back(line);
        if (v.size() >= 2) r.rtt_ms.push_back(std::stod(v[1]));
      }
    }
  }
}

sipp_result run_sipp(const std::string& target, const std::vector<std::string>& scenario, int rate, int seconds,
                     const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {"sipp", target, "-i", "127.0.0.1", "-p", "0", "-r", std::to_string(rate),
                                   "-rp", "1000", "-m", std::to_string(rate * seconds), "-d", "0", "-nostdin",
                                   "-trace_stat", "-fd", "1", "-trace_rtt", "-rtt_freq", "1",
                                   "-timeout", std::to_string(seconds * 4 + 30) + "s", "-max_recv_loops", "10000",
                                   "-l", std::to_string(rate * 2), "-buff_size", "4194304"};
  args.insert(args.begin() + 1, scenario.begin(), scenario.end());
  auto start = std::chrono::steady_clock::now();
  sipp_result r;
  pid_t pid = spawn(args, dir);
  if (pid < 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  read_stats(dir, r);
  return r;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void print(const char* who, const sipp_result& r, double sip_cpu) {
  // SIPp records whole milliseconds per call; its mean is in microseconds.
  std::printf("%-8s completed %7llu failed %5llu retrans %5llu  %7.0f calls/s  INVITE->200 mean %5.0f us, p50 < %.0f ms, p99 < %.0f ms",
              who, static_cast<unsigned long long>(r.successful), static_cast<unsigned long long>(r.failed),
              static_cast<unsigned long long>(r.retransmissions), static_cast<double>(r.successful) / r.seconds,
              r.mean_rtt_us, percentile(r.rtt_ms, 0.5) + 1, percentile(r.rtt_ms, 0.99) + 1);
  if (sip_cpu >= 0) std::printf("  SIP thread CPU %.0f%%", sip_cpu * 100);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int rate = argc > 1 ? std::atoi(argv[1]) : 3000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  std::string tmp = std::filesystem::temp_directory_path() / ("sip_cps." + std::to_string(getpid()));

  hotline::test::answering_server::options o;
  o.record = false;
  o.sip.ua.max_calls = 100000;
  o.sip.ua.max_cpu = 2.0;  // measure, do not shed
  o.sip.tcp = false;
  hotline::test::answering_server server(o);
  if (!server.start()) {
    std::cerr << "cannot start the SIP service\n";
    return 1;
  }
  std::printf("sip_cps: %d calls/s offered for %d s, %d runs (SIPp built-in uac, -d 0)\n", rate, seconds, runs);
  std::vector<double> hotline_cps, peer_cps;
  for (int i = 0; i < runs; ++i) {
    auto before = server.sip().stats();
    auto r = run_sipp("127.0.0.1:" + std::to_string(server.port()), {"-sn", "uac"}, rate, seconds, tmp + "/hotline");
    auto after = server.sip().stats();
    print("hotline", r, after.sip_thread_cpu);
    (void)before;
    hotline_cps.push_back(static_cast<double>(r.successful) / r.seconds);

    // The peer: SIPp's own UAS, same load, same machine, same run.
    std::filesystem::create_directories(tmp + "/uas");
    pid_t uas = spawn({"sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", "25060", "-nostdin", "-bg"}, tmp + "/uas");
    int st = 0;
    waitpid(uas, &st, 0);  // -bg forks and returns
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto p = run_sipp("127.0.0.1:25060", {"-sn", "uac"}, rate, seconds, tmp + "/peer");
    std::system("pkill -f 'sipp -sn uas -i 127.0.0.1 -p 25060' >/dev/null 2>&1");
    print("sipp-uas", p, -1);
    peer_cps.push_back(static_cast<double>(p.successful) / p.seconds);
  }
  std::sort(hotline_cps.begin(), hotline_cps.end());
  std::sort(peer_cps.begin(), peer_cps.end());
  double h = hotline_cps[hotline_cps.size() / 2], q = peer_cps[peer_cps.size() / 2];
  std::printf("median: hotline %.0f calls/s (min %.0f max %.0f), sipp uas %.0f calls/s, ratio %.2f\n", h,
              hotline_cps.front(), hotline_cps.back(), q, q > 0 ? h / q : 0);
  auto s = server.sip().stats();
  std::printf("hotline transactions: %llu retransmissions sent, %llu absorbed\n",
              static_cast<unsigned long long>(s.transactions.retransmissions_sent),
              static_cast<unsigned long long>(s.transactions.retransmissions_absorbed));
  std::filesystem::remove_all(tmp);
  return 0;
}
