#pragma once
// Hotline's configuration: embedded defaults, overridden by a TOML file
// (`hotline serve --config FILE`). Unknown keys and bad values are errors that name
// file:line, and the server refuses to start (docs/operations.md lists every key).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::config {

struct server_section {
  std::string data_dir = "./var";  // LMDB env, recordings, prompts, search index
  std::string site = "demo";       // this node's site id (N-60: users see their site)
  std::string site_name = "演示中心";
  std::string city = "杭州";  // the city this site serves: its knowledge-base entries rank first
};

struct http_section {
  std::string listen = "0.0.0.0";
  uint16_t port = 8080;
  size_t body_limit = 1 << 20;        // bytes; larger bodies get 413
  uint32_t request_timeout_s = 30;    // read/write timeout per request
  size_t ws_message_limit = 64 << 10; // bytes per WebSocket message from a client
  size_t ws_queue_limit = 256;        // frames queued to one client before it is dropped
  std::string tls_cert;               // PEM; both set = https/wss on the same port
  std::string tls_key;
  std::string web_root;               // empty: the console embedded in the binary
};

struct sip_section {
  std::string listen = "0.0.0.0";  // comma-separated: "0.0.0.0,::" for IPv4 and IPv6
  uint16_t port = 5060;
  uint32_t enabled = 1;            // 0: no SIP listener (HTTP only)
  uint32_t tcp = 1;                // 0: UDP only
  std::string advertise;           // address in Via/Contact; empty: the first host address
  std::string realm = "hotline";   // digest realm of the registrar
  std::string digest_algorithms = "MD5";  // challenge order (RFC 8760); see docs/sip.md
  uint32_t max_calls = 2000;       // admission control: new INVITEs above this get 503
  uint32_t max_cpu_percent = 90;   // ... and above this SIP-thread CPU
  std::string trunk_allow;         // comma-separated IPs/CIDRs of carrier trunks and gateways
  std::string trunk_codecs = "PCMA,PCMU,opus";  // codec preference for trunk calls
  std::string phone_codecs = "opus,PCMA,PCMU";  // default for agents' phones
  std::string srtp = "optional";   // off | optional | required (trunk default)
};

struct media_section {
  std::string bind = "0.0.0.0";  // RTP sockets (IPv4); media goes where SIP's advertise says
  uint16_t port_min = 20000;     // even ports RTP, odd RTCP; 4 ports per bridged call
  uint16_t port_max = 29999;
  uint32_t threads = 1;          // media threads (each owns its calls, 20 ms tick)
  uint32_t opus_complexity = 5;             // libopus 0-10, legs carrying wideband audio
  uint32_t opus_narrowband_complexity = 0;  // ... legs carrying a G.711 source
  uint32_t io_uring = 1;  // 1: sockets through io_uring where the kernel allows; 0: epoll
};

struct calls_section {
  uint32_t enabled = 1;            // 0: inbound calls get 480 (SIP registrar only)
  std::string ivr_file;            // JSON IVR tree; empty: the embedded 12333 menu
  std::string agents_file;         // JSON roster; empty: no agents until one is added
  std::string queues_file;         // JSON queue settings; empty: defaults per IVR skill
  uint32_t record = 1;             // N-42: stereo Ogg Opus per bridged call in data_dir/recordings
  uint32_t record_complexity = 1;  // libopus 0-10: CPU per recorded call against quality
  uint32_t survey_timeout_s = 8;   // N-16
  uint32_t announce_interval_s = 30;  // N-18 position / expected wait
  std::string callback_uri;           // N-17: "sip:{number}@gateway"; empty: callbacks off
  std::string callback_caller_id = "12333";
};

struct runtime_section {
  uint32_t workers = 0;  // CAF scheduler threads; 0 = one per core
};

struct storage_section {
  uint64_t initial_map_mb = 1024;  // grows by doubling when full
};

struct auth_section {
  uint32_t session_ttl_minutes = 12 * 60;
  uint32_t lockout_after = 5;      // consecutive failed logins
  uint32_t lockout_minutes = 15;
  uint32_t kdf_iterations = 600000;  // PBKDF2-SHA256 (OWASP 2023 minimum)
};

struct log_section {
  std::string level = "info";                  // debug | info | warn | error | off
  std::map<std::string, std::string> modules;  // module -> level, e.g. http = "debug"
};

struct metrics_section {
  std::string token;  // bearer token Prometheus sends; empty: loopback scrapes only
};

struct config {
  server_section server;
  http_section http;
  sip_section sip;
  media_section media;
  calls_section calls;
  runtime_section runtime;
  storage_section storage;
  auth_section auth;
  log_section log;
  metrics_section metrics;
};

// One problem found in a config file, with its position.
struct problem {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
  std::string to_string() const;  // "file:line:column: message"
};

// Parses TOML text over the embedded defaults. `file` is used in messages only.
// Returns every problem found (not just the first). When !ok(), `cfg` holds the valid
// keys applied over the defaults, for messages only: never start from it.
struct load_result {
  config cfg;
  std::vector<problem> problems;
  bool ok() const { return problems.empty(); }
};
load_result parse(std::string_view toml_text, const std::string& file);
load_result load_file(const std::string& path);

// The defaults as a commented TOML document (`hotline config-defaults`).
std::string defaults_toml();

}  // namespace hotline::config
