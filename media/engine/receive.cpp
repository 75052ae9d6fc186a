// A leg's datagrams: SRTP, RTCP, symmetric RTP latching, the jitter buffer and RFC 4733
// events; a G.711 bridge forwards on arrival from here (forwarding.cpp).
#include <cstring>

#include "media/engine/session.hpp"
#include "media/rtp/packet.hpp"

namespace hotline::media::detail {
namespace {

constexpr int64_t relatch_after_ns = 2'000'000'000;  // NAT rebinding: the old source silent 2 s

}  // namespace

void session::on_datagram(leg& l, bool rtcp_socket, std::span<std::byte> data, size_t len, const sockaddr_storage& from,
                          socklen_t from_len, int64_t now_ns, int64_t arrival_ns, engine_stats& stats) {
  ++stats.packets_in;
  if (!l.configured || len < 8) {
    ++l.foreign;
    return;
  }
  auto second = static_cast<uint8_t>(data[1]);
  bool is_rtcp = rtcp_socket || (second >= 192 && second <= 223);  // RFC 5761 §4
  if (l.srtp_in) {
    auto r = is_rtcp ? l.srtp_in->unprotect_rtcp(data, len) : l.srtp_in->unprotect(data, len);
    if (r != rtp::srtp_session::result::ok) {
      if (r == rtp::srtp_session::result::replayed) ++l.replays;
      else {
        ++l.auth_failures;
        ++stats.srtp_auth_failures;
      }
      return;
    }
  }
  if (is_rtcp) {
    if (!l.rtcp_latched || !l.remote_rtcp.valid()) {
      std::memcpy(&l.remote_rtcp.addr, &from, sizeof from);
      l.remote_rtcp.len = from_len;
      l.rtcp_latched = true;
    }
    on_rtcp(l, std::span<const std::byte>(data.data(), len), now_ns);
    return;
  }
  rtp::packet_view pv;
  if (rtp::parse(std::span<const std::byte>(data.data(), len), pv) != rtp::parse_status::ok) {
    ++stats.malformed;
    return;
  }
  bool known_pt = pv.h.payload_type == l.payload_type || (l.dtmf_pt && pv.h.payload_type == *l.dtmf_pt);
  if (!known_pt) {
    ++l.foreign;  // comfort noise, a stray stream: not ours to play
    return;
  }
  // Symmetric RTP: send where the peer really sends from (NAT), once its media proves it.
  if (!l.remote.same(from, from_len)) {
    if (l.latched && now_ns - l.last_from_remote_ns < relatch_after_ns) {
      ++l.foreign;
      return;
    }
    std::memcpy(&l.remote.addr, &from, sizeof from);
    l.remote.len = from_len;
    l.latched = true;
    if (l.media.rtcp_mux) l.remote_rtcp = l.remote;
  }
  l.latched = true;
  l.last_from_remote_ns = now_ns;
  l.last_rx_ns = now_ns;
  if (l.timed_out) {
    l.timed_out = false;
    media_event e;
    e.what = media_event::kind::stream_resumed;
    e.leg = l.role;
    emit(std::move(e));
  }
  if (pv.h.payload_type == l.payload_type) {
    l.rx.on_packet(pv.h.ssrc, pv.h.sequence, pv.h.timestamp, clock_units(arrival_ns, l.rtp_clock));
    auto r = l.jitter->insert(pv.h.sequence, pv.h.timestamp, pv.payload, clock_units(now_ns, l.rtp_clock));
    l.last_audio_ns = now_ns;
    l.last_audio_bytes = pv.payload.size();
    l.last_audio_ssrc = pv.h.ssrc;
    forward_on_arrival(l, pv, r == rtp::jitter_buffer::insert_result::duplicate, now_ns, stats);
  } else {
    on_telephone_event(l, pv.h, pv.payload, now_ns);
  }
}

void session::emit_digit(leg& l, char digit, uint32_t duration_ms) {
  ++l.dtmf_received;
  media_event e;
  e.what = media_event::kind::dtmf;
  e.leg = l.role;
  e.digit = digit;
  e.duration_ms = duration_ms;
  emit(std::move(e));
}

void session::on_telephone_event(leg& l, const rtp::header& h, std::span<const std::byte> payload, int64_t now_ns) {
  if (!l.dtmf_rx) return;
  auto now = static_cast<uint32_t>(clock_units(now_ns, l.rtp_clock));
  for (const auto& d : l.dtmf_rx->on_packet({h.timestamp, h.sequence, h.marker, payload}, now))
    emit_digit(l, d.digit, d.duration_ms);
}

void session::on_rtcp(leg& l, std::span<const std::byte> data, int64_t now_ns) {
  (void)now_ns;
  std::vector<rtp::rtcp_report> reports;
  bool bye = false;
  rtp::parse_rtcp(data, reports, bye);
  uint64_t now = rtp::ntp_now();
  for (const auto& r : reports) {
    if (r.sender) l.rx.on_sender_report(*r.sender, now);
    for (const auto& b : r.blocks) {
      if (b.ssrc != l.ssrc) continue;
      ++l.peer.peer_reports;
      l.peer.peer_fraction_lost = b.fraction_lost / 256.0;
      if (l.codec) l.codec->on_peer_loss((b.fraction_lost * 100 + 255) / 256);  // Opus FEC follows it
      l.peer.peer_cumulative_lost = b.cumulative_lost;
      l.peer.peer_jitter_ms = static_cast<double>(b.jitter) * 1000.0 / l.rtp_clock;
      if (b.last_sr) {  // RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s
        uint32_t a = rtp::ntp_middle(now);
        int64_t rtt = static_cast<int64_t>(static_cast<uint32_t>(a - b.last_sr - b.delay_since_last_sr));
        if (rtt >= 0 && rtt < 65536 * 10) l.peer.round_trip_ms = static_cast<double>(rtt) * 1000.0 / 65536.0;
      }
    }
  }
}

}  // namespace hotline::media::detail
