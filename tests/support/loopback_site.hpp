#pragma once
// The config of a whole site on loopback for tests and benchmarks that start the real
// application: HTTP on an ephemeral port, SIP on `sip_port` (UDP only) with 127/8 as the
// trunk, PCMU everywhere without SRTP, media on loopback in [media_min, media_max], the
// roster and queues from files in `dir`, fast password hashing.
#include <cstdint>

#include "api/config/config.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::test {

inline config::config loopback_site(const temp_dir& dir, uint16_t sip_port, uint16_t media_min, uint16_t media_max) {
  config::config cfg;
  cfg.server.data_dir = dir.sub("data");
  cfg.http.listen = "127.0.0.1";
  cfg.http.port = 0;
  cfg.sip.listen = "127.0.0.1";
  cfg.sip.port = sip_port;
  cfg.sip.tcp = 0;
  cfg.sip.trunk_allow = "127.0.0.0/8";
  cfg.sip.trunk_codecs = "PCMU";
  cfg.sip.phone_codecs = "PCMU";
  cfg.sip.srtp = "off";
  cfg.media.bind = "127.0.0.1";
  cfg.media.port_min = media_min;
  cfg.media.port_max = media_max;
  cfg.calls.agents_file = dir.sub("agents.json");
  cfg.calls.queues_file = dir.sub("queues.json");
  cfg.calls.announce_interval_s = 600;
  cfg.auth.kdf_iterations = 1000;
  return cfg;
}

}  // namespace hotline::test
