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
#include "tests/media/sipp_runner.hpp"

namespace {

using hotline::test::run_sipp;
using hotline::test::sipp_result;
using hotline::test::spawn_process;

sipp_result run_load(const std::string& target, const std::string& scenario, int rate, int seconds,
                     const std::string& dir) {
  return run_sipp({target, "-sn", scenario, "-i", "127.0.0.1", "-p", "0", "-r", std::to_string(rate), "-rp", "1000",
                   "-m", std::to_string(rate * seconds), "-d", "0", "-trace_rtt", "-rtt_freq", "1",
                   "-max_recv_loops", "10000", "-l", std::to_string(rate * 2)},
                  dir, std::chrono::seconds(seconds * 4 + 30));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void print(const char* who, const sipp_result& r, double sip_cpu) {
  // SIPp records whole milliseconds per call: "< 1 ms" means it measured 0.
  std::printf("%-8s completed %7llu failed %5llu retrans %5llu  %7.0f calls/s  INVITE->200 p50 < %.0f ms, p99 < %.0f ms",
              who, static_cast<unsigned long long>(r.successful), static_cast<unsigned long long>(r.failed),
              static_cast<unsigned long long>(r.retransmissions), static_cast<double>(r.successful) / r.seconds,
              percentile(r.rtt_ms, 0.5) + 1, percentile(r.rtt_ms, 0.99) + 1);
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
    auto r = run_load("127.0.0.1:" + std::to_string(server.port()), "uac", rate, seconds, tmp + "/hotline");
    auto after = server.sip().stats();
    print("hotline", r, after.sip_thread_cpu);
    (void)before;
    hotline_cps.push_back(static_cast<double>(r.successful) / r.seconds);

    // The peer: SIPp's own UAS, same load, same machine, same run.
    std::filesystem::create_directories(tmp + "/uas");
    pid_t uas = spawn_process({"sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", "25060", "-nostdin", "-bg"}, tmp + "/uas");
    int st = 0;
    waitpid(uas, &st, 0);  // -bg forks and returns
    hotline::test::wait_until_bound(25060);
    auto p = run_load("127.0.0.1:25060", "uac", rate, seconds, tmp + "/peer");
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
