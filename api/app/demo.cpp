#include "api/app/demo.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "actors/call/center.hpp"
#include "actors/runtime/log.hpp"
#include "api/app/app.hpp"
#include "api/auth/accounts.hpp"
#include "api/sip/phones.hpp"
#include "media/sip/digest.hpp"

namespace hotline::app {

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* phone_password = "demo-phone";
constexpr const char* user_password = "hotline-demo";

struct skill_of_digit {
  char digit;
  const char* skill;
};
// The default 12333 menu's options the demo callers choose (and the agents serve).
constexpr skill_of_digit menu[] = {{'1', "pension"}, {'2', "medical"}, {'3', "unemployment"}, {'0', "general"}};

bool on_path(const std::string& tool) { return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0; }

// Absolute: each child runs in a folder of its own (spawn), and is given paths into this
// one (the default data dir, ./var, is relative).
std::string demo_dir(const config::config& cfg) {
  return fs::absolute(fs::path(cfg.server.data_dir) / "demo").lexically_normal().string();
}

// A child process with its output in `dir` (stdout.txt, stderr.txt); killed with the demo.
pid_t spawn(const std::vector<std::string>& args, const std::string& dir) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  if (chdir(dir.c_str()) != 0) _exit(127);
  int out = open("stdout.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = open("stderr.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int in = open("/dev/null", O_RDONLY);
  dup2(in, 0), dup2(out, 1), dup2(err, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  _exit(127);
}

bool run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Mandarin speech (espeak-ng's pinyin voice, as the IVR prompts) for both sides.
const char* caller_lines[] = {
    "ni3 hao3, wo3 xiang3 wen4 yi2 xia4, yang3 lao3 jin1 zen3 me ling3 qu3?",
    "wo3 huan4 le gong1 zuo4, yi1 liao2 bao3 xian3 yao4 zhuan3 yi2 ma?",
    "qing3 wen4 shi1 ye4 bao3 xian3 jin1 zen3 me shen1 qing3?",
    "wo3 de she4 bao3 ka3 diu1 le, gai1 zen3 me bu3 ban4?",
};
const char* agent_line =
    "nin2 hao3, qing3 shao1 deng3, wo3 bang1 nin2 cha2 yi2 xia4. gen1 ju4 zheng4 ce4, nin2 xu1 yao4 dai4 shang4 shen1 fen4 "
    "zheng4 dao4 jing1 ban4 chuang1 kou3 ban4 li3. hai2 you3 qi2 ta1 wen4 ti2 ma?";

// The SIPp caller: INVITE from the trunk, one menu digit (RFC 4733 from SIPp's pcaps),
// the caller's speech for as long as the call lasts (-d), then BYE.
const char* caller_scenario = R"(<?xml version="1.0" encoding="UTF-8"?>
<scenario name="hotline demo caller">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]demo[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]demo[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <pause milliseconds="3000"/>
  <nop><action><exec play_pcap_audio="[digit_pcap]"/></action></nop>
  <pause milliseconds="1500"/>
  <nop><action><exec rtp_stream="speech.ul,-1,0"/></action></nop>
  <pause/>
  <send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]demo[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
</scenario>
)";

class demo_impl final : public demo {
 public:
  ~demo_impl() override {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    if (callers_.joinable()) callers_.join();
    std::lock_guard lock(m_);
    for (pid_t p : children_) kill(-p, SIGKILL);
    for (pid_t p : children_) waitpid(p, nullptr, 0);
  }

  bool start(application& app, const config::config& cfg, const demo_options& o, std::string& error) {
    dir_ = demo_dir(cfg);
    sip_port_ = cfg.sip.port;
    opts_ = o;
    if (!make_audio(error)) return false;
    auto* center = app.calls();
    if (!center) return error = "calls are off in this configuration", false;
    // Console users: a shift lead, and one user per agent (work id = the agent's).
    auto sup = 1u << static_cast<unsigned>(auth::role::supervisor);
    auto agt = 1u << static_cast<unsigned>(auth::role::agent);
    app.accounts().create_now({"lead1", user_password, "值班长", "", cfg.server.site, sup});
    for (size_t i = 0; i < o.agents; ++i) {
      auto id = std::to_string(1001 + i);
      app.accounts().create_now({"a" + id, user_password, "坐席" + id, id, cfg.server.site, agt});
      phones::account acc;
      acc.user = std::to_string(8001 + i);
      acc.realm = cfg.sip.realm;
      auto creds = sip::digest::make_credentials(acc.user, acc.realm, phone_password);
      acc.ha1_md5 = creds.ha1_md5;
      acc.ha1_sha256 = creds.ha1_sha256;
      acc.srtp = "off";
      acc.codecs = {"PCMU"};
      if (auto ec = phones::save(app.env(), acc)) return error = "phone " + acc.user + ": " + ec.message(), false;
      if (!start_phone(acc.user)) return error = "cannot start baresip for " + acc.user, false;
    }
    // A phone that cannot start (its config, its ports) exits at once: say which, and why.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (auto dead = exited_phone()) return error = "baresip exited: see " + *dead + "/stderr.txt", false;
    // Log the agents in once their phones have registered (N-04: the ACD offers calls
    // only to registered phones).
    std::thread([center, n = o.agents] {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      for (size_t i = 0; i < n; ++i) {
        auto id = std::to_string(1001 + i);
        center->command(id, calls::agent_command::login, acd::not_ready_reason::none, [center, id](std::string) {
          center->command(id, calls::agent_command::ready, acd::not_ready_reason::none, [](std::string) {});
        });
      }
    }).detach();
    callers_ = std::thread([this] { call_loop(); });
    return true;
  }

 private:
  bool make_audio(std::string& error) {
    std::error_code ec;
    fs::create_directories(dir_ + "/callers", ec);
    // Each caller's speech, repeated with pauses: raw 8 kHz mu-law for SIPp's rtp_stream.
    for (size_t i = 0; i < std::size(caller_lines); ++i) {
      auto wav = dir_ + "/callers/line" + std::to_string(i) + ".wav";
      auto ul = dir_ + "/callers/line" + std::to_string(i) + ".ul";
      if (fs::exists(ul)) continue;
      if (!run("espeak-ng -v cmn-latn-pinyin -s 150 -w " + wav + " \"" + caller_lines[i] + "\"") ||
          !run("sox " + wav + " -r 8000 -c 1 -t ul " + ul + " pad 0 3 repeat 20"))
        return error = "espeak-ng/sox could not make the callers' speech", false;
    }
    auto agent_wav = dir_ + "/agent.wav";
    if (!fs::exists(agent_wav) &&
        !(run(std::string("espeak-ng -v cmn-latn-pinyin -s 150 -w ") + dir_ + "/agent-line.wav \"" + agent_line + "\"") &&
          run("sox " + dir_ + "/agent-line.wav -r 8000 -c 1 -b 16 " + agent_wav + " pad 0 4 repeat 200")))
      return error = "espeak-ng/sox could not make the agents' speech", false;
    std::ofstream(dir_ + "/callers/caller.xml") << caller_scenario;
    return true;
  }

  // The folder of a phone that has exited, if any.
  std::optional<std::string> exited_phone() {
    std::lock_guard lock(m_);
    for (auto& [pid, d] : phones_)
      if (waitpid(pid, nullptr, WNOHANG) == pid) return d;
    return std::nullopt;
  }

  bool start_phone(const std::string& ext) {
    auto d = dir_ + "/phone" + ext;
    std::error_code ec;
    fs::create_directories(d, ec);
    std::ofstream(d + "/config") << "module_path /usr/lib/baresip/modules\n"
                                    "module menu.so\nmodule g711.so\nmodule aufile.so\nmodule account.so\n"
                                    "dns_server 127.0.0.1:53\n"
                                    // Port 0: baresip binds UDP, TCP and TLS ports of its own
                                    // and registers the UDP one; a port picked here could be
                                    // taken before it binds them (it would exit).
                                    "sip_listen 127.0.0.1:0\n"
                                    "net_interface 127.0.0.1\n"
                                    "audio_source aufile,"
                                 << dir_ << "/agent.wav\naudio_player aufile," << d << "/heard.wav\naudio_alert aufile,"
                                 << d << "/alert.wav\nrtp_timeout 0\n";
    std::ofstream(d + "/accounts") << "<sip:" << ext << "@127.0.0.1:" << sip_port_ << ">;auth_pass=" << phone_password
                                   << ";answermode=auto;regint=600;audio_codecs=PCMU\n";
    std::ofstream(d + "/contacts") << "";
    pid_t p = spawn({"baresip", "-f", d}, d);
    if (p < 0) return false;
    std::lock_guard lock(m_);
    children_.push_back(p);
    phones_.emplace_back(p, d);
    return true;
  }

  // Poisson arrivals; each call its own SIPp (a digit, a caller number, a talk time).
  void call_loop() {
    std::mt19937 rng(std::random_device{}());
    std::exponential_distribution<double> gap(opts_.calls_per_minute / 60.0);
    std::normal_distribution<double> talk(static_cast<double>(opts_.mean_talk.count()), opts_.mean_talk.count() / 3.0);
    std::unique_lock lock(m_);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stop_; });
    uint64_t n = 0;
    while (!stop_) {
      reap();
      auto digit = menu[rng() % std::size(menu)];
      auto seconds = std::clamp(talk(rng), 15.0, 180.0) + 20;  // + the IVR and the queue
      auto caller = "13" + std::to_string(100000000 + rng() % 900000000);
      auto d = dir_ + "/callers/call" + std::to_string(n++ % 50);
      std::error_code ec;
      fs::create_directories(d, ec);
      fs::copy_file(dir_ + "/callers/line" + std::to_string(rng() % std::size(caller_lines)) + ".ul", d + "/speech.ul",
                    fs::copy_options::overwrite_existing, ec);
      std::string pcap = std::string("/usr/share/sip-tester/dtmf_2833_") + digit.digit + ".pcap";
      pid_t p = spawn({"sipp", "-sf", dir_ + "/callers/caller.xml", "-s", "12333", "-key", "caller", caller, "-key",
                       "digit_pcap", pcap, "-d", std::to_string(static_cast<int>(seconds * 1000)), "-m", "1", "-i",
                       "127.0.0.1", "-p", "0", "-mi", "127.0.0.1", "-nostdin",
                       "127.0.0.1:" + std::to_string(sip_port_)},
                      d);
      if (p > 0) {
        children_.push_back(p);
        callers_dir_[p] = d;
      }
      cv_.wait_for(lock, std::chrono::duration<double>(gap(rng)), [this] { return stop_; });
    }
  }

