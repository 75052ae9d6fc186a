#pragma once
// The B2BUA interface the actor layer sees: what an owner of calls is told, and what it
// asks for. Nothing here knows about queues or agents. Every operation's result comes
// back as a call_event (answer -> confirmed or ended; originate -> progress, answered
// or ended; reinvite -> reinvite_answered / reinvite_failed; hangup -> ended).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "media/sdp/negotiate.hpp"
#include "media/sdp/session.hpp"
#include "media/sip/message.hpp"
#include "media/sip/registrar.hpp"
#include "media/sip/transport.hpp"

namespace hotline::sip {

using call_ref = uint64_t;  // 0 = none

struct incoming_call {
  call_ref ref = 0;
  std::string call_id;
  name_addr from, to;
  struct uri request_uri;
  std::string dialled;          // the Request-URI user: 12333, 12370, an agent's extension
  address source;
  std::string trunk;            // the trunk that admitted it, or empty
  std::string registered_user;  // the phone's user when it comes from a registered phone
  std::optional<sdp::session_description> offer;  // nullopt: no offer (we offer in the 200)
  sdp::endpoint_policy policy;  // the trunk's or the phone's codec preference and SRTP rule
  std::vector<header> headers;  // everything else the INVITE carried (User-Agent, P-Asserted-Identity, ...)
};

enum class call_event_kind {
  progress,           // outbound: 1xx (sdp set for early media)
  answered,           // outbound: 2xx with the answer; the ACK is sent
  confirmed,          // inbound: our 2xx was acknowledged (sdp set if the ACK carried the answer)
  reinvite_offer,     // the peer re-INVITEs (hold/unhold): answer() or reject() it
  reinvite_answered,  // our re-INVITE was accepted (sdp = the answer)
  reinvite_failed,    // our re-INVITE was refused (status); the call goes on as before
  dtmf,               // INFO application/dtmf-relay
  ended,              // the call is over (cause, status, released_by_remote)
  operation_refused,  // an operation that does not fit the call's state (reason says why)
};
std::string_view to_string(call_event_kind k);

enum class end_cause {
  none,
  remote_bye,       // the peer hung up (BYE)
  local_bye,        // we hung up (BYE answered or timed out)
  cancelled,        // inbound: the caller gave up before the answer; outbound: we cancelled
  rejected,         // inbound: the owner rejected it
  failed,           // outbound: a final error response (status)
  no_ack,           // inbound: our 2xx was never acknowledged (64*T1)
  session_expired,  // RFC 4028: no refresh in time
};
std::string_view to_string(end_cause c);

struct call_event {
  call_ref ref = 0;
  call_event_kind kind = call_event_kind::progress;
  int status = 0;
  std::string reason;
  std::optional<sdp::session_description> sdp;
  char digit = 0;  // dtmf
  uint32_t duration_ms = 0;
  end_cause cause = end_cause::none;
  bool released_by_remote = false;  // N-06: which side released first
};

// Implemented by the actor layer (it forwards to the call's actor). Called on the SIP
// thread: must not block.
class event_handler {
 public:
  virtual ~event_handler() = default;
  virtual void on_incoming(incoming_call call) = 0;
  virtual void on_call_event(call_event event) = 0;
  virtual void on_registration(const registration_event& event) = 0;
};

struct originate_request {
  std::string target;  // a registered user ("8001") or a SIP URI ("sip:8001@192.0.2.7:5062")
  std::string from_user = "hotline";
  std::string from_display;
  sdp::session_description offer;
  std::vector<header> headers;
};

}  // namespace hotline::sip
