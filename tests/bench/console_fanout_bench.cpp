// Console fan-out (the consoles issue's goal): 2,000 agents on the roster, 500 live calls,
// 100 state changes a second, 200 supervisor consoles on real WebSockets subscribed to
// everything. Measures the latency from the moment an event is published on the hub (as
// the ACD or a call actor does) to the moment a console's socket delivers the delta —
// through the floor actor, its rendering and the HTTP/WebSocket server — and the
// server's CPU for it.
//
//   console_fanout_bench [--clients 200] [--agents 2000] [--calls 500] [--rate 100]
//                        [--seconds 30] [--prompts DIR]
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actors/pubsub/subscriber.hpp"
#include "api/app/app.hpp"
#include "api/auth/accounts.hpp"
#include "tests/bench/process_stats.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono;
namespace json = boost::json;

namespace {

int64_t now_ns() { return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count(); }

double thread_cpu_s(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct client_stats {
  std::vector<double> latency_ms;
  uint64_t frames = 0;
  clockid_t clock{};
};

}  // namespace

int main(int argc, char** argv) {
  size_t clients = 200, agents = 2000, calls = 500, rate = 100, seconds = 30;
  std::string prompts;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    size_t v = std::strtoul(argv[i + 1], nullptr, 10);
    if (a == "--clients") clients = v;
    else if (a == "--agents") agents = v;
    else if (a == "--calls") calls = v;
    else if (a == "--rate") rate = v;
    else if (a == "--seconds") seconds = v;
    else if (a == "--prompts") prompts = argv[i + 1];
  }
  hotline::test::temp_dir dir;
  std::filesystem::create_directories(dir.sub("data"));
  if (!prompts.empty()) std::filesystem::create_directory_symlink(std::filesystem::absolute(prompts), dir.sub("data/prompts"));
  {
    json::array roster;
    for (size_t i = 0; i < agents; ++i) {
      auto id = std::to_string(10000 + i);
      roster.push_back(json::object{{"id", id}, {"name", "坐席" + id}, {"phone", "8" + id},
                                    {"skills", json::array{json::object{{"skill", "pension"}, {"level", 3}, {"post", "A"}}}},
                                    {"queues", json::array{json::object{{"queue", "pension"}, {"priority", 1}}}}});
    }
    std::ofstream(dir.sub("agents.json")) << json::serialize(roster);
  }
  hotline::config::config cfg;
  cfg.server.data_dir = dir.sub("data");
  cfg.http.listen = "127.0.0.1";
  cfg.http.port = 0;
  cfg.sip.listen = "127.0.0.1";
  cfg.sip.port = 0;
  cfg.media.bind = "127.0.0.1";
  cfg.calls.agents_file = dir.sub("agents.json");
  cfg.auth.kdf_iterations = 1000;
  std::string error;
  auto app = hotline::app::application::start(cfg, error);
  if (!app) return std::cerr << "start: " << error << "\n", 1;
  auto sup = 1u << static_cast<unsigned>(hotline::auth::role::supervisor);
  if (app->accounts().create_now({"lead", "a-long-password", "", "", cfg.server.site, sup}))
    return std::cerr << "cannot create the supervisor\n", 1;
  auto login = hotline::test::call(app->http_port(), "POST", "/v1/auth/login",
                                   R"({"username":"lead","password":"a-long-password"})");
  std::string token(login.body.at("token").as_string());
  auto& hub = app->hub();

  // 500 live calls, each with its agent talking (what a busy floor looks like).
  std::mt19937 rng(7);
  for (size_t c = 0; c < calls; ++c)
    hub.publish("calls", json::serialize(json::object{{"call", 1000000 + c}, {"state", "connected"},
                                                      {"from", "138" + std::to_string(10000000 + c)},
                                                      {"dialled", "12333"}, {"queue", "pension"},
                                                      {"agent", std::to_string(10000 + c)}, {"ivr_path", "main>1"}}));
  std::this_thread::sleep_for(2s);

