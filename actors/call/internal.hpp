#pragma once
// Internal to actors/call: the messages between the center, call actors, the ACD actor
// and agent actors, and the context they share. CAF in this header: actor TUs only.
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/json/object.hpp>

#include "actors/acd/actions.hpp"
#include "actors/call/acd.hpp"
#include "actors/acd/stats.hpp"
#include "actors/call/call_record.hpp"
#include "actors/call/center.hpp"
#include "actors/pubsub/subscriber.hpp"
#include "actors/runtime/runtime.hpp"
#include "media/engine/engine.hpp"
#include "media/record/recorder.hpp"
#include "media/sip/service.hpp"

namespace hotline::calls {

// SIP and media events for a call actor (delivered from the SIP and media threads).
struct sip_msg {
  sip::call_event e;
};
struct media_msg {
  media::media_event e;
};

// A callback to dial (N-17): the request as stored, and who calls back.
struct callback_msg {
  std::string key;              // the request's key in the callbacks table
  boost::json::object request;  // its record
  std::string number, queue;
  std::string agent, phone;     // the agent and the SIP user of their phone
};
// A supervisor's monitor on a call (center::monitor*), straight to the call's actor.
struct monitor_msg {
  enum class kind { start, mode, stop } what = kind::start;
  monitor_request req;  // start
  monitor_mode mode = monitor_mode::listen;  // mode
  center::monitor_fn done;   // start
  center::result_fn result;  // mode, stop
};

// Timers a call actor sets on itself; stale ones (an older generation) are ignored.
struct call_timer {
  enum class kind { digit, announce, survey, close_guard, done, transfer, monitor } what = kind::digit;
  uint64_t generation = 0;
};
struct recording_msg {  // the recorder pool finished (or failed) a call's file
  record::recording_result result;
};

// What every call actor needs from the center.
struct call_context {
  caf::actor_system& sys;
  sip::service* sip = nullptr;  // set by attach()
  media::engine& media;
  const prompt::prompt_library& prompts;
  actors::durable_writer& writer;
  actors::event_hub& hub;
  storage::env* env = nullptr;  // reads (callback requests)
  center_options options;
  std::shared_ptr<acd_site> site;  // the ACD (set by make_center)
  caf::actor acd() const { return site->handle(); }
  record::recorder_pool* recorder = nullptr;  // null: calls are not recorded
  std::atomic<size_t> active_calls{0};

  // SIP call refs -> the call actor that owns them. Events for a ref not bound yet (an
  // originate's first response can beat the bind) wait here until it is.
  std::mutex refs_mutex;
  std::unordered_map<sip::call_ref, caf::actor> refs;
  std::unordered_map<sip::call_ref, std::vector<sip::call_event>> early;
  void bind(sip::call_ref ref, const caf::actor& a);
  void unbind(sip::call_ref ref);
  void dispatch(sip::call_event e);

  // Prompts at the mix rate (8 kHz), loaded once: name -> clip.
  std::map<std::string, std::shared_ptr<const media::pcm_clip>, std::less<>> clips;
  std::shared_ptr<const media::pcm_clip> hold_music;
  std::shared_ptr<const media::pcm_clip> clip(std::string_view name) const;
  // Several prompts as one clip (gaps between them).
  std::shared_ptr<const media::pcm_clip> sequence(const std::vector<std::string>& names) const;

  acd::time_point now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(options.now());
  }
  uint64_t next_call_id();
  // Live calls by id, for requests that name a call (a supervisor's monitor).
  std::mutex live_mutex;
  std::unordered_map<uint64_t, caf::actor> live;
  void register_call(uint64_t id, caf::actor a) {
    std::lock_guard lock(live_mutex);
    live[id] = std::move(a);
  }
  void forget_call(uint64_t id) {
    std::lock_guard lock(live_mutex);
    live.erase(id);
  }
  caf::actor find_call(uint64_t id) {
    std::lock_guard lock(live_mutex);
    auto it = live.find(id);
    return it == live.end() ? caf::actor() : it->second;
  }
  std::mutex ids_mutex;
  uint64_t last_id = 0;

  call_context(caf::actor_system& s, media::engine& m, const prompt::prompt_library& p, actors::durable_writer& w,
          actors::event_hub& h, center_options o)
      : sys(s), media(m), prompts(p), writer(w), hub(h), options(std::move(o)) {}
};

caf::actor spawn_call(const std::shared_ptr<call_context>& ctx, sip::incoming_call call);
// A feature code from an agent's phone (*21 ready, ...): answered, confirmed with a tone.
caf::actor spawn_feature_call(const std::shared_ptr<call_context>& ctx, sip::incoming_call call, std::string agent,
                              agent_command c);
caf::actor spawn_callback(const std::shared_ptr<call_context>& ctx, callback_msg req);

// SDES keys and SDP ids (OpenSSL's RAND_bytes).
void random_bytes(std::span<std::byte> b);
// A recording's report can come after its call record is written: when the recorder is
// behind, it encodes spilled audio after the call (recorder.hpp). The gate decides who
// adds the report: the call's actor until its record is durable, then the recorder's
// thread itself, straight into the stored record (the actor may be gone by then).
struct recording_gate {
  std::mutex m;
  bool stored = false;         // the record is durable; set before the actor hears of it
  std::string record;          // the call record as written, serialized (table calls, key be64(id))
  uint64_t id = 0;
};
// A record written before its recording reported: flagged `recording_pending` and kept
// (serialized) for the late report. Records written after the report need neither.
void keep_record(recording_gate& gate, uint64_t id, boost::json::object& record);
// Marks the record durable (from the writer's completion, before telling the actor).
void record_stored(recording_gate& gate);
// Writes the kept record again with the recording's length and checksum (or its error).
void store_late_recording(actors::durable_writer& writer, recording_gate& gate, const record::recording_result& r);

// N-42: opens call `id`'s stereo recording and hands it to the media session; the
// recorder's completion comes back to `self` as a recording_msg, or through `gate` once
// the record is stored. Returns the file's path, or empty when calls are not recorded or
// the file cannot be opened (logged).
std::string start_recording(call_context& ctx, media::session_id session, uint64_t id, const std::string& sip_call_id,
                            const std::string& agent, const caf::actor& self, std::shared_ptr<recording_gate> gate);

}  // namespace hotline::calls

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::sip_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::media_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::call_timer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::recording_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hotline::calls::monitor_msg)

namespace hotline::calls {

// What make_center needs from the process (the runtime provides it).
struct center_deps {
  caf::actor_system& sys;
  media::engine& media;
  const prompt::prompt_library& prompts;
  actors::durable_writer& writer;
  actors::event_hub& hub;
  storage::env* env = nullptr;
};

}  // namespace hotline::calls
