// ACD routing decisions at the scale: 2,000 logged-in agents in 20 queues with
// 1,000 calls waiting. Prints p50/p99/max per decision kind and run, then the median
// over runs. Usage: acd_routing_bench [runs=3] [samples per kind and run=20000]
//
// The site: queues 0-9 are saturated (their 1,000 agents all busy, 100 calls waiting in
// each), queues 10-19 have spare agents (500 of their 1,000 ready). Every agent has a
// primary queue (A post, priority 1) and two more in its half (B post, priority 2); one in
// ten also speaks Uyghur (in every queue), and one waiting call in ten asks for it. The four strategies
// rotate over the queues. Decisions timed (each one router call, actions included):
//  - freed agent: a busy agent of a saturated queue ends wrap-up and is offered the best
//    waiting call of its queues (untimed afterwards: it answers, a new call keeps 1,000
//    waiting, and another busy agent's call ends);
//  - new call, agents free: a call to a queue with ready agents is offered to one
//    (untimed afterwards: the caller hangs up, the agent is ready again);
//  - new call, queue full: a call joins a saturated queue and gets its position and
//    expected wait (untimed afterwards: the caller hangs up).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "actors/acd/router.hpp"

using namespace hotline::acd;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

namespace {

constexpr int queue_count = 20;
constexpr int agent_count = 2000;
constexpr int waiting_target = 1000;
constexpr int saturated = 10;  // queues 0..9

// Appends rather than `"q" + std::to_string(q)`: GCC 12 -O3 warns (-Wrestrict) on the latter.
std::string queue_name(int q) {
  std::string n = "q";
  n += std::to_string(q);
  return n;
}
std::string agent_name(int a) { return std::to_string(10000 + a); }

actions must(outcome o) {
  if (auto* e = std::get_if<acd_error>(&o)) {
    std::fprintf(stderr, "unexpected error: %s\n", e->message.c_str());
    std::exit(1);
  }
  return std::get<actions>(std::move(o));
}

std::string offered_agent(const actions& as) {
  for (const auto& a : as)
    if (auto* o = std::get_if<offer_call>(&a)) return o->agent;
  return {};
}

struct percentiles {
  double p50 = 0, p99 = 0, max = 0;  // microseconds
};

percentiles summarize(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[static_cast<std::size_t>(q * static_cast<double>(us.size() - 1))]; };
  return {at(0.50), at(0.99), us.back()};
}

class site {
 public:
  site() {
    for (int q = 0; q < queue_count; ++q) {
      queue_config c;
      c.id = queue_name(q);
      c.skill = c.id;
      c.strategy = static_cast<strategy>(q % 4);
      c.hours = service_hours::always();
      c.wrap_up = 30s;
      if (q < saturated) c.max_wait = 600s;  // timers in the set, as in production
      must(r_.configure_queue(c, now_));
    }
    for (int a = 0; a < agent_count; ++a) {
      const int half = a < agent_count / 2 ? 0 : saturated;
      const int primary = half + a % saturated;
      agent_profile p;
      p.id = agent_name(a);
      p.languages = (a / saturated) % 10 == 0 ? std::vector<std::string>{"zh", "ug"} : std::vector<std::string>{"zh"};
      p.phone_registered = true;
      for (int k : {0, 1, 7}) {
        const int q = half + (primary - half + k) % saturated;
        p.skills.push_back({queue_name(q), 1 + (a + k) % 5, k == 0 ? post::a : post::b});
        p.queues.push_back({queue_name(q), k == 0 ? 1 : 2});
      }
      must(r_.login(p, tick()));
    }
    // Busy agents: every agent of the saturated half takes a call and talks.
    for (int a = 0; a < agent_count / 2; ++a) {
      const call_id c = next_call_++;
      must(r_.on_call_arrived({c, queue_name(a % saturated)}, tick()));
      const std::string who = offered_agent(must(r_.on_agent_available(agent_name(a), tick())));
      if (who != agent_name(a)) fail("setup: a busy agent did not get its call");
      must(r_.call_answered(c, tick()));
      talking_.push_back({a, c});
    }
    // The waiting calls.
    for (int i = 0; i < waiting_target; ++i) add_waiting_call(i % saturated, i % 10 == 0);
    // Half of the spare half ready, half talking.
    for (int a = agent_count / 2; a < agent_count; ++a) {
      must(r_.on_agent_available(agent_name(a), tick()));
      if (a % 2 == 0) continue;
      const call_id c = next_call_++;
      if (offered_agent(must(r_.on_call_arrived({c, queue_name(saturated + a % saturated)}, tick()))).empty())
        fail("setup: a spare queue had nobody ready");
      must(r_.call_answered(c, tick()));
    }
    check_waiting();
  }

  // Freed agent: a busy agent's call ends (untimed), its wrap-up ends early (timed).
  double freed_agent() {
    auto [a, call] = talking_[next_talking_];
    must(r_.call_ended(call, tick()));
    const time_point t = tick();
    const auto t0 = bench_clock::now();
    actions out = must(r_.end_wrap_up(agent_name(a), t));
    const auto t1 = bench_clock::now();
    call_id offered = 0;
    for (const auto& x : out)
      if (auto* o = std::get_if<offer_call>(&x)) offered = o->call;
    if (offered == 0) fail("freed agent got no call");
    must(r_.call_answered(offered, tick()));
    talking_[next_talking_] = {a, offered};
    next_talking_ = (next_talking_ + 1) % talking_.size();
    // The replacement asks for the same language, so every queue keeps its mix.
    add_waiting_call(a % saturated, uyghur_waiting_.erase(offered) > 0);
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }

