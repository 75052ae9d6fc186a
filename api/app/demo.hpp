#pragma once
// `hotline demo`: the platform plus a living floor on loopback, so that a newcomer opens
// the console and sees calls arrive, agents answer, and can listen in within a minute.
// Agents are baresip softphones (registered, auto-answering, speaking recorded Mandarin);
// callers are SIPp calls from a trunk that press a menu digit and speak (espeak-ng speech
// as RTP), with Poisson arrivals and varied talk times. Everything is real SIP and RTP.
#include <chrono>
#include <memory>
#include <string>

#include "api/config/config.hpp"

namespace hotline::app {

class application;

struct demo_options {
  size_t agents = 6;
  double calls_per_minute = 5;
  std::chrono::seconds mean_talk{50};
};

class demo {
 public:
  // Before the application starts: the demo's roster, queues and SIP trunk go into `cfg`.
  // Fails (with the reason) when baresip or sipp is missing.
  static bool prepare(config::config& cfg, const demo_options& o, std::string& error);
  // With the application running: phones, users, agents logged in, callers calling.
  static std::unique_ptr<demo> start(application& app, const config::config& cfg, const demo_options& o,
                                     std::string& error);
  virtual ~demo() = default;  // stops the callers and the phones
};

}  // namespace hotline::app