  // The consoles.
  std::vector<client_stats> stats(clients);
  std::atomic<bool> stop{false}, measuring{false};
  std::atomic<size_t> ready{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      pthread_getcpuclockid(pthread_self(), &stats[i].clock);
      hotline::test::ws_client ws;
      if (ws.connect(app->http_port(), token) != 101) return;
      ws.send(R"({"type":"hello","v":1,"console":"supervisor"})");
      bool snapshot = false;
      while (!stop) {
        auto m = ws.read(500ms);
        if (!m) continue;
        if (!snapshot && m->find("\"snapshot\"") != std::string::npos) {
          snapshot = true;
          ++ready;
          continue;
        }
        ++stats[i].frames;
        auto t = m->find("t=");
        if (t == std::string::npos || !measuring) continue;
        int64_t sent = std::strtoll(m->c_str() + t + 2, nullptr, 10);
        stats[i].latency_ms.push_back((now_ns() - sent) / 1e6);
      }
    });
  while (ready < clients) std::this_thread::sleep_for(50ms);
  std::printf("consoles connected: %zu, agents %zu, calls %zu; %zu changes/s for %zu s\n", clients, agents, calls,
              rate, seconds);

  // 100 state changes a second: agents (ready/not ready/wrap-up...) and calls (hold,
  // transfer...), each stamped with the publish time.
  std::vector<double> client_cpu0(clients);
  for (size_t i = 0; i < clients; ++i) client_cpu0[i] = thread_cpu_s(stats[i].clock);
  double cpu0 = hotline::bench::process_cpu_s();
  auto t0 = steady_clock::now();
  measuring = true;
  const char* states[] = {"ready", "not_ready", "wrap_up", "ringing", "talking"};
  size_t sent = 0;
  auto next = steady_clock::now();
  while (steady_clock::now() - t0 < std::chrono::seconds(seconds)) {
    next += microseconds(1000000 / rate);
    std::this_thread::sleep_until(next);
    auto stamp = "t=" + std::to_string(now_ns());
    if (sent % 10 < 7) {
      auto id = std::to_string(10000 + calls + rng() % (agents - calls));
      hub.publish("agents", json::serialize(json::object{{"agent", id}, {"name", "坐席" + id}, {"phone", "8" + id},
                                                          {"state", states[rng() % 5]}, {"reason", "none"},
                                                          {"note", stamp}, {"at_ms", 1}, {"phone_online", true}}));
    } else {
      auto c = rng() % calls;
      hub.publish("calls", json::serialize(json::object{{"call", 1000000 + c}, {"state", "connected"},
                                                        {"from", "138" + std::to_string(10000000 + c)},
                                                        {"dialled", "12333"}, {"queue", "pension"},
                                                        {"agent", std::to_string(10000 + c)}, {"ivr_path", stamp}}));
    }
    ++sent;
  }
  std::this_thread::sleep_for(1s);  // the last ones arrive
  measuring = false;
  double wall = duration<double>(steady_clock::now() - t0).count();
  double cpu = hotline::bench::process_cpu_s() - cpu0;
  double clients_cpu = 0;
  for (size_t i = 0; i < clients; ++i) clients_cpu += thread_cpu_s(stats[i].clock) - client_cpu0[i];
  stop = true;
  for (auto& t : threads) t.join();

  std::vector<double> all;
  uint64_t frames = 0;
  for (auto& s : stats) {
    all.insert(all.end(), s.latency_ms.begin(), s.latency_ms.end());
    frames += s.frames;
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, size_t(p * all.size()))]; };
  std::printf("changes published: %zu, deltas delivered: %zu (expected %zu)\n", sent, all.size(), sent * clients);
  std::printf("event latency publish -> console socket: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.5), pct(0.99),
              all.empty() ? 0.0 : all.back());
  std::printf("server CPU: %.1f %% of one core (process %.1f %%, the %zu clients %.1f %%)\n",
              100 * (cpu - clients_cpu) / wall, 100 * cpu / wall, clients, 100 * clients_cpu / wall);
  app->stop();
  return all.size() >= sent * clients * 99 / 100 ? 0 : 2;
}
