#pragma once
// A child process for black-box tests (SIPp, baresip, the hotline binary): spawned with
// posix_spawn from an argv vector, with its own working directory, environment overrides
// and stdout/stderr sent to files. The child leads its own process group, so stopping it
// also stops anything it started. The destructor stops a child that is still running
// (SIGTERM, then SIGKILL after a grace period): a failing test never leaks peers.
//
// Threading: one process object belongs to one thread.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hotline::test {

struct process_options {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::string working_dir;        // empty: the parent's
  // Added to (or replacing in) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdout_path;  // empty: /dev/null; the file is created or truncated
  std::string stderr_path;  // empty: /dev/null
  // stdin is always /dev/null: a peer waiting on a terminal would hang the test.
};

struct exit_status {
  int code = -1;           // the exit code when the child exited, else -1
  int signal = 0;          // the signal that ended it, else 0
  bool timed_out = false;  // wait_or_kill() had to kill it
  bool exited() const { return code >= 0; }
  bool success() const { return code == 0; }
  std::string describe() const;  // "exit 0", "signal 9 (timed out)", ...
};

class process {
 public:
  process() = default;
  // Starts the child at once; check started() (error() says why it failed).
  explicit process(const process_options& options);
  ~process();
  process(process&& other) noexcept;
  process& operator=(process&& other) noexcept;
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

  // True while the child has not been reaped (reaps it when it has ended).
  bool running();
  // Waits up to `timeout` for the child to end; nullopt if it is still running.
  std::optional<exit_status> wait(std::chrono::milliseconds timeout);
  // As wait(), but kills the process group when the time is up (status.timed_out).
  exit_status wait_or_kill(std::chrono::milliseconds timeout);
  // Sends `sig` to the child's process group (no-op once it has ended).
  void signal(int sig);
  // SIGTERM, up to `grace` to exit, then SIGKILL. Returns how it ended.
  exit_status stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // How the child ended, once it has been reaped.
  const std::optional<exit_status>& status() const { return status_; }

 private:
  bool try_reap(bool block);
  void release();

  pid_t pid_ = -1;
  int pidfd_ = -1;  // readable when the child ends (Linux >= 5.3); -1: poll waitpid instead
  std::optional<exit_status> status_;
  std::string error_;
};

// Whether HOTLINE_KEEP_PEER_DIRS is set: the peer drivers then keep their temp dirs
// (configs, logs, recordings) for a post-mortem instead of removing them.
bool keep_peer_dirs();

// Reads a whole file ("" if it cannot be read); `max_tail` keeps only its last bytes.
std::string read_text_file(const std::string& path, size_t max_tail = std::string::npos);

}  // namespace hotline::test
