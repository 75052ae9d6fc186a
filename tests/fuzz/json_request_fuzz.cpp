// libFuzzer target: every byte sequence a client can send as an HTTP JSON body or a
// /ws text message goes through the same decoding the server uses. Crashes, leaks,
// undefined behaviour and exceptions escaping are failures.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/http/json_body.hpp"
#include "api/ws/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ws = hotline::api::ws::decode(text);
  if (auto* e = hotline::api::error_of(ws)) (void)hotline::api::ws::error_frame(*e);

  auto body = hotline::api::parse_object(text);
  if (auto* obj = std::get_if<boost::json::object>(&body)) {
    // The readers the endpoints use, in the order a login/create-user request uses them.
    hotline::api::field_reader r{*obj};
    r.only({"username", "password", "roles", "site", "n"});
    (void)r.string("username", true, 64);
    (void)r.string("password", true, 256);
    (void)r.strings("roles", false, 8);
    (void)r.integer("n", false, -5, 5);
    (void)r.boolean("flag", false);
  }
  return 0;
}
