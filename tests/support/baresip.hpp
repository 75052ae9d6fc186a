#pragma once
// baresip 1.0.0 as a test peer (a caller, an agent's phone, an SRTP endpoint), headless:
// a config dir of its own (config + accounts), no audio device (the microphone is a WAV
// through the aufile module, nothing is played; the sndfile module can record), driven
// through the ctrl_tcp module: JSON commands and events in netstrings over TCP.
//
//   baresip_options o;  o.user = "8001";  o.domain = "127.0.0.1:5070";
//   o.auth_pass = "secret";  o.regint = 600;  o.mediaenc = "srtp-mand";
//   baresip_peer phone(o);
//   ASSERT_TRUE(phone.start()) << phone.error();
//   ASSERT_TRUE(phone.wait_registered());
//   auto e = phone.wait_event("CALL_ESTABLISHED");       // auto-answered
//   EXPECT_EQ(phone.srtp_suite(), "AES_CM_128_HMAC_SHA1_80");
//
// What baresip 1.0.0 says and does (read from its source and checked here):
// - events: REGISTERING, REGISTER_OK, REGISTER_FAIL, UNREGISTERING, CALL_INCOMING,
//   CALL_RINGING, CALL_PROGRESS, CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START/END,
//   CALL_RTPESTAB, CALL_RTCP, CALL_MENC, CALL_LOCAL_SDP, CALL_REMOTE_SDP, AUDIO_ERROR, ...
// - CALL_MENC's param is "<event>,<media>,<suite>", event 0 = secure:
//   "0,audio,AES_CM_128_HMAC_SHA1_80" once SRTP runs on the audio stream.
// - a call ends when the WAV ends (the menu module hangs up on AUDIO_ERROR "end of file").
// - the first REGISTER can finish before we are connected: read it back with reginfo().
//
// Threading: one peer belongs to one thread. Events are read while a command or a
// wait runs, and kept: wait_event() finds one that arrived earlier.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/process.hpp"

namespace hotline::test {

struct baresip_options {
  std::string user = "alice";     // the account's user part
  std::string display_name;       // optional "Name" before the AOR
  std::string domain;             // registrar/server host:port; empty: this peer itself
  std::string auth_user;          // empty: user
  std::string auth_pass;          // empty: no credentials
  unsigned regint = 0;            // REGISTER every this many seconds; 0: never REGISTER
  std::string outbound;           // outbound proxy ("sip:127.0.0.1:5070"); empty: none
  std::string answermode = "auto";  // auto | manual | early
  std::string mediaenc;             // "" (plain RTP) | srtp | srtp-mand | srtp-mandf | dtls_srtp
  std::vector<std::string> audio_codecs{"PCMU/8000/1", "PCMA/8000/1"};  // in order
  std::string audio_file;  // 16-bit PCM WAV to send; empty: a tone the driver writes
  unsigned tone_seconds = 60, tone_hz = 440, tone_rate = 8000;
  bool record = false;            // sndfile module: <dir>/rec/dump-<time>-{dec,enc}.wav per call
  std::string local_ip = "127.0.0.1";
  uint16_t sip_port = 0;   // 0: a free one (baresip also takes TCP on it and TLS on +1)
  uint16_t ctrl_port = 0;  // 0: a free one
  std::string rtp_ports;   // "20000-20999"; empty: baresip's default
  std::vector<std::string> extra_config;          // more lines for `config`
  std::vector<std::string> extra_account_params;  // more ";name=value" for the account
  std::chrono::milliseconds start_timeout{10000};
  std::string dir;  // config dir and logs; empty: a temp dir, removed with the peer
                    // (kept when HOTLINE_KEEP_PEER_DIRS is set)
};

struct baresip_event {
  std::string type;        // "CALL_ESTABLISHED", ...
  std::string class_name;  // "call", "register", "other", ...
  std::string param;       // e.g. the peer URI, "0,audio,AES_CM_128_HMAC_SHA1_80", "offer"
  std::string direction;   // "incoming" / "outgoing" (call events)
  std::string peer_uri, call_id, account_aor;
  std::string json;  // the event as baresip sent it
};

struct baresip_registration {
  std::string aor;
  bool ok = false;          // registered (green "OK")
  bool failed = false;      // "ERR"
  unsigned expires_s = 0;   // as reginfo prints it
};

class baresip_peer {
 public:
  explicit baresip_peer(baresip_options options);
  ~baresip_peer();  // quit(500 ms): declare phones after their server, so they go first
  baresip_peer(const baresip_peer&) = delete;
  baresip_peer& operator=(const baresip_peer&) = delete;

