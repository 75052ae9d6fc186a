#include "tests/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace hotline::test {
namespace {

using steady = std::chrono::steady_clock;

std::vector<std::string> merged_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::set<std::string> replaced;
  for (const auto& [k, v] : overrides) replaced.insert(k);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos && replaced.count(std::string(entry.substr(0, eq)))) continue;
    env.emplace_back(entry);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

exit_status decode(int wstatus) {
  exit_status s;
  if (WIFEXITED(wstatus)) s.code = WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) s.signal = WTERMSIG(wstatus);
  return s;
}

}  // namespace

std::string exit_status::describe() const {
  std::string s = exited() ? "exit " + std::to_string(code) : "signal " + std::to_string(signal);
  if (timed_out) s += " (timed out)";
  return s;
}

process::process(const process_options& options) {
  if (options.argv.empty()) {
    error_ = "empty argv";
    return;
  }
  std::vector<std::string> args = options.argv;
  std::vector<std::string> env = merged_environment(options.env);
  auto argv = c_strings(args);
  auto envp = c_strings(env);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  const std::string out = options.stdout_path.empty() ? "/dev/null" : options.stdout_path;
  const std::string err = options.stderr_path.empty() ? "/dev/null" : options.stderr_path;
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!options.working_dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, options.working_dir.c_str());

  // Its own process group (stop() signals the group); default signal dispositions and an
  // empty mask, whatever the test runner set for itself.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0].c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    error_ = "posix_spawn " + args[0] + ": " + std::strerror(rc);
    return;
  }
  pid_ = pid;
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

process::~process() {
  if (started() && !status_) stop();
  release();
}

process::process(process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      status_(std::move(other.status_)),
      error_(std::move(other.error_)) {}

process& process::operator=(process&& other) noexcept {
  if (this != &other) {
    if (started() && !status_) stop();
    release();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
    status_ = std::move(other.status_);
    error_ = std::move(other.error_);
  }
  return *this;
}

void process::release() {
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
}

bool process::try_reap(bool block) {
  if (!started() || status_) return true;
  int wstatus = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &wstatus, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  status_ = r == pid_ ? decode(wstatus) : exit_status{};  // r < 0: reaped elsewhere
  release();
  return true;
}

bool process::running() { return started() && !try_reap(false); }

std::optional<exit_status> process::wait(std::chrono::milliseconds timeout) {
  if (!started()) return std::nullopt;
  const auto deadline = steady::now() + timeout;
  while (!try_reap(false)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return std::nullopt;
    if (pidfd_ >= 0) {
      // The pidfd turns readable when the child ends: no polling loop.
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(5)));
    }
  }
  return status_;
}

exit_status process::wait_or_kill(std::chrono::milliseconds timeout) {
  if (!started()) return {};
  if (auto s = wait(timeout)) return *s;
  signal(SIGKILL);
  try_reap(true);
  status_->timed_out = true;
  return *status_;
}

void process::signal(int sig) {
  if (!started() || status_) return;
  // The group first (the child leads it); the pid itself in case it left the group.
  ::kill(-pid_, sig);
  ::kill(pid_, sig);
}

exit_status process::stop(std::chrono::milliseconds grace) {
  if (!started()) return {};
  if (status_) return *status_;
  signal(SIGTERM);
  if (auto s = wait(grace)) return *s;
  signal(SIGKILL);
  try_reap(true);
  return *status_;
}

bool keep_peer_dirs() {
  const char* v = std::getenv("HOTLINE_KEEP_PEER_DIRS");
  return v && *v && std::string_view(v) != "0";
}

std::string read_text_file(const std::string& path, size_t max_tail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (max_tail != std::string::npos && s.size() > max_tail) s.erase(0, s.size() - max_tail);
  return s;
}

}  // namespace hotline::test
