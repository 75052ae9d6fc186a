#pragma once
// What a console (supervisor wallboard, agent desktop) asks of the server over /ws,
// decoded and validated by api/ws (docs/api.md, "Consoles on /ws"). Plain values: no CAF,
// no JSON here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hotline::console {

enum class monitor_mode : uint8_t { listen, whisper, barge, takeover };
std::string_view to_string(monitor_mode m);
std::optional<monitor_mode> parse_monitor_mode(std::string_view s);

struct hello {
  int version = 1;
  std::string console;          // "supervisor" | "agent"
  bool wallboard = false;       // display: wallboard (numbers always masked)
  std::optional<std::string> resume_epoch;
  uint64_t resume_seq = 0;
};

// Supervisor commands (N-40, N-32).
struct monitor {
  int64_t id = 0;
  std::string call;
  monitor_mode mode = monitor_mode::listen;
  bool via_phone = false;
  std::string phone;  // via_phone: the SIP user Hotline calls
};
struct monitor_mode_change {
  int64_t id = 0;
  monitor_mode mode = monitor_mode::listen;
};
struct monitor_stop {
  int64_t id = 0;
};
struct agent_state {  // a supervisor forces an agent's state: not_ready (with reason) or logout
  int64_t id = 0;
  std::string agent, state, reason;
};
struct agent_message {
  int64_t id = 0;
  std::string agent, text;
};

// Agent commands (N-04, N-07, N-11, N-14, N-15).
struct state_change {
  int64_t id = 0;
  std::string state;  // login | ready | not_ready | wrap_up_done | logout
  std::string reason;  // not_ready: break | training | meeting | after_call | other
};
struct classify {
  int64_t id = 0;
  std::string call, classification, topic, note;
};
struct transfer {
  int64_t id = 0;
  std::string to;      // supervisor | expert | queue
  std::string target;  // a phone, or a queue id
};
struct flag {
  int64_t id = 0;
  std::string call, kind;  // dangerous | harassing
};

struct callbacks_list {  // N-17: the open callback requests
  int64_t id = 0;
};
struct callback_dial {  // N-17: call one back now
  int64_t id = 0;
  std::string request;
};

using command = std::variant<monitor, monitor_mode_change, monitor_stop, agent_state, agent_message, state_change,
                             classify, transfer, flag, callbacks_list, callback_dial>;

}  // namespace hotline::console