  // New call to a queue with ready agents (timed), then the caller hangs up (untimed).
  double new_call_offered() {
    const call_id c = next_call_++;
    const int q = saturated + static_cast<int>(c % saturated);
    const time_point t = tick();
    const auto t0 = bench_clock::now();
    actions out = must(r_.on_call_arrived({c, queue_name(q), c % 50 == 0 ? priority::vip : priority::normal}, t));
    const auto t1 = bench_clock::now();
    if (offered_agent(out).empty()) fail("a call to a spare queue was not offered");
    must(r_.call_abandoned(c, tick()));
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }

  // New call to a saturated queue: queued with position and expected wait (timed).
  double new_call_queued() {
    const call_id c = next_call_++;
    const time_point t = tick();
    const auto t0 = bench_clock::now();
    actions out = must(r_.on_call_arrived({c, queue_name(static_cast<int>(c % saturated))}, t));
    const auto t1 = bench_clock::now();
    if (!offered_agent(out).empty()) fail("a call to a saturated queue was offered");
    must(r_.call_abandoned(c, tick()));
    return std::chrono::duration<double, std::micro>(t1 - t0).count();
  }

  // The ACD actor's checkpoint when it runs (a copy of the whole router every 4,096
  // router calls, docs/acd.md "When the ACD fails"): what that one decision waits.
  double checkpoint_ms() const {
    const auto t0 = bench_clock::now();
    router copy = r_.clone();
    const auto t1 = bench_clock::now();
    if (copy.site_figures(now_).waiting != waiting_target) fail("the checkpoint lost calls");
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
  }

  void check_waiting() const {
    const auto f = r_.site_figures(now_);
    if (f.waiting != waiting_target) fail("waiting calls are not 1,000");
    if (f.agents_in(agent_state::logged_out) + f.working_agents != agent_count) fail("agents not all working");
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    std::fprintf(stderr, "acd_routing_bench: %s\n", what.c_str());
    std::exit(1);
  }

  time_point tick() { return now_ += 1ms; }

  void add_waiting_call(int q, bool uyghur) {
    const call_id c = next_call_++;
    if (!offered_agent(must(r_.on_call_arrived({c, queue_name(q), priority::normal, uyghur ? "ug" : ""}, tick())))
             .empty())
      fail("setup: a waiting call was offered");
    if (uyghur) uyghur_waiting_.insert(c);
  }

  router r_;
  time_point now_ = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}} + 2h;
  call_id next_call_ = 1;
  std::vector<std::pair<int, call_id>> talking_;
  std::size_t next_talking_ = 0;
  std::unordered_set<call_id> uyghur_waiting_;
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const int samples = argc > 2 ? std::max(100, std::atoi(argv[2])) : 20000;
  std::printf("acd_routing_bench: %d agents, %d queues, %d calls waiting; %d runs x %d decisions per kind\n",
              agent_count, queue_count, waiting_target, runs, samples);
  const char* names[] = {"freed agent", "new call, agents free", "new call, queue full"};
  std::vector<percentiles> results[3];
  for (int run = 1; run <= runs; ++run) {
    const auto setup0 = bench_clock::now();
    site s;
    const double setup_ms = std::chrono::duration<double, std::milli>(bench_clock::now() - setup0).count();
    std::vector<double> times[3];
    for (auto& t : times) t.reserve(static_cast<std::size_t>(samples));
    for (int i = 0; i < samples; ++i) {  // interleaved, so each kind sees the same site
      times[0].push_back(s.freed_agent());
      times[1].push_back(s.new_call_offered());
      times[2].push_back(s.new_call_queued());
    }
    s.check_waiting();
    std::vector<double> copies;
    for (int i = 0; i < 5; ++i) copies.push_back(s.checkpoint_ms());
    std::sort(copies.begin(), copies.end());
    std::printf("run %d (setup %.0f ms, checkpoint copy %.2f ms median of 5):\n", run, setup_ms, copies[2]);
    for (int k = 0; k < 3; ++k) {
      results[k].push_back(summarize(times[k]));
      const auto& p = results[k].back();
      std::printf("  %-22s p50 %6.2f us  p99 %6.2f us  max %7.2f us\n", names[k], p.p50, p.p99, p.max);
    }
  }
  std::printf("median over %d runs (min-max):\n", runs);
  for (int k = 0; k < 3; ++k) {
    auto med = [&](double percentiles::*f, double& lo, double& hi) {
      std::vector<double> v;
      for (const auto& p : results[k]) v.push_back(p.*f);
      std::sort(v.begin(), v.end());
      lo = v.front();
      hi = v.back();
      return v[v.size() / 2];
    };
    double l50, h50, l99, h99, lmax, hmax;
    const double m50 = med(&percentiles::p50, l50, h50);
    const double m99 = med(&percentiles::p99, l99, h99);
    const double mmax = med(&percentiles::max, lmax, hmax);
    std::printf("  %-22s p50 %6.2f us (%.2f-%.2f)  p99 %6.2f us (%.2f-%.2f)  max %7.2f us (%.2f-%.2f)\n", names[k],
                m50, l50, h50, m99, l99, h99, mmax, lmax, hmax);
  }
  return 0;
}
