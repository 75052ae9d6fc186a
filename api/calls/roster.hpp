#pragma once
// The agent roster file (`calls.agents_file`): who the agents are, their work ids (N-05),
// phones, skills with level and A/B post (N-12), queues with priorities, languages
// (N-13). Errors name the agent and the field.
//
//   [{"id": "1023", "name": "王芳", "phone": "8001",
//     "skills": [{"skill": "pension", "level": 4, "post": "A"}],
//     "queues": [{"queue": "pension", "priority": 1}],
//     "languages": ["mandarin"]}]
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/call/center.hpp"

namespace hotline::api {

std::variant<std::vector<calls::agent_record>, std::string> parse_roster(std::string_view json);

// The queues file (`calls.queues_file`): per queue its skill, strategy, manual service
// hours (N-01), max wait and overflow, the bottom line (N-02), ring timeout (N-03),
// wrap-up (N-04) and service-level threshold. Errors name the queue and the field.
//
//   [{"id": "pension", "skill": "pension", "strategy": "skill_level",
//     "hours": {"mon-fri": "08:00-21:00", "sat-sun": "09:00-17:00"},
//     "max_wait_s": 300, "overflow_to": "general", "min_agents": 2,
//     "ring_timeout_s": 15, "wrap_up_s": 30, "service_level_s": 30}]
std::variant<std::vector<acd::queue_config>, std::string> parse_queues(std::string_view json);

}  // namespace hotline::api
