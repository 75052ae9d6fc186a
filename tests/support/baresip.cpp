#include "tests/support/baresip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <thread>

#include "tests/support/ports.hpp"

namespace hotline::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Where Debian's baresip-core puts its modules (dpkg -L baresip-core).
constexpr const char* module_path = "/usr/lib/baresip/modules";
// A ctrl_tcp frame bigger than this is a broken stream, not a message (callstat with
// every SDP attribute is a few kB).
constexpr size_t max_frame = 1 << 20;

// ctrl_tcp speaks flat JSON objects: {"event":true,"type":"CALL_ESTABLISHED",...} and
// {"response":true,"ok":true,"data":"...","token":"1"}. A reader for exactly that
// (strings, booleans, numbers, null; nested values are skipped) keeps this library on
// the standard library. Values come back as text: strings unescaped, the rest verbatim.
using flat_object = std::map<std::string, std::string, std::less<>>;

void skip_space(std::string_view s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// s[i] is the opening quote; leaves i after the closing one.
std::optional<std::string> parse_string(std::string_view s, size_t& i) {
  std::string out;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    switch (s[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        if (i + 4 >= s.size()) return std::nullopt;
        uint32_t cp = static_cast<uint32_t>(std::strtoul(std::string(s.substr(i + 1, 4)).c_str(), nullptr, 16));
        i += 4;
        // A surrogate pair: the low half follows as another \uXXXX.
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u') {
          uint32_t lo = static_cast<uint32_t>(std::strtoul(std::string(s.substr(i + 3, 4)).c_str(), nullptr, 16));
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        put_utf8(out, cp);
        break;
      }
      default: out += s[i];  // \" \\ \/
    }
  }
  return std::nullopt;
}

// Skips a nested object or array (strings inside may hold brackets).
bool skip_nested(std::string_view s, size_t& i) {
  int depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      if (!parse_string(s, i)) return false;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ++i;
    if (depth == 0) return true;
  }
  return false;
}

