#include "media/prompt/generate.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "media/prompt/wav.hpp"

extern char** environ;

namespace hotline::prompt {

namespace {

constexpr size_t max_stderr_kept = 2000;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string first_line(const std::string& s) {
  auto end = s.find('\n');
  return end == std::string::npos ? s : s.substr(0, end);
}

// Can we create files in `dir`? (Running as root ignores permission bits, so try it.)
std::optional<prompt_error> check_writable(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return prompt_error{errc::dir_unwritable, "cannot create prompt directory " + dir.string() + ": " + ec.message()};
  std::string probe = (dir / ".write-probe-XXXXXX").string();
  int fd = ::mkstemp(probe.data());
  if (fd < 0)
    return prompt_error{errc::dir_unwritable,
                        "cannot write in prompt directory " + dir.string() + ": " + std::strerror(errno)};
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

struct run_result {
  int spawn_errno = 0;  // posix_spawn failed (ENOENT: no such program)
  int status = 0;       // waitpid status
  std::string stderr_text;
};

// Runs argv[0] with argv, stdout to /dev/null, stderr captured. No shell.
run_result run(const std::vector<std::string>& args) {
  run_result result;
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.spawn_errno = errno;
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    result.spawn_errno = rc;
    return result;
  }
  char buf[512];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (result.stderr_text.size() < max_stderr_kept) result.stderr_text.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

std::optional<prompt_error> speak(const prompt_text& p, const std::filesystem::path& target,
                                  const generate_options& options) {
  // Per process: two generators on one directory (two test processes, a restart racing
  // the old process) each write their own file; the rename makes either complete one win.
  const std::filesystem::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  const run_result r = run({options.espeak, "-v", options.voice, "-s", std::to_string(options.words_per_minute), "-w",
                            tmp.string(), std::string(p.text)});
  if (r.spawn_errno == ENOENT)
    return prompt_error{errc::tool_missing,
                        "espeak-ng not found ('" + options.espeak + "'): install the espeak-ng package"};
  if (r.spawn_errno != 0)
    return prompt_error{errc::tool_failed, "cannot run " + options.espeak + ": " + std::strerror(r.spawn_errno)};
  const std::string said = r.stderr_text.empty() ? "" : ": " + first_line(r.stderr_text);
  if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
    std::filesystem::remove(tmp, ec);
    const std::string how = WIFEXITED(r.status) ? "exited with status " + std::to_string(WEXITSTATUS(r.status))
                                                : "was killed by signal " + std::to_string(WTERMSIG(r.status));
    return prompt_error{errc::tool_failed,
                        options.espeak + " " + how + " for prompt '" + std::string(p.name) + "'" + said};
  }
  // espeak-ng exits 0 even when it could not write the file: check what it wrote.
  auto wav = read_wav(tmp);
  if (std::holds_alternative<prompt_error>(wav)) {
    std::filesystem::remove(tmp, ec);
    return prompt_error{errc::tool_failed,
                        options.espeak + " wrote no usable WAV for prompt '" + std::string(p.name) + "'" + said};
  }
  if (std::get<mono_pcm>(wav).samples.empty()) {
    std::filesystem::remove(tmp, ec);
    return prompt_error{errc::tool_failed,
                        options.espeak + " wrote an empty WAV for prompt '" + std::string(p.name) + "'"};
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) return prompt_error{errc::dir_unwritable, "cannot rename " + tmp.string() + ": " + ec.message()};
  return std::nullopt;
}

}  // namespace

std::variant<generate_report, prompt_error> generate_prompts(const std::filesystem::path& dir,
                                                             std::span<const prompt_text> prompts,
                                                             const generate_options& options) {
  std::vector<prompt_text> all(prompts.begin(), prompts.end());
  all.insert(all.end(), number_prompts().begin(), number_prompts().end());
  std::set<std::string_view> seen;
  for (const auto& p : all) {
    if (!valid_name(p.name))
      return prompt_error{errc::bad_argument, "prompt name '" + std::string(p.name) + "': use [a-z0-9_], at most 64"};
    if (p.text.empty()) return prompt_error{errc::bad_argument, "prompt '" + std::string(p.name) + "' has no text"};
    if (p.text.front() == '-')
      return prompt_error{errc::bad_argument, "prompt '" + std::string(p.name) + "' text starts with '-' (an option)"};
  }
  if (auto e = check_writable(dir)) return *e;

  generate_report report;
  for (const auto& p : all) {
    if (!seen.insert(p.name).second) continue;  // a caller's prompt may repeat a number prompt
    const std::filesystem::path target = dir / (std::string(p.name) + ".wav");
    std::error_code ec;
    if (std::filesystem::is_regular_file(target, ec)) {
      ++report.already_there;
      continue;
    }
    if (auto e = speak(p, target, options)) return *e;
    ++report.generated;
  }
  return report;
}

}  // namespace hotline::prompt
