#pragma once
// The client -> server messages of /ws (docs/api.md), decoded without throwing.
//   {"type":"subscribe","topic":"audit"}    -> {"type":"subscribed","topic":"audit"}
//   {"type":"unsubscribe","topic":"audit"}  -> {"type":"unsubscribed","topic":"audit"}
//   {"type":"ping","id":7}                  -> {"type":"pong","id":7}
//   {"type":"hello","v":1,"console":"supervisor",...} and the console commands
// Errors come back as {"type":"error","code":...,"message":...}; the connection stays.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "actors/console/commands.hpp"
#include "api/http/error.hpp"

namespace hotline::api::ws {

struct subscribe { std::string topic; };
struct unsubscribe { std::string topic; };
struct ping { int64_t id = 0; };
// Consoles (docs/api.md, "Consoles on /ws"): hello, then commands.
using client_message = std::variant<subscribe, unsubscribe, ping, console::hello, console::command>;

result<client_message> decode(std::string_view text);
bool valid_topic(std::string_view topic);  // dotted lowercase words, 1-64 bytes

std::string error_frame(const api_error& e);

}  // namespace hotline::api::ws
