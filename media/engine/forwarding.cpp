// Forwarding on arrival and G.711 pass-through at the tick: the session's cheap paths for
// a leg that hears exactly one other leg on the same G.711 law (engine.hpp).
#include <algorithm>

#include "media/engine/session.hpp"

namespace hotline::media::detail {
namespace {

using rtp::seq_diff;
using rtp::ts_diff;

constexpr int64_t tick_ns = 20'000'000;
// Forwarding on arrival stops when the source has sent no audio for this long (a pause,
// DTX, events instead of audio): the tick then keeps the leg's stream going.
constexpr int64_t direct_stall_ns = 50'000'000;

// Whole 20 ms frames from `then` to `now`, at least one.
uint32_t frames_since(int64_t then_ns, int64_t now_ns) {
  return static_cast<uint32_t>(std::max<int64_t>(1, (now_ns - then_ns + tick_ns / 2) / tick_ns));
}

}  // namespace

// Forwarding on arrival. In a plain G.711 bridge each packet goes on as soon as it is
// read, as a relay forwards it: the far end's jitter buffer takes the network's jitter,
// and ours adds no playout delay on top (the jitter buffer still plays the source's
// frames at the tick for what needs PCM: speech activity, the recording, the tap). The
// packet is mapped onto this leg's own stream (its SSRC; sequence and timestamp with a
// fixed offset, so the source's losses and reordering reach the far end as they are, and
// it conceals them). The tick decides who forwards to whom and hands over in both
// directions without a gap or a repeat: forwarding starts with the frame after the one
// the tick just sent, and the tick starts after the last frame forwarded.
std::optional<size_t> session::sole_g711_source(size_t to) const {
  const leg* l = legs_[to].get();
  if (!l || !l->configured || !l->codec || !l->sends || !l->remote.valid()) return std::nullopt;
  auto from = mixer_.sole_unity_source(to);  // nobody, several, a ramp, or the playback: no
  if (!from || *from >= max_call_legs) return std::nullopt;
  const leg* src = legs_[*from].get();
  if (!src || !src->configured || !src->codec) return std::nullopt;
  const codec::kind k = l->codec->codec();
  if (k == codec::kind::opus || src->codec->codec() != k) return std::nullopt;
  return from;
}

std::optional<size_t> session::direct_source(size_t to, int64_t now_ns) const {
  if (!config_.forward_on_arrival) return std::nullopt;
  auto from = sole_g711_source(to);
  if (!from) return std::nullopt;
  const leg* l = legs_[to].get();
  const leg* src = legs_[*from].get();
  if (l->dtmf_sending || (l->dtmf_tx && !l->dtmf_tx->idle())) return std::nullopt;
  if (!src->expects || !src->jitter) return std::nullopt;
  if (src->last_audio_bytes != l->codec->max_payload_bytes()) return std::nullopt;  // another ptime
  if (now_ns - src->last_audio_ns > direct_stall_ns) return std::nullopt;
  return from;
}

void session::begin_direct(size_t to, size_t from, int64_t now_ns, engine_stats& stats) {
  leg& l = *legs_[to];
  const leg& src = *legs_[from];
  // The tick just sent the source's frame (ts, seq) as this leg's (l.timestamp - frame,
  // l.sequence - 1): the next frame continues the stream.
  const uint32_t frame = l.codec->rtp_samples_per_frame();
  const uint32_t next_in_ts = src.rx_frame.timestamp + frame;
  const auto next_in_seq = static_cast<uint16_t>(src.rx_frame.sequence + 1);
  l.direct_from = static_cast<int>(from);
  l.direct_held = false;
  l.direct_ts_offset = l.timestamp - next_in_ts;
  l.direct_seq_offset = static_cast<uint16_t>(l.sequence - next_in_seq);
  l.direct_in_ssrc = src.last_audio_ssrc;
  l.direct_last_in_ts = src.rx_frame.timestamp;
  l.direct_last_in_seq = src.rx_frame.sequence;
  l.direct_last_out_ts = l.timestamp - frame;
  l.direct_last_out_seq = static_cast<uint16_t>(l.sequence - 1);
  l.direct_last_send_ns = now_ns;
  l.skip_from = -1;
  // Frames read but not played yet (a jitter buffer running behind) go now, in order.
  src.jitter->for_each_ahead([&](uint16_t seq, uint32_t ts, std::span<const std::byte> payload) {
    if (payload.size() == l.codec->max_payload_bytes()) send_direct(l, seq, ts, payload, false, now_ns, stats);
  });
}

// After the tick's sends: forwarding on arrival begins where the tick just sent a source's
// frame alone.
void session::begin_forwarding(int64_t now_ns, engine_stats& stats) {
  for (size_t to = 0; to < max_call_legs; ++to) {
    leg* l = legs_[to].get();
    if (!l || l->direct_from >= 0 || l->skip_from >= 0) continue;
    auto from = direct_source(to, now_ns);
    if (!from) continue;
    const leg* src = legs_[*from].get();
    if (src->has_frame && !src->rx_frame.lost && l->forward_from == static_cast<int>(*from))
      begin_direct(to, *from, now_ns, stats);
  }
}

void session::end_direct(leg& l, int64_t now_ns) {
  // The tick sends from here on. What it sends next: the source's frame after the last one
  // forwarded, with the mapping forwarding used, so the stream runs on without a gap or a
  // repeat; frames the jitter buffer plays that were forwarded already are skipped. A
  // source that stopped has its jitter buffer playing lost frames past the last one sent:
  // the clock moves on by them, a new talkspurt to the far end.
  const uint32_t frame = l.codec ? l.codec->rtp_samples_per_frame() : 160;
  const leg* src = legs_[static_cast<size_t>(l.direct_from)].get();
  uint32_t next = l.direct_last_out_ts + frame;
  if (src && src->has_frame && ts_diff(src->rx_frame.timestamp, l.direct_last_in_ts) > 0) {
    next = src->rx_frame.timestamp + l.direct_ts_offset;
  } else if (!src || !src->has_frame) {
    next = l.direct_last_out_ts + frames_since(l.direct_last_send_ns, now_ns) * frame;
  }
  if (ts_diff(next, l.direct_last_out_ts + frame) > 0) l.marker_next = true;  // RFC 3551 §4.1
  l.timestamp = next;
  l.sequence = static_cast<uint16_t>(l.direct_last_out_seq + 1);
  l.skip_from = l.direct_from;
  l.skip_through = l.direct_last_in_ts;
  l.direct_from = -1;
  l.direct_held = false;
}

void session::hold_direct() {
  for (auto& l : legs_)
    if (l && l->direct_from >= 0) l->direct_held = true;
}

void session::send_direct(leg& l, uint16_t in_seq, uint32_t in_ts, std::span<const std::byte> payload, bool marker,
                          int64_t now_ns, engine_stats& stats) {
  const uint32_t ts = in_ts + l.direct_ts_offset;
  const auto seq = static_cast<uint16_t>(in_seq + l.direct_seq_offset);
  send_rtp(l, payload, l.payload_type, marker, ts, stats, seq);
  ++stats.forwarded_on_arrival;
  if (ts_diff(ts, l.direct_last_out_ts) > 0) {
    l.direct_last_out_ts = ts;
    l.direct_last_in_ts = in_ts;
    l.direct_last_send_ns = now_ns;
  }
  if (seq_diff(seq, l.direct_last_out_seq) > 0) {
    l.direct_last_out_seq = seq;
    l.direct_last_in_seq = in_seq;
  }
  // What the tick and RTCP's sender report take as this leg's clock and count.
  l.timestamp = l.direct_last_out_ts + l.codec->rtp_samples_per_frame();
  l.sequence = static_cast<uint16_t>(l.direct_last_out_seq + 1);
}

void session::forward_on_arrival(leg& from, const rtp::packet_view& pv, bool duplicate, int64_t now_ns,
                                 engine_stats& stats) {
  const auto index = static_cast<int>(from.role);
  for (auto& lp : legs_) {
    if (!lp || lp->direct_from != index || lp->direct_held) continue;
    leg& l = *lp;
    if (duplicate || pv.payload.size() != l.codec->max_payload_bytes()) continue;
    bool marker = pv.h.marker;
    const int32_t seq_step = seq_diff(pv.h.sequence, l.direct_last_in_seq);
    const int32_t ts_step = ts_diff(pv.h.timestamp, l.direct_last_in_ts);
    if (pv.h.ssrc != l.direct_in_ssrc || seq_step > 100 || seq_step < -100 || ts_step > 50 * 8000 || ts_step < -50 * 8000) {
      // A new source (SSRC), or its sequence or clock jumped: continue this leg's stream
      // from where it is, by the time since its last packet, as a new talkspurt.
      const uint32_t frame = l.codec->rtp_samples_per_frame();
      l.direct_ts_offset = l.direct_last_out_ts + frames_since(l.direct_last_send_ns, now_ns) * frame - pv.h.timestamp;
      l.direct_seq_offset = static_cast<uint16_t>(l.direct_last_out_seq + 1 - pv.h.sequence);
      l.direct_in_ssrc = pv.h.ssrc;
      l.direct_last_in_ts = pv.h.timestamp - frame;  // so this packet counts as the newest
      l.direct_last_in_seq = static_cast<uint16_t>(pv.h.sequence - 1);
      marker = true;
    }
    send_direct(l, pv.h.sequence, pv.h.timestamp, pv.payload, marker, now_ns, stats);
  }
}

void session::plan_forwarding() {
  // A leg that hears exactly one other leg at gain 1 (no playback, no ramp pending), where
  // both speak the same G.711 law at 20 ms, gets that leg's payload after the jitter
  // buffer: timing and loss concealment stay (a lost frame is concealed and encoded as
  // usual), decode -> mix -> encode goes. DTMF events still replace the audio.
  for (size_t to = 0; to < max_call_legs; ++to) {
    leg* l = legs_[to].get();
    if (!l) continue;
    l->forward_from = -1;
    auto from = sole_g711_source(to);
    if (!from) continue;
    const leg* src = legs_[*from].get();
    if (!src->has_frame || src->rx_frame.lost) continue;
    if (src->rx_frame.payload.size() != l->codec->max_payload_bytes()) continue;  // another ptime: re-frame
    l->forward_from = static_cast<int>(*from);
  }
}

}  // namespace hotline::media::detail
