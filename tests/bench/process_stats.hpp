#pragma once
// What a benchmark reports about its own process: CPU time used, resident memory.
#include <sys/resource.h>

#include <fstream>
#include <string>
#include <string_view>

namespace hotline::bench {

// User + system CPU seconds of the whole process so far.
inline double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

// Resident set size now, in KiB (VmRSS).
// A field of /proc/self/status in kB: "VmRSS:" (all resident memory), "RssAnon:" (the
// heap and stacks), "RssFile:" (mapped files: LMDB's map, the binary).
inline long status_kb(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(field.size()));
  return 0;
}
inline long rss_kb() { return status_kb("VmRSS:"); }

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
