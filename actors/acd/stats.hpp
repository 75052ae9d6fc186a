#pragma once
// N-50 live figures per queue and per site: calls waiting, longest wait, agents by state,
// service level (N-03: share answered within the threshold, abandoned calls counted
// apart), answer rate (接通率), abandon rate, abandoned calls with their wait. The router
// keeps the counters (since local midnight) and builds the snapshots; the rules for the
// rates live here.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "actors/acd/model.hpp"

namespace hotline::acd {

struct abandoned_call {
  call_id call = 0;
  milliseconds waited{0};
  time_point at;
};

// Calls that ended their time in one queue, since local midnight. Every call entering a
// queue leaves it by exactly one of: answered, abandoned, overflowed out, callback.
struct queue_counters {
  static constexpr std::size_t abandoned_kept = 100;

  std::uint32_t entered = 0;  // incl. overflowed in
  std::uint32_t answered = 0;
  std::uint32_t answered_within_threshold = 0;
  milliseconds answered_wait_total{0};
  std::uint32_t abandoned = 0;
  milliseconds abandoned_wait_total{0};
  milliseconds abandoned_wait_max{0};
  std::deque<abandoned_call> recent_abandoned;  // newest last, at most abandoned_kept
  std::uint32_t overflowed_in = 0;
  std::uint32_t overflowed_out = 0;
  std::uint32_t callbacks_requested = 0;
  std::uint32_t after_hours = 0;  // arrived outside service hours (not entered)
  std::uint32_t offers_missed = 0;  // N-03 ring timeouts on this queue's calls

  void record_answer(milliseconds waited, milliseconds threshold);
  void record_abandon(call_id call, milliseconds waited, time_point at);
  queue_counters& operator+=(const queue_counters& o);  // site totals
};

struct rates {
  // answered within threshold / (answered + overflowed out + callbacks): calls that left
  // for another reason than hanging up. nullopt before the first such call.
  std::optional<double> service_level;
  std::optional<double> answer_rate;  // answered / every call that left the queue
  std::optional<double> abandon_rate;  // abandoned / every call that left the queue
  std::optional<milliseconds> average_answer_wait;
};

rates rates_of(const queue_counters& c);

// A snapshot for the supervisor wall (N-50).
struct figures {
  bool open = false;  // in manual service hours now (per site: any queue open)
  std::uint32_t waiting = 0;  // queued or ringing an agent
  milliseconds longest_wait{0};
  std::array<std::uint32_t, agent_state_count> agents_by_state{};  // indexed by agent_state
  std::uint32_t working_agents = 0;  // N-02: logged in, phone registered, not set not ready
  queue_counters counters;
  acd::rates rates;

  std::uint32_t agents_in(agent_state s) const { return agents_by_state[static_cast<std::size_t>(s)]; }
};

}  // namespace hotline::acd
