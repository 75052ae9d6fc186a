#pragma once
// baresip as a phone in tests, launched with a config of its own and commands from -e
// (dial at start). What it printed is kept in <dir>/stdout.txt for failure messages.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/media/sipp_runner.hpp"

namespace hotline::test {

// baresip 1.0 headless: no audio device (aufile in and out), commands from -e.
struct baresip_process {
  // baresip binds a SIP port of its own (UDP, TCP, and TLS on the next; a registering
  // phone's Contact says which): a port picked for it could be taken before it binds, and
  // it would exit with 98. tone_seconds: the length of the WAV it sends; baresip hangs up
  // when it ends.
  baresip_process(const std::string& dir, const std::string& account,
               const std::vector<std::string>& commands = {}, int tone_seconds = 30)
      : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::system(("sox -n -r 8000 -c 1 -b 16 " + dir + "/tone.wav synth " + std::to_string(tone_seconds) +
                 " sine 440 2>/dev/null").c_str());
    std::ofstream(dir + "/config") << "module_path /usr/lib/baresip/modules\n"
                                      "module menu.so\nmodule g711.so\nmodule aufile.so\nmodule srtp.so\n"
                                      "module account.so\n"  // after the codecs it names
                                      "dns_server 127.0.0.1:53\n"  // libre wants one, even for IP URIs
                                      "sip_listen 127.0.0.1:0\n"
                                      "net_interface 127.0.0.1\n"
                                      "audio_source aufile," << dir << "/tone.wav\n"
                                      "audio_player aufile," << dir << "/heard.wav\n"
                                      "audio_alert aufile," << dir << "/alert.wav\n"
                                      "rtp_timeout 0\n";
    std::ofstream(dir + "/accounts") << account << "\n";
    std::ofstream(dir + "/contacts") << "";
    std::vector<std::string> args = {"baresip", "-f", dir, "-t", "30"};
    for (const auto& c : commands) {
      args.push_back("-e");
      args.push_back(c);
    }
    pid_ = spawn_process(args, dir);
  }
  // What baresip printed, for a failure message: a peer that did not act says why here.
  std::string output() const {
    std::string all;
    for (const char* f : {"/stdout.txt", "/stderr.txt"}) {
      std::ifstream in(dir_ + f);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return "\n--- baresip output ---\n" + all.substr(all.size() > 4000 ? all.size() - 4000 : 0);
  }
  ~baresip_process() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string dir_;
  pid_t pid_ = -1;
};


}  // namespace hotline::test
