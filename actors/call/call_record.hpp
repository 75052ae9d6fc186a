#pragma once
// The call record (CDR) every call leaves, written through the storage writer when the
// call ends (table `calls`, time-ordered id). What a supervisor, a quality reviewer or a
// report needs to know about one call: numbers, the IVR path and digits, queue and wait,
// every offer and whether it was answered (N-03), the agent, who released first (N-06),
// the survey (N-16), the media quality per leg and the conversation measures (N-41),
// the recording (N-42). The classification (N-07) is set by the agent later.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/engine/engine.hpp"

namespace hotline::calls {

using clock_time = std::chrono::system_clock::time_point;

struct offer_record {
  std::string agent;
  clock_time at{};
  std::string result;  // answered | ring_timeout | offer_failed | abandoned | withdrawn
};

struct call_record {
  uint64_t id = 0;          // the call's id in Hotline (also the CDR key)
  std::string sip_call_id;  // the caller's dialog
  std::string from;         // caller number (the From user)
  std::string dialled;      // DNIS: 12333, 12370, ...
  std::string trunk;        // the trunk that admitted it, or empty (a registered phone)
  clock_time started{}, answered{}, ended{};
  std::string ivr_path, ivr_digits;
  std::string queue;  // the last queue it waited in
  std::vector<std::string> queues;
  std::optional<clock_time> queued_at;
  int64_t wait_ms = 0;  // in queue until an agent answered, or until it left
  std::vector<offer_record> offers;
  std::string agent;  // the work id of the agent who answered
  std::optional<clock_time> agent_answered;
  std::string released_by;  // caller | agent | system (N-06)
  std::string outcome;      // answered | abandoned_in_ivr | abandoned_in_queue | after_hours | callback | failed
                            // | interrupted (the server stopped before the caller was answered or left)
  std::optional<int> survey;  // N-16: the digit pressed, if any
  std::string transfers;      // N-11: "8009:answered", "8009:no answer;8010:answered"
  bool callback_requested = false;
  bool dangerous = false;  // N-14
  int holds = 0;           // times the agent put the caller on hold (hold music played)
  std::vector<media::leg_report> media;
  media::activity_totals activity;
  std::string recording;  // path of the stereo Ogg Opus file, empty if none
  int64_t recording_ms = 0;
  std::string recording_sha256;
  std::string recording_error;  // set: the file is short or missing (disk full, cannot create)
};

// JSON (the storage record's body; also what the API returns).
std::string to_json(const call_record& r);

}  // namespace hotline::calls
