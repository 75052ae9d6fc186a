// A session's 20 ms tick: play each leg's frame out of its jitter buffer, decode what
// needs PCM, mix, encode and send; recording, speech activity, the listen-in tap, timers.
#include <algorithm>
#include <chrono>

#include "media/codec/g711.hpp"
#include "media/engine/session.hpp"

namespace hotline::media::detail {

void session::tick(int64_t now_ns, engine_stats& stats) {
  take_frames();
  hand_over_forwarding(now_ns);
  pcm_inputs inputs{};
  pcm_outputs outputs{};
  prepare_inputs(now_ns, inputs, outputs);
  const bool playback_ended = next_playback_frame(inputs);
  // Who hears whom. (Asked before mixing: mix() ends a ramp, and the frame it makes still
  // carries the ramp, e.g. a whisper fading out.) The recording's right side: the agent,
  // or whoever took the call over (N-11).
  const size_t recorded_agent = legs_[1] && legs_[1]->configured ? 1 : 2;
  const bool agent_hears_caller_alone = recording_ && mixer_.sole_unity_source(recorded_agent) == size_t{0};
  mixer_.mix(inputs, outputs);
  for (auto& l : legs_)
    if (l && l->configured && l->codec) send_frame(*l, stats);
  begin_forwarding(now_ns, stats);
  record_frame(recorded_agent, agent_hears_caller_alone);
  measure_conversation();
  feed_tap();
  if (playback_ended) end_playback();
  run_timers(now_ns, stats);
}

// What each leg received: one frame per tick (or a lost one to conceal).
void session::take_frames() {
  for (auto& lp : legs_) {
    if (!lp) continue;
    lp->has_input = false;
    lp->encoded_len = 0;
    lp->has_frame = lp->configured && lp->expects && lp->jitter && lp->jitter->pop(lp->rx_frame);
    if (lp->has_frame && lp->rx_frame.lost && lp->codec && lp->codec->codec() == codec::kind::opus) hold_for_fec(*lp);
  }
}

// Forwarding on arrival ends where it no longer applies (the tick sends from here); G.711
// pass-through at the tick where a leg hears just one other on the same codec.
void session::hand_over_forwarding(int64_t now_ns) {
  for (size_t to = 0; to < max_call_legs; ++to) {
    leg* l = legs_[to].get();
    if (l && l->direct_from >= 0 &&
        (l->direct_held || direct_source(to, now_ns) != static_cast<size_t>(l->direct_from)))
      end_direct(*l, now_ns);
  }
  plan_forwarding();
}

// Decode (or conceal) the frames someone needs as PCM: the mix, the tap, the recording,
// in-band DTMF. A frame that is only forwarded stays undecoded. Speech activity and DTMF
// per leg.
void session::prepare_inputs(int64_t now_ns, pcm_inputs& inputs, pcm_outputs& outputs) {
  for (size_t i = 0; i < max_call_legs; ++i) {
    leg* l = legs_[i].get();
    if (!l) continue;
    if (l->has_frame) {
      if (l->rx_frame.lost || pcm_needed(i)) {
        decode_frame(*l);
      } else {
        l->undecoded.assign(l->rx_frame.payload.begin(), l->rx_frame.payload.end());
        l->decoder_behind = true;
      }
    }
    update_vad(*l);
    if (l->inband) {
      if (l->has_input) {
        for (char d : l->inband->process(l->in_pcm)) emit_digit(*l, d, 0);
      } else {
        l->inband->missing(frame_);
      }
    }
    if (l->dtmf_rx)
      if (auto d = l->dtmf_rx->tick(static_cast<uint32_t>(clock_units(now_ns, l->rtp_clock))))
        emit_digit(*l, d->digit, d->duration_ms);
    if (l->has_input) inputs[i] = l->in_pcm;
    if (mixes(*l)) outputs[i] = l->out_pcm;  // else empty: the mixer skips it
  }
}

// The playback's next frame (prompt, announcement, hold music).
bool session::next_playback_frame(pcm_inputs& inputs) {
  if (!clip_) return false;
  size_t n = 0;
  while (n < frame_ && clip_) {
    size_t take = std::min(frame_ - n, clip_->samples.size() - clip_pos_);
    std::copy_n(clip_->samples.begin() + static_cast<std::ptrdiff_t>(clip_pos_), take, playback_pcm_.begin() + static_cast<std::ptrdiff_t>(n));
    n += take;
    clip_pos_ += take;
    if (clip_pos_ >= clip_->samples.size()) {
      if (loop_) clip_pos_ = 0;
      else break;
    }
  }
  std::fill(playback_pcm_.begin() + static_cast<std::ptrdiff_t>(n), playback_pcm_.end(), int16_t{0});
  inputs[mix::playback] = playback_pcm_;
  return !loop_ && clip_pos_ >= clip_->samples.size();
}

// A leg's frame for this tick: the DTMF event it is sending, the other party's G.711
// payload as it came, or the mixer's output encoded.
void session::send_frame(leg& l, engine_stats& stats) {
  if (l.direct_from >= 0) return;  // its packets went as they came
  if (l.skip_from >= 0) {
    // Forwarding just ended: the frames it sent already are not sent again.
    const leg* src = legs_[static_cast<size_t>(l.skip_from)].get();
    if (src && src->has_frame && rtp::ts_diff(src->rx_frame.timestamp, l.skip_through) <= 0) return;
    l.skip_from = -1;
  }
  const uint32_t ts = l.timestamp;
  l.timestamp += l.codec->rtp_samples_per_frame();  // the clock runs whether we send or not
  if (!l.sends || !l.remote.valid()) {
    l.marker_next = true;
    return;
  }
  if (l.dtmf_pt && l.dtmf_tx) {
    if (auto p = l.dtmf_tx->next(ts)) {  // an event packet goes instead of this tick's audio
      send_rtp(l, p->payload, *l.dtmf_pt, p->marker, p->timestamp, stats);
      if (p->marker) ++l.dtmf_sent;
      l.dtmf_sending = true;
      return;
    }
    if (l.dtmf_sending && l.dtmf_tx->idle()) {
      l.dtmf_sending = false;
      media_event e;
      e.what = media_event::kind::dtmf_sent;
      e.leg = l.role;
      emit(std::move(e));
    }
  }
  if (l.forward_from >= 0) {
    // G.711 pass-through: the other party's payload as it came (decoding and encoding it
    // again would give the same bytes).
    send_rtp(l, legs_[static_cast<size_t>(l.forward_from)]->rx_frame.payload, l.payload_type, l.marker_next, ts, stats);
    l.marker_next = false;
    return;
  }
  size_t n = l.codec->encode(l.out_pcm, l.encoded);
  if (!n) return;
  l.encoded_len = n;
  send_rtp(l, std::span<const std::byte>(l.encoded.data(), n), l.payload_type, l.marker_next, ts, stats);
  l.marker_next = false;
}

// Conversation measures while caller and agent are both up (N-41, N-06).
void session::measure_conversation() {
  leg* caller = legs_[0].get();
  leg* agent = legs_[1].get();
  if (!caller || !agent || !caller->configured || !agent->configured) return;
  auto ev = activity_.tick(caller->vad.speaking(), agent->vad.speaking());
  if (ev == conversation_activity::event::none) return;
  media_event e;
  e.what = ev == conversation_activity::event::dead_air ? media_event::kind::dead_air : media_event::kind::talk_over;
  e.duration_ms = ev == conversation_activity::event::dead_air ? config_.dead_air_ms : config_.talk_over_ms;
  emit(std::move(e));
}

// The listen-in tap: what the supervisor position hears (caller + agent).
void session::feed_tap() {
  if (!tap_ || !tap_codec_) return;
  const leg* caller = legs_[0].get();
  const leg* agent = legs_[1].get();
  for (size_t k = 0; k < frame_; ++k) {
    int sum = 0;
    if (caller && caller->has_input) sum += caller->in_pcm[k];
    if (agent && agent->has_input) sum += agent->in_pcm[k];
    tap_pcm_[k] = static_cast<int16_t>(std::clamp(sum, -32768, 32767));
  }
  std::array<std::byte, 512> opus;
  size_t n = tap_codec_->encode(tap_pcm_, opus);
  if (n) tap_(std::span<const std::byte>(opus.data(), n), tap_ts_);
  tap_ts_ += 960;
}

void session::end_playback() {
  clip_.reset();
  apply_matrix();
  media_event e;
  e.what = media_event::kind::playback_done;
  emit(std::move(e));
}

// Silent streams (the stream timeout), and each leg's RTCP report when due.
void session::run_timers(int64_t now_ns, engine_stats& stats) {
  for (auto& lp : legs_) {
    if (!lp || !lp->configured) continue;
    leg& l = *lp;
    bool watching = l.expects && l.remote.valid();
    int64_t since = std::max(l.last_rx_ns, l.watch_since_ns);
    if (watching && !l.timed_out && now_ns - since > std::chrono::nanoseconds(config_.stream_timeout).count()) {
      l.timed_out = true;
      media_event e;
      e.what = media_event::kind::stream_timeout;
      e.leg = l.role;
      e.duration_ms = static_cast<uint32_t>((now_ns - since) / 1'000'000);
      emit(std::move(e));
    }
    if (now_ns >= l.next_rtcp_ns) {
      // RFC 3550 §6.3.5: randomized over [0.5, 1.5] of the interval.
      int64_t interval = std::chrono::nanoseconds(config_.rtcp_interval).count();
      l.next_rtcp_ns = now_ns + interval / 2 + static_cast<int64_t>(random_value<uint32_t>() % static_cast<uint64_t>(interval));
      if (l.remote.valid()) send_rtcp(l, now_ns, stats);
    }
  }
}

bool session::mixes(const leg& l) const {
  return l.configured && l.codec && l.sends && l.remote.valid() && l.forward_from < 0 && l.direct_from < 0;
}

bool session::pcm_needed(size_t from) const {
  const leg& l = *legs_[from];
  if (l.inband) return true;
  if ((tap_ || recording_) && from < 2) return true;  // both hear caller + agent
  // After a transfer (N-11) the supervisor's leg takes the agent's place in the recording.
  if (recording_ && from == 2 && !(legs_[1] && legs_[1]->configured)) return true;
  for (size_t to = 0; to < max_call_legs; ++to) {
    const leg* o = legs_[to].get();
    if (to != from && o && mixes(*o) && mixer_.hears(to, from)) return true;
  }
  return false;
}

// An Opus stream that has lost a packet plays one frame later from then on, so that the
// packet after a lost one is usually here when the lost one is played and its in-band FEC
// data recovers it (codec::audio_codec::conceal): 20 ms more delay on a lossy leg only.
void session::hold_for_fec(leg& l) {
  if (l.jitter->stats().lost > 0) l.jitter->set_extra_delay(1);
}

void session::decode_frame(leg& l) {
  if (l.rx_frame.lost) {
    // G.711 concealment repeats the last frame: first show the codec the one forwarded.
    if (l.decoder_behind) l.codec->decode(l.undecoded, l.in_pcm);
    l.codec->conceal(l.jitter->peek(), l.in_pcm);
  } else {
    l.codec->decode(l.rx_frame.payload, l.in_pcm);
  }
  l.decoder_behind = false;
  l.has_input = true;
}

void session::update_vad(leg& l) {
  // The detector measures a frame's energy; one sample in four (40 per 20 ms) measures it
  // well enough for speech at a quarter of the work, and a forwarded G.711 frame needs
  // only those samples decoded. The pick rotates through the four positions of each group
  // (0, 5, 10, 15, 16, ...): with a fixed stride a tone at a multiple of a quarter of the
  // rate would read as silence (every 4th sample of 1 kHz at 8 kHz is a zero crossing).
  auto pick = [](size_t k, size_t stride) { return k * stride + (k % 4) * (stride / 4); };
  std::array<int16_t, vad_samples> v;
  if (l.has_input) {
    const size_t stride = l.in_pcm.size() / vad_samples;
    for (size_t k = 0; k < vad_samples; ++k) v[k] = l.in_pcm[pick(k, stride)];
  } else if (l.has_frame && !l.rx_frame.lost && l.rx_frame.payload.size() >= vad_samples) {
    const auto& p = l.rx_frame.payload;
    const size_t stride = p.size() / vad_samples;
    const bool ulaw = l.codec->codec() == codec::kind::pcmu;
    for (size_t k = 0; k < vad_samples; ++k) {
      auto b = static_cast<uint8_t>(p[pick(k, stride)]);
      v[k] = ulaw ? codec::ulaw_to_linear(b) : codec::alaw_to_linear(b);
    }
  } else {
    l.vad.update({});
    return;
  }
  l.vad.update(v);
}

// Recording (N-42): what each party said, caller left, agent right (or whoever took the
// call over by transfer, N-11). The pool encodes, unless a side is already Opus here: the
// agent's own packet as received, and the caller's voice as encoded for the agent when
// the agent hears the caller alone (bridge or listen; not whisper or barge, not during a
// prompt to the agent). That spares the pool both encodes of an Opus agent's call.
void session::record_frame(size_t agent, bool agent_hears_caller_alone) {
  if (!recording_) return;
  leg* c = legs_[0].get();
  leg* a = legs_[agent].get();
  std::span<const std::byte> caller_opus, agent_opus;
  if (a && a->configured && a->codec && a->codec->codec() == codec::kind::opus) {
    if (a->encoded_len && c && c->has_input && agent_hears_caller_alone)
      caller_opus = std::span<const std::byte>(a->encoded.data(), a->encoded_len);
    if (a->has_frame && a->has_input) {
      if (!a->rx_frame.lost && !a->rx_frame.payload.empty()) {
        agent_opus = a->rx_frame.payload;
        a->last_toc = static_cast<std::byte>(std::to_integer<unsigned>(a->rx_frame.payload[0]) & ~3u);
      } else if (a->last_toc != std::byte{0}) {
        // Lost: the TOC byte alone, a lost frame to the player's decoder, which conceals
        // it from the phone's own stream as the agent's listener heard it concealed.
        agent_opus = std::span<const std::byte>(&a->last_toc, 1);
      }
    }
  }
  recording_->write(c && c->has_input ? std::span<const int16_t>(c->in_pcm) : std::span<const int16_t>(),
                    a && a->has_input ? std::span<const int16_t>(a->in_pcm) : std::span<const int16_t>(),
                    caller_opus, agent_opus);
}

}  // namespace hotline::media::detail
