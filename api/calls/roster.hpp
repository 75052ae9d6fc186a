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

}  // namespace hotline::api
