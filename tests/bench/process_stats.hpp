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

}  // namespace hotline::bench