std::optional<flat_object> parse_flat_object(std::string_view s) {
  flat_object out;
  size_t i = 0;
  skip_space(s, i);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  skip_space(s, i);
  if (i < s.size() && s[i] == '}') return out;
  while (i < s.size()) {
    skip_space(s, i);
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    auto key = parse_string(s, i);
    if (!key) return std::nullopt;
    skip_space(s, i);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    skip_space(s, i);
    if (i >= s.size()) return std::nullopt;
    if (s[i] == '"') {
      auto v = parse_string(s, i);
      if (!v) return std::nullopt;
      out[*key] = std::move(*v);
    } else if (s[i] == '{' || s[i] == '[') {
      if (!skip_nested(s, i)) return std::nullopt;
    } else {
      size_t start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '}' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      out[*key] = std::string(s.substr(start, i - start));
    }
    skip_space(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return out;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string str(const flat_object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() ? it->second : std::string();
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::chrono::milliseconds left_until(steady::time_point deadline) {
  return std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
}

// Sample rate and channels of a WAV file's "fmt " chunk; {0, 0} if it is not one.
std::pair<unsigned, unsigned> wav_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char riff[12];
  if (!in.read(riff, 12) || std::memcmp(riff, "RIFF", 4) != 0 || std::memcmp(riff + 8, "WAVE", 4) != 0) return {0, 0};
  char hdr[8];
  while (in.read(hdr, 8)) {
    uint32_t size;
    std::memcpy(&size, hdr + 4, 4);
    if (std::memcmp(hdr, "fmt ", 4) == 0) {
      char fmt[16];
      if (size < 16 || !in.read(fmt, 16)) return {0, 0};
      uint16_t channels;
      uint32_t rate;
      std::memcpy(&channels, fmt + 2, 2);
      std::memcpy(&rate, fmt + 4, 4);
      return {rate, channels};
    }
    in.seekg(size + (size & 1), std::ios::cur);
  }
  return {0, 0};
}

// Drops ANSI colour escapes ("\x1b[32m") from baresip's console text.
std::string strip_ansi(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace

struct baresip_peer::connection {
  int fd = -1;
  std::string in;  // bytes read, not yet a whole netstring
  ~connection() {
    if (fd >= 0) ::close(fd);
  }
};

bool write_tone_wav(const std::string& path, unsigned seconds, unsigned hz, unsigned rate) {
  std::ofstream out(path, std::ios::binary);
  const uint32_t samples = seconds * rate, data_bytes = samples * 2;
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
  out.write("RIFF", 4);
  u32(36 + data_bytes);
  out.write("WAVEfmt ", 8);
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  out.write("data", 4);
  u32(data_bytes);
  std::vector<int16_t> pcm(samples);
  for (uint32_t i = 0; i < samples; ++i)
    pcm[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * hz * i / rate));
  out.write(reinterpret_cast<const char*>(pcm.data()), static_cast<std::streamsize>(pcm.size() * 2));
  return static_cast<bool>(out);
}

baresip_peer::baresip_peer(baresip_options options) : options_(std::move(options)) {}

baresip_peer::~baresip_peer() {
  if (proc_.started() && !proc_.status()) quit(500ms);
  conn_.reset();
  if (own_dir_ && !keep_peer_dirs()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string baresip_peer::aor() const {
  if (!options_.domain.empty()) return "sip:" + options_.user + "@" + options_.domain;
  return uri();
}

std::string baresip_peer::uri() const {
  return "sip:" + options_.user + "@" + options_.local_ip + ":" + std::to_string(options_.sip_port);
}

bool baresip_peer::write_files() {
  std::error_code ec;
  if (own_dir_) {
    // a retry of start(): the temp dir is there
  } else if (options_.dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "hotline-baresip-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return error_ = "mkdtemp failed", false;
    dir_ = tmpl;
    own_dir_ = true;
  } else {
    dir_ = options_.dir;
    fs::create_directories(dir_, ec);
  }
  // SIP port P: baresip binds UDP and TCP on P and TLS on P + 1.
  for (int attempt = 0; options_.sip_port == 0 && attempt < 50; ++attempt) {
    uint16_t p = free_port(options_.local_ip);
    if (p != 0 && p < 65535 && port_is_free(options_.local_ip, static_cast<uint16_t>(p + 1))) options_.sip_port = p;
  }
  if (options_.sip_port == 0) return error_ = "no free SIP port pair", false;
  if (options_.ctrl_port == 0) options_.ctrl_port = free_port(options_.local_ip);

  std::string wav = options_.audio_file;
  if (wav.empty()) {
    wav = dir_ + "/tone.wav";
    if (!write_tone_wav(wav, options_.tone_seconds, options_.tone_hz, options_.tone_rate))
      return error_ = "cannot write " + wav, false;
  }
  auto [rate, channels] = wav_format(wav);
  if (rate == 0) return error_ = wav + " is not a WAV file", false;

  std::ofstream config(dir_ + "/config");
  config << "poll_method\tepoll\n"
         << "sip_listen\t" << options_.local_ip << ":" << options_.sip_port << "\n"
         // baresip 1.0.0 wants an address here, not an interface name.
         << "net_interface\t" << options_.local_ip << "\n"
         << "call_local_timeout\t120\ncall_max_calls\t4\n"
         << "audio_path\t/usr/share/baresip\n"
         // The microphone is the WAV, at its own rate: aufile refuses a file whose rate or
         // channels differ from the source's, and baresip resamples from there to the codec.
         << "audio_source\taufile," << wav << "\n"
         << "ausrc_srate\t" << rate << "\nausrc_channels\t" << channels << "\n";
  if (!options_.rtp_ports.empty()) config << "rtp_ports\t" << options_.rtp_ports << "\n";
  config << "module_path\t" << module_path << "\n"
         << "module\tg711.so\nmodule\tg722.so\nmodule\topus.so\nmodule\taufile.so\nmodule\tsrtp.so\n";
  if (options_.mediaenc == "dtls_srtp") config << "module\tdtls_srtp.so\n";
  if (options_.record) {
    fs::create_directories(dir_ + "/rec", ec);
    config << "module\tsndfile.so\nsnd_path\t" << dir_ << "/rec\n";
  }
  // account: reads `accounts`; menu: the dial/hangup/accept/reginfo/callstat commands;
  // ctrl_tcp: those commands and the events over TCP.
  config << "module_app\taccount.so\nmodule_app\tmenu.so\nmodule_app\tctrl_tcp.so\n"
         << "ctrl_tcp_listen\t" << options_.local_ip << ":" << options_.ctrl_port << "\n";
  for (const auto& line : options_.extra_config) config << line << "\n";

  std::ofstream accounts(dir_ + "/accounts");
  if (!options_.display_name.empty()) accounts << "\"" << options_.display_name << "\" ";
  accounts << "<" << aor() << ">";
  if (!options_.auth_pass.empty()) {
    accounts << ";auth_user=" << (options_.auth_user.empty() ? options_.user : options_.auth_user)
             << ";auth_pass=" << options_.auth_pass;
  }
  if (!options_.outbound.empty()) accounts << ";outbound=\"" << options_.outbound << "\"";
  accounts << ";regint=" << options_.regint << ";answermode=" << options_.answermode;
  if (!options_.mediaenc.empty()) accounts << ";mediaenc=" << options_.mediaenc;
  if (!options_.audio_codecs.empty()) {
    accounts << ";audio_codecs=";
    for (size_t i = 0; i < options_.audio_codecs.size(); ++i) accounts << (i ? "," : "") << options_.audio_codecs[i];
  }
  for (const auto& p : options_.extra_account_params) accounts << ";" << p;
  accounts << "\n";
  return static_cast<bool>(config) && static_cast<bool>(accounts);
}

bool baresip_peer::start() {
  if (proc_.started()) return error_ = "already started", false;
  // The ports we pick are free when picked, not when baresip binds them: under a parallel
  // test run another process can take one meanwhile, and baresip exits with EADDRINUSE
  // (98; also for TLS on SIP port + 1). Then pick again.
  const bool pick_sip = options_.sip_port == 0, pick_ctrl = options_.ctrl_port == 0;
  for (int attempt = 1;; ++attempt) {
    if (!write_files()) return false;
    if (launch()) return true;
    bool in_use = proc_.status() && proc_.status()->code == 98;
    if (!in_use || !(pick_sip || pick_ctrl) || attempt == 3) return false;
    if (pick_sip) options_.sip_port = 0;
    if (pick_ctrl) options_.ctrl_port = 0;
    proc_ = process();
  }
}

bool baresip_peer::launch() {
  process_options p;
  p.argv = {"baresip", "-f", dir_};
  p.working_dir = dir_;
  p.stdout_path = dir_ + "/stdout.txt";
  p.stderr_path = dir_ + "/stderr.txt";
  proc_ = process(p);
  if (!proc_.started()) return error_ = proc_.error(), false;

  // baresip prints "baresip is ready." but a log is no handshake: connect until the
  // control socket accepts (or baresip has died).
  const auto deadline = steady::now() + options_.start_timeout;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(options_.ctrl_port);
  ::inet_pton(AF_INET, options_.local_ip.c_str(), &a.sin_addr);
  while (true) {
    if (!proc_.running()) return error_ = "baresip exited (" + proc_.status()->describe() + "):\n" + log(), false;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn_ = std::make_unique<connection>();
      conn_->fd = fd;
      break;
    }
    ::close(fd);
    if (steady::now() > deadline) return error_ = "ctrl_tcp did not accept within the start timeout:\n" + log(), false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool baresip_peer::read_some(std::chrono::milliseconds timeout) {
  if (!conn_) return false;
  pollfd p{conn_->fd, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) return false;
  if (n <= 0) return true;
  char buf[16384];
  ssize_t got = ::recv(conn_->fd, buf, sizeof buf, 0);
  if (got <= 0) {
    conn_.reset();  // baresip went away
    return false;
  }
  conn_->in.append(buf, static_cast<size_t>(got));
  // Netstrings: "<length>:<payload>,".
  std::string& in = conn_->in;
  while (true) {
    auto colon = in.find(':');
    if (colon == std::string::npos) {
      if (in.size() > 20) return conn_.reset(), false;  // no length prefix: not ctrl_tcp
      break;
    }
    size_t len = std::strtoull(in.c_str(), nullptr, 10);
    if (len > max_frame) return conn_.reset(), false;
    if (in.size() < colon + 1 + len + 1) break;
    dispatch(in.substr(colon + 1, len));
    in.erase(0, colon + 1 + len + 1);
  }
  return true;
}

void baresip_peer::dispatch(const std::string& text) {
  auto parsed = parse_flat_object(text);
  if (!parsed) return;
  const flat_object& o = *parsed;
  if (o.contains("response")) {
    responses_.emplace_back(str(o, "token"), text);
  } else if (o.contains("event")) {
    baresip_event e;
    e.type = str(o, "type");
    e.class_name = str(o, "class");
    e.param = str(o, "param");
    e.direction = str(o, "direction");
    e.peer_uri = str(o, "peeruri");
    e.call_id = str(o, "id");
    e.account_aor = str(o, "accountaor");
    e.json = text;
    events_.push_back(std::move(e));
    taken_.push_back(false);
  }
}

std::optional<std::string> baresip_peer::command(std::string_view name, std::string_view params,
                                                 std::chrono::milliseconds timeout) {
  if (!conn_) return std::nullopt;
  std::string token = std::to_string(next_token_++);
  std::string body = "{\"command\":" + json_string(name) + ",\"token\":" + json_string(token);
  if (!params.empty()) body += ",\"params\":" + json_string(params);
  body += "}";
  std::string frame = std::to_string(body.size()) + ":" + body + ",";
  for (size_t sent = 0; sent < frame.size();) {
    ssize_t n = ::send(conn_->fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return conn_.reset(), std::nullopt;
    sent += static_cast<size_t>(n);
  }
  const auto deadline = steady::now() + timeout;
  while (true) {
    for (auto it = responses_.begin(); it != responses_.end(); ++it) {
      if (it->first == token) {
        std::string r = std::move(it->second);
        responses_.erase(it);
        return r;
      }
    }
    auto left = left_until(deadline);
    if (left.count() == 0 || !read_some(left)) return std::nullopt;
  }
}

std::optional<std::string> baresip_peer::command_data(std::string_view name, std::string_view params,
                                                      std::chrono::milliseconds timeout) {
  auto r = command(name, params, timeout);
  if (!r) return std::nullopt;
  auto o = parse_flat_object(*r);
  if (!o || str(*o, "ok") != "true") return std::nullopt;
  return str(*o, "data");
}

std::optional<baresip_event> baresip_peer::wait_event(std::string_view type, std::chrono::milliseconds timeout) {
  return wait_event([&](const baresip_event& e) { return e.type == type; }, timeout);
}

std::optional<baresip_event> baresip_peer::wait_event(const std::function<bool(const baresip_event&)>& match,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  size_t checked = 0;
  while (true) {
    for (; checked < events_.size(); ++checked) {
      if (!taken_[checked] && match(events_[checked])) {
        taken_[checked] = true;
        return events_[checked];
      }
    }
    auto left = left_until(deadline);
    if (left.count() == 0 || !read_some(left)) return std::nullopt;
  }
}

std::optional<std::vector<baresip_registration>> baresip_peer::reginfo() {
  auto data = command_data("reginfo");
  if (!data) return std::nullopt;
  // "> sip:8001@127.0.0.1:5070   OK   Expires 600s" (colours removed), one line per UA.
  std::vector<baresip_registration> out;
  std::istringstream lines(strip_ansi(*data));
  std::string line;
  while (std::getline(lines, line)) {
    auto sip = line.find("sip:");
    if (sip == std::string::npos) continue;
    baresip_registration r;
    r.aor = line.substr(sip, line.find(' ', sip) - sip);
    std::string rest = line.substr(sip + r.aor.size());
    r.ok = rest.find(" OK") != std::string::npos;
    r.failed = rest.find("ERR") != std::string::npos;
    auto ex = rest.find("Expires ");
    if (ex != std::string::npos) r.expires_s = static_cast<unsigned>(std::strtoul(rest.c_str() + ex + 8, nullptr, 10));
    out.push_back(std::move(r));
  }
  return out;
}

bool baresip_peer::wait_registered(std::chrono::milliseconds timeout) {
  // Responses and events share one ordered stream: a REGISTER_OK that comes after this
  // reginfo answer will be read by the wait below.
  auto regs = reginfo();
  if (!regs) return false;
  for (const auto& r : *regs)
    if (r.ok) return true;
  auto e = wait_event([](const baresip_event& e) { return e.type == "REGISTER_OK" || e.type == "REGISTER_FAIL"; },
                      timeout);
  return e && e->type == "REGISTER_OK";
}

std::optional<std::string> baresip_peer::srtp_suite() const {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (it->type != "CALL_MENC" || !it->param.starts_with("0,audio,")) continue;
    return it->param.substr(8);
  }
  return std::nullopt;
}

std::vector<std::string> baresip_peer::recordings() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_ + "/rec", ec)) out.push_back(f.path().string());
  std::sort(out.begin(), out.end());  // dump-<date-time>-...: by name is by time
  return out;
}

std::string baresip_peer::log(size_t max_bytes) const {
  return read_text_file(dir_ + "/stdout.txt", max_bytes) + read_text_file(dir_ + "/stderr.txt", max_bytes);
}

exit_status baresip_peer::quit(std::chrono::milliseconds timeout) {
  if (!proc_.started()) return {};
  if (proc_.status()) return *proc_.status();
  // baresip may exit before it answers: the command's own timeout is short.
  if (conn_) command("quit", {}, 500ms);
  conn_.reset();
  if (auto s = proc_.wait(timeout)) return *s;
  // Still waiting for its un-REGISTERs (a registrar that is gone): baresip's first
  // SIGTERM stops the user agents again, the second closes the modules (sndfile
  // finishes its WAVs) and exits at once.
  proc_.signal(SIGTERM);
  if (auto s = proc_.wait(100ms)) return *s;
  proc_.signal(SIGTERM);
  return proc_.stop(1s);
}

}  // namespace hotline::test
