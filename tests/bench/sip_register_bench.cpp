// Registrations per second: SIPp registers 10,000 phones (REGISTER, 401, REGISTER with
// MD5 digest, 200) against the SIP edge, whose credentials come from LMDB as in
// `hotline serve` (api/sip/phones). Hotline's side runs on its one SIP thread.
//
//   build/release/tests/bench/sip_register_bench [rate=20000] [seconds=10] [runs=3] [register|refresh]
//
// `register` (the default, a registration storm: every phone starts afresh): each SIPp
// call is REGISTER, 401, REGISTER with digest, 200. `refresh`: each call registers so and
// then refreshes four times with the nonce it holds (RFC 7616 §3.3), as phones do: six
// REGISTERs, five with a digest to verify. `rate` is SIPp calls per second.
//
// Prints per run: completed and failed calls, retransmissions, registrations (calls)/s,
// REGISTER requests/s and how many of them carried a digest that was verified, and the
// SIP thread's CPU in the last second of the run. No peer registrar ships in Debian to
// compare against.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/sip/phones.hpp"
#include "tests/media/answering_server.hpp"
#include "tests/media/sipp_runner.hpp"

int main(int argc, char** argv) {
  using namespace hotline;
  int rate = argc > 1 ? std::atoi(argv[1]) : 20000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  const std::string mode = argc > 4 ? argv[4] : "register";
  if (mode != "register" && mode != "refresh") return std::cerr << "mode must be register or refresh\n", 2;
  const int registers_per_call = mode == "refresh" ? 6 : 2, verified_per_call = mode == "refresh" ? 5 : 1;
  const int users = 10000;
  std::string tmp = std::filesystem::temp_directory_path() / ("sip_register_bench." + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);

  std::error_code ec;
  auto env = storage::env::open({.dir = tmp + "/data"}, ec);
  if (!env) return std::cerr << "cannot open LMDB: " << ec.message() << "\n", 1;
  {
    std::vector<storage::write_batch> batches(1);
    std::ofstream inf(tmp + "/users.csv");
    inf << "SEQUENTIAL\n";
    for (int i = 0; i < users; ++i) {
      std::string user = std::to_string(100000 + i), pw = "pw-" + user;
      auto c = sip::digest::make_credentials(user, "hotline", pw);
      phones::account a{user, "", "hotline", c.ha1_md5, c.ha1_sha256, {}, "optional"};
      batches[0].put(storage::table::sip_phones, user, phones::encode(a));
      inf << user << ";[authentication username=" << user << " password=" << pw << "]\n";
    }
    env->commit(batches);
  }
  phones::phone_credentials credentials(*env);

  test::answering_server::options o;
  o.record = false;
  o.sip.tcp = false;
  test::answering_server server(o);
  // The server's own credential map is unused: swap in the LMDB-backed one.
  std::unique_ptr<sip::service> service;
  struct quiet : sip::event_handler {
    void on_incoming(sip::incoming_call) override {}
    void on_call_event(sip::call_event) override {}
    void on_registration(const sip::registration_event&) override {}
  } events;
  sip::service_options so;
  so.listen = {"127.0.0.1"};
  so.port = 0;
  so.tcp = false;
  service = sip::service::start(so, credentials, events, ec);
  if (!service) return std::cerr << "cannot start SIP: " << ec.message() << "\n", 1;
  std::string target = "127.0.0.1:" + std::to_string(service->udp_port());
  std::string scenario =
      std::string(HOTLINE_SIP_FIXTURES) + (mode == "refresh" ? "/sipp/register_refresh.xml" : "/sipp/register_load.xml");

  std::printf("sip_register_bench %s: %d calls/s offered for %d s, %d runs, %d users in LMDB, MD5 digest\n",
              mode.c_str(), rate, seconds, runs, users);
  std::vector<double> achieved;
  for (int i = 0; i < runs; ++i) {
    auto r = test::run_sipp({target, "-sf", scenario, "-inf", tmp + "/users.csv", "-i", "127.0.0.1", "-p", "0", "-r",
                             std::to_string(rate), "-rp", "1000", "-m", std::to_string(rate * seconds), "-l",
                             std::to_string(rate), "-max_recv_loops", "10000", "-timeout",
                             std::to_string(seconds * 4 + 30) + "s"},
                            tmp + "/run", std::chrono::seconds(seconds * 4 + 60));
    auto s = service->stats();
    double per_s = static_cast<double>(r.successful) / r.seconds;
    achieved.push_back(per_s * registers_per_call);
    std::printf("run %d: completed %7llu failed %5llu retrans %5llu  %6.0f calls/s  %6.0f REGISTER/s (%6.0f verified)  "
                "SIP thread CPU %.0f%%  bindings %zu\n",
                i + 1, static_cast<unsigned long long>(r.successful), static_cast<unsigned long long>(r.failed),
                static_cast<unsigned long long>(r.retransmissions), per_s, per_s * registers_per_call,
                per_s * verified_per_call, s.sip_thread_cpu * 100, s.bindings);
    if (r.exit_code != 0 && r.successful == 0) std::cerr << r.log();
  }
  std::sort(achieved.begin(), achieved.end());
  std::printf("median %.0f REGISTER/s (min %.0f, max %.0f)\n", achieved[achieved.size() / 2], achieved.front(),
              achieved.back());
  service.reset();
  env.reset();
  std::filesystem::remove_all(tmp);
  return 0;
}
