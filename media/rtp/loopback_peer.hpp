#pragma once
// A console's end of a listen-in (N-40 in the browser): a plain RTP endpoint on loopback
// that the media engine's supervisor leg talks to as if it were a phone (Opus, PT 111,
// 48 kHz clock, rtcp-mux). What the leg sends comes out of `sink` as Opus payloads with
// their RTP timestamp (to go to the browser as binary WebSocket messages); what the
// browser's microphone encodes goes in through send(). One thread per peer, waiting in
// poll(): listen-ins are few (a handful per supervisor), and this keeps the media
// threads' loop free of anything that is not a call leg.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace hotline::rtp {

class loopback_peer {
 public:
  using sink_fn = std::function<void(std::span<const std::byte> opus, uint32_t timestamp)>;
  static constexpr uint8_t payload_type = 111;

  // Binds 127.0.0.1 on a free port and starts receiving; nullptr with `error` set.
  static std::unique_ptr<loopback_peer> open(sink_fn sink, std::string& error);
  ~loopback_peer();  // stops the thread; the sink is not called after it returns

  uint16_t port() const { return port_; }
  // Where send() goes: the engine leg's RTP port on 127.0.0.1.
  void set_remote(uint16_t port);
  // One Opus packet (20 ms) with the browser's timestamp; sequence numbers are ours.
  void send(std::span<const std::byte> opus, uint32_t timestamp);
  uint64_t received() const;
  uint64_t sent() const;

  struct state;

 private:
  explicit loopback_peer(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
  uint16_t port_ = 0;
};

}  // namespace hotline::rtp