  // Writes the config, starts baresip and connects to its ctrl_tcp; false with error().
  bool start();
  const std::string& error() const { return error_; }

  uint16_t sip_port() const { return options_.sip_port; }
  uint16_t ctrl_port() const { return options_.ctrl_port; }
  const std::string& dir() const { return dir_; }
  std::string aor() const;  // sip:user@domain
  std::string uri() const;  // sip:user@local_ip:sip_port: dial this peer directly

  // Runs a baresip command ("dial", "hangup", "accept", "callstat", "reginfo", "quit",
  // ...); returns its response as JSON text ({"response":true,"ok":..,"data":..}).
  std::optional<std::string> command(std::string_view name, std::string_view params = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The response's "data" when "ok" is true.
  std::optional<std::string> command_data(std::string_view name, std::string_view params = {},
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool dial(std::string_view uri) { return command_data("dial", uri).has_value(); }
  bool hangup() { return command_data("hangup").has_value(); }
  bool accept() { return command_data("accept").has_value(); }
  // RFC 4733 digits on the current call through the menu's `sndcode`: baresip sends
  // each key it is given for its minimum duration (PEERS.md: >= 180 ms, 3 end packets).
  // Send one digit per command and let it end before the next one.
  bool send_digits(std::string_view digits) { return command_data("sndcode", digits).has_value(); }

  // The first event not returned before that has this type (or passes `match`); it may
  // have arrived before the call. nullopt after `timeout`.
  std::optional<baresip_event> wait_event(std::string_view type,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<baresip_event> wait_event(const std::function<bool(const baresip_event&)>& match,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::vector<baresip_event>& events() const { return events_; }

  // The user agents as `reginfo` lists them.
  std::optional<std::vector<baresip_registration>> reginfo();
  // reginfo says OK, or else REGISTER_OK arrives (false on REGISTER_FAIL or timeout).
  bool wait_registered(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The SRTP suite of the audio stream from the latest secure CALL_MENC event
  // ("AES_CM_128_HMAC_SHA1_80"); nullopt if media was never secured.
  std::optional<std::string> srtp_suite() const;

  // Files the sndfile module wrote (record = true), oldest first.
  std::vector<std::string> recordings() const;
  // baresip's output (its log lines say e.g. "srtp: audio: SRTP is Enabled
  // (cryptosuite=...)"), the last `max_bytes`.
  std::string log(size_t max_bytes = 8000) const;
  // "quit", then waits up to `timeout` for baresip to exit; after that (it waits for
  // un-REGISTER answers) two SIGTERMs make it exit at once, SIGKILL as the last resort.
  exit_status quit(std::chrono::milliseconds timeout = std::chrono::seconds(3));

 private:
  struct connection;
  bool write_files();
  bool launch();  // starts baresip, connects to ctrl_tcp
  bool read_some(std::chrono::milliseconds timeout);  // reads and dispatches; false on error
  void dispatch(const std::string& json);

  baresip_options options_;
  std::string dir_;
  bool own_dir_ = false;  // a temp dir of ours, removed by the destructor
  std::string error_;
  process proc_;
  std::unique_ptr<connection> conn_;
  uint64_t next_token_ = 1;
  std::vector<std::pair<std::string, std::string>> responses_;  // token -> response JSON
  std::vector<baresip_event> events_;
  std::vector<bool> taken_;  // events_[i] was returned by wait_event
};

// Writes a 16-bit mono PCM WAV of a sine tone (for the peers' microphones).
bool write_tone_wav(const std::string& path, unsigned seconds, unsigned hz, unsigned rate);

}  // namespace hotline::test
