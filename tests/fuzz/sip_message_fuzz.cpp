// The SIP message path as the network feeds it: bytes -> parser -> transactions ->
// user agent (dispatch, registrar with digest, SDP offer parsing, dialogs). Each input
// is one datagram from a trunk address, then the same bytes over TCP framing; a parsed
// message must also survive print -> parse with the same identity.
#include <cstdlib>
#include <string>

#include "media/sip/parser.hpp"
#include "media/sip/user_agent.hpp"

namespace {

using namespace hotline::sip;

struct null_transport : transport_sender {
  void send(const address&, std::string bytes) override {
    // What we send starts with a status or request line and is framed by our own
    // Content-Length. (Whether oSIP re-parses it is not asserted: oSIP refuses some
    // values it accepted in another form, e.g. "<sip:c>" vs "sip:c"; docs/sip.md.)
    if (bytes.size() < 12 || bytes.find("\r\n\r\n") == std::string::npos) std::abort();
  }
  address local_address(transport_kind k) const override { return {"192.0.2.1", 5060, k, 0}; }
};

struct one_user : credential_store {
  std::optional<digest::stored_credentials> find(std::string_view user) const override {
    if (user != "8001") return std::nullopt;
    return digest::make_credentials("8001", "hotline", "secret");
  }
};

struct answering_owner : event_handler {
  user_agent* ua = nullptr;
  void on_incoming(incoming_call call) override { ua->ring(call.ref, clock::now()); }
  void on_call_event(call_event) override {}
  void on_registration(const registration_event&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static null_transport transport;
  static one_user users;
  static answering_owner owner;
  static const std::byte secret[32] = {};
  static user_agent* ua = [] {
    user_agent_config cfg;
    cfg.trunks.push_back({"carrier", {"198.51.100.0/24"}});
    auto* u = new user_agent(cfg, transport, users, secret, owner, [] { return 0.0; }, {});
    owner.ua = u;
    return u;
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto r = parse(bytes);
  if (auto* m = std::get_if<message>(&r)) {
    std::string printed = m->to_string();
    auto again = parse(printed);
    auto* m2 = std::get_if<message>(&again);
    // Differential: what we print parses to the same identity (or fails cleanly).
    if (m2 && (m2->method != m->method || m2->status != m->status || m2->call_id != m->call_id || m2->cseq != m->cseq ||
        m2->vias.size() != m->vias.size() || m2->body != m->body))
      std::abort();
  }
  auto now = clock::now();
  ua->receive(bytes, {"198.51.100.7", 5060, transport_kind::udp, 0}, now, std::chrono::system_clock::now());
  size_t frame = find_stream_frame(bytes);
  if (frame != std::string_view::npos && frame > 0 && frame <= bytes.size())
    ua->receive(bytes.substr(0, frame), {"198.51.100.8", 5061, transport_kind::tcp, 1}, now, std::chrono::system_clock::now());
  ua->poll(now + std::chrono::seconds(40));  // let every timer fire
  return 0;
}