  // Ended callers go; one that failed is reported (once: the next ones likely fail alike).
  void reap() {
    std::erase_if(children_, [this](pid_t p) {
      int status = 0;
      if (waitpid(p, &status, WNOHANG) != p) return false;
      auto it = callers_dir_.find(p);
      if (it != callers_dir_.end()) {
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !caller_failed_) {
          caller_failed_ = true;
          log::warn("demo", "a simulated caller failed", {{"see", it->second + "/stderr.txt"}});
        }
        callers_dir_.erase(it);
      }
      return true;
    });
  }

  std::string dir_;
  uint16_t sip_port_ = 5060;
  demo_options opts_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<pid_t> children_;
  std::vector<std::pair<pid_t, std::string>> phones_;  // and their folders
  std::map<pid_t, std::string> callers_dir_;
  bool caller_failed_ = false;
  std::thread callers_;
};

}  // namespace

bool demo::prepare(config::config& cfg, const demo_options& o, std::string& error) {
  for (auto tool : {"baresip", "sipp", "espeak-ng", "sox"})
    if (!on_path(tool)) {
      error = std::string(tool) +
              " is not installed: the demo's phones and callers are real SIP peers (deploy/install-deps.sh installs them)";
      return false;
    }
  auto dir = demo_dir(cfg);
  std::error_code ec;
  fs::create_directories(dir, ec);
  json::array roster;
  for (size_t i = 0; i < o.agents; ++i) {
    json::array skills, queues;
    for (size_t k = 0; k < std::size(menu); ++k) {
      // Everyone serves general; each agent is an A post on two topics, B on the others (N-12).
      bool a_post = menu[k].skill == std::string("general") || k == i % 3 || k == (i + 1) % 3;
      skills.push_back(json::object{{"skill", menu[k].skill}, {"level", a_post ? 4 : 2}, {"post", a_post ? "A" : "B"}});
      queues.push_back(json::object{{"queue", menu[k].skill}, {"priority", 1}});
    }
    auto id = std::to_string(1001 + i);
    roster.push_back(json::object{{"id", id}, {"name", "坐席" + id}, {"phone", std::to_string(8001 + i)},
                                  {"skills", std::move(skills)}, {"queues", std::move(queues)}});
  }
  std::ofstream(dir + "/agents.json") << json::serialize(roster);
  json::array queues;
  for (const auto& m : menu)
    queues.push_back(json::object{{"id", m.skill}, {"hours", "always"}, {"wrap_up_s", 8}, {"min_agents", 2}});
  std::ofstream(dir + "/queues.json") << json::serialize(queues);
  cfg.calls.enabled = 1;
  cfg.calls.agents_file = dir + "/agents.json";
  cfg.calls.queues_file = dir + "/queues.json";
  if (cfg.sip.trunk_allow.empty()) cfg.sip.trunk_allow = "127.0.0.1";
  if (cfg.sip.port == 0) cfg.sip.port = 5060;
  return true;
}

std::unique_ptr<demo> demo::start(application& app, const config::config& cfg, const demo_options& o,
                                  std::string& error) {
  auto d = std::make_unique<demo_impl>();
  if (!d->start(app, cfg, o, error)) return nullptr;
  log::info("demo", "floor running",
            {{"agents", std::to_string(o.agents)}, {"calls_per_minute", std::to_string(o.calls_per_minute)}});
  return d;
}

}  // namespace hotline::app
