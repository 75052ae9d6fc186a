#include "actors/acd/stats.hpp"

#include <algorithm>
#include <iterator>

namespace hotline::acd {

void queue_counters::record_answer(milliseconds waited, milliseconds threshold) {
  ++answered;
  answered_wait_total += waited;
  if (waited <= threshold) ++answered_within_threshold;
}

void queue_counters::record_abandon(call_id call, milliseconds waited, time_point at) {
  ++abandoned;
  abandoned_wait_total += waited;
  abandoned_wait_max = std::max(abandoned_wait_max, waited);
  recent_abandoned.push_back({call, waited, at});
  if (recent_abandoned.size() > abandoned_kept) recent_abandoned.pop_front();
}

queue_counters& queue_counters::operator+=(const queue_counters& o) {
  entered += o.entered;
  answered += o.answered;
  answered_within_threshold += o.answered_within_threshold;
  answered_wait_total += o.answered_wait_total;
  abandoned += o.abandoned;
  abandoned_wait_total += o.abandoned_wait_total;
  abandoned_wait_max = std::max(abandoned_wait_max, o.abandoned_wait_max);
  overflowed_in += o.overflowed_in;
  overflowed_out += o.overflowed_out;
  callbacks_requested += o.callbacks_requested;
  after_hours += o.after_hours;
  offers_missed += o.offers_missed;
  // The site keeps the newest abandoned calls of all its queues.
  std::deque<abandoned_call> merged;
  std::merge(recent_abandoned.begin(), recent_abandoned.end(), o.recent_abandoned.begin(), o.recent_abandoned.end(),
             std::back_inserter(merged), [](const abandoned_call& a, const abandoned_call& b) { return a.at < b.at; });
  while (merged.size() > abandoned_kept) merged.pop_front();
  recent_abandoned = std::move(merged);
  return *this;
}

rates rates_of(const queue_counters& c) {
  rates r;
  // Overflowed calls count against this queue's service level (they waited max_wait here),
  // as do callbacks (the caller gave up waiting); only abandoned calls are counted apart.
  const std::uint32_t served = c.answered + c.overflowed_out + c.callbacks_requested;
  const std::uint32_t left = served + c.abandoned;
  if (served > 0) r.service_level = static_cast<double>(c.answered_within_threshold) / served;
  if (left > 0) {
    r.answer_rate = static_cast<double>(c.answered) / left;
    r.abandon_rate = static_cast<double>(c.abandoned) / left;
  }
  if (c.answered > 0) r.average_answer_wait = c.answered_wait_total / c.answered;
  return r;
}

}  // namespace hotline::acd
