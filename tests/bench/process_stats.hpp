#pragma once
// What a benchmark reports about its own process: CPU time used, resident memory.
#include <sys/resource.h>

#include <fstream>
#include <string>

namespace hotline::bench {

// User + system CPU seconds of the whole process so far.
inline double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// Resident set size now, in KiB (VmRSS).
inline long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// The whole machine's busy and total CPU time so far (all cores, /proc/stat, in clock
// ticks): busy / total between two readings is the machine's load, every process counted.
struct machine_cpu {
  unsigned long long busy = 0, total = 0;
};
inline machine_cpu machine_cpu_now() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  machine_cpu m;
  m.busy = user + nice + system + irq + softirq + steal;
  m.total = m.busy + idle + iowait;
  return m;
}

}  // namespace hotline::bench
