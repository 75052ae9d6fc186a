#include "actors/call/call_record.hpp"

#include <boost/json.hpp>

namespace hotline::calls {
namespace {

namespace json = boost::json;

json::value ms(clock_time t) {
  if (t == clock_time{}) return nullptr;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string to_json(const call_record& r) {
  json::object o;
  o["id"] = r.id;
  o["sip_call_id"] = r.sip_call_id;
  o["from"] = r.from;
  o["dialled"] = r.dialled;
  o["trunk"] = r.trunk;
  o["started_ms"] = ms(r.started);
  o["answered_ms"] = ms(r.answered);
  o["ended_ms"] = ms(r.ended);
  o["ivr_path"] = r.ivr_path;
  o["ivr_digits"] = r.ivr_digits;
  o["queue"] = r.queue;
  json::array qs;
  for (const auto& q : r.queues) qs.push_back(json::value(q));
  o["queues"] = std::move(qs);
  o["queued_ms"] = r.queued_at ? ms(*r.queued_at) : json::value(nullptr);
  o["wait_ms"] = r.wait_ms;
  json::array offers;
  for (const auto& f : r.offers) offers.push_back(json::object{{"agent", f.agent}, {"at_ms", ms(f.at)}, {"result", f.result}});
  o["offers"] = std::move(offers);
  o["agent"] = r.agent;
  o["agent_answered_ms"] = r.agent_answered ? ms(*r.agent_answered) : json::value(nullptr);
  o["released_by"] = r.released_by;
  o["outcome"] = r.outcome;
  o["survey"] = r.survey ? json::value(*r.survey) : json::value(nullptr);
  o["transfers"] = r.transfers;
  o["callback_requested"] = r.callback_requested;
  o["dangerous"] = r.dangerous;
  o["holds"] = r.holds;
  json::array legs;
  for (const auto& l : r.media) {
    legs.push_back(json::object{{"leg", std::string(media::to_string(l.role))},
                                {"codec", l.codec},
                                {"remote", l.remote},
                                {"srtp", l.srtp},
                                {"packets_sent", l.packets_sent},
                                {"packets_received", l.packets_received},
                                {"packets_lost", l.quality.packets_lost},
                                {"jitter_ms", l.quality.jitter_ms},
                                {"peer_fraction_lost", l.quality.peer_fraction_lost},
                                {"peer_jitter_ms", l.quality.peer_jitter_ms},
                                {"round_trip_ms", l.quality.round_trip_ms},
                                {"concealed_frames", l.concealed_frames},
                                {"playout_stretched", l.playout_stretched},
                                {"playout_shed", l.playout_shed},
                                {"late_packets", l.late_packets},
                                {"srtp_auth_failures", l.srtp_auth_failures}});
  }
  o["media"] = std::move(legs);
  o["activity"] = json::object{{"caller_speech_ms", r.activity.caller_speech_ms},
                               {"agent_speech_ms", r.activity.agent_speech_ms},
                               {"dead_air_ms", r.activity.dead_air_ms},
                               {"dead_air_events", r.activity.dead_air_events},
                               {"longest_dead_air_ms", r.activity.longest_dead_air_ms},
                               {"talk_over_ms", r.activity.talk_over_ms},
                               {"talk_over_events", r.activity.talk_over_events}};
  o["recording"] = r.recording;
  o["recording_ms"] = r.recording_ms;
  o["recording_sha256"] = r.recording_sha256;
  if (!r.recording_error.empty()) o["recording_error"] = r.recording_error;
  return json::serialize(o);
}

}  // namespace hotline::calls
