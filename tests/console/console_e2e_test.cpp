// The consoles end to end (docs/api.md, "Consoles on /ws"): `hotline serve`'s application
// with calls on, a SIPp caller on a trunk, a baresip agent phone, and the supervisor's and
// agent's consoles as real WebSocket clients. The supervisor sees the call arrive and
// listens in (Opus frames over the socket, decoded here), switches mode, stops; the agent
// sees the screen pop and classifies the call; a reconnecting wallboard resumes without a
// gap; every monitoring step is in the audit log.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <thread>

#include "api/app/app.hpp"
#include "api/auth/accounts.hpp"
#include "api/sip/phones.hpp"
#include "media/codec/audio_codec.hpp"
#include "media/sip/digest.hpp"
#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "tests/media/baresip_phone.hpp"
#include "tests/media/sipp_runner.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/loopback_site.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A console: its connection and the live picture it has built from snapshot + deltas.
struct console_client {
  ws_client ws;
  std::string epoch;
  uint64_t seq = 0;
  std::map<std::string, json::object> calls, agents, queues, alarms;
  std::vector<json::object> others;  // results, monitor, screen pops, messages
  std::vector<std::string> audio;    // binary frames
  bool gap = false;

  int open(uint16_t port, const std::string& token) { return ws.connect(port, token); }
  void send(const json::object& o) { ws.send(json::serialize(o)); }
  // Reads what is there (up to `wait` for the first message), for at most `wait` + 200 ms:
  // while listen-in audio streams a frame arrives every 20 ms, and a pump that read until
  // a quiet moment could run for the rest of the call (then the caller's checks see only
  // the end of it; that made the monitor check below fail under ASan).
  void pump(std::chrono::milliseconds wait = 200ms) {
    auto until = std::chrono::steady_clock::now() + wait + 200ms;
    while (std::chrono::steady_clock::now() < until) {
      auto m = ws.read(wait);
      if (!m) return;
      wait = 20ms;
      if (ws.got_binary()) audio.push_back(*m);
      else apply(json::parse(*m).as_object());
    }
  }
  void apply(const json::object& o) {
    auto type = str(o, "type");
    if (type == "snapshot") {
      epoch = str(o, "epoch");
      seq = o.at("seq").to_number<uint64_t>();
      calls.clear(), agents.clear(), queues.clear(), alarms.clear();
      for (auto& [name, key, map] : {std::tuple{"calls", "call", &calls}, {"agents", "agent", &agents},
                                     {"queues", "queue", &queues}, {"alarms", "id", &alarms}})
        for (auto& v : o.at(name).as_array()) (*map)[str(v.as_object(), key)] = v.as_object();
    } else if (type == "delta") {
      auto s = o.at("seq").to_number<uint64_t>();
      if (s != seq + 1) gap = true;
      seq = s;
      auto kind = str(o, "kind");
      auto& data = o.at("data").as_object();
      auto* map = kind == "call" ? &calls : kind == "agent" ? &agents : kind == "queue" ? &queues : &alarms;
      auto key = str(data, kind == "call" ? "call" : kind == "agent" ? "agent" : kind == "queue" ? "queue" : "id");
      if (str(o, "op") == "remove") map->erase(key);
      else (*map)[key] = data;
    } else if (type == "welcome" && o.contains("epoch")) {
      epoch = str(o, "epoch");
    } else {
      others.push_back(o);
    }
  }
  // The first message of `type` (and matching `pred`) received so far, after pumping.
  std::optional<json::object> find(const std::string& type, std::function<bool(const json::object&)> pred = {}) {
    for (auto& o : others)
      if (str(o, "type") == type && (!pred || pred(o))) return o;
    return std::nullopt;
  }
  std::optional<json::object> result(int64_t id) {
    return find("result", [id](const json::object& o) { return o.at("id").as_int64() == id; });
  }
  // Sends a command and waits for its result.
  json::object command(json::object cmd, int64_t id, std::chrono::milliseconds timeout = 10s) {
    cmd["id"] = id;
    send(cmd);
    std::optional<json::object> r;
    eventually([&] {
      pump(50ms);
      r = result(id);
      return r.has_value();
    }, timeout);
    return r.value_or(json::object{{"ok", false}, {"error", "no result"}});
  }
};

// Energy of a 440 Hz tone in decoded audio (Goertzel), relative to the total.
double tone_share(const std::vector<int16_t>& pcm, double rate, double hz) {
  double w = 2 * M_PI * hz / rate, c = 2 * std::cos(w), s1 = 0, s2 = 0, total = 0;
  for (auto x : pcm) {
    double s = x + c * s1 - s2;
    s2 = s1;
    s1 = s;
    total += double(x) * x;
  }
  double power = s1 * s1 + s2 * s2 - c * s1 * s2;
  return total > 0 ? power / (total * pcm.size() / 2) : 0;
}

class consoles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir.sub("data"));
    // The prompts are made once per build tree (espeak-ng); the app finds them in place.
    std::filesystem::create_directories(HOTLINE_TEST_PROMPTS);
    std::filesystem::create_directory_symlink(HOTLINE_TEST_PROMPTS, dir.sub("data/prompts"));
    std::ofstream(dir.sub("agents.json")) << R"([{"id":"1001","name":"王芳","phone":"8001",
        "skills":[{"skill":"pension","level":4,"post":"A"}],"queues":[{"queue":"pension","priority":1}]},
        {"id":"1002","name":"李强","phone":"8002",
        "skills":[{"skill":"general","level":3,"post":"A"}],"queues":[{"queue":"general","priority":1}]}])";
    std::ofstream(dir.sub("queues.json")) << R"([{"id":"pension","hours":"always","wrap_up_s":0,"min_agents":1},
        {"id":"general","hours":"always"}])";
    sip_port = free_udp_port();
    cfg = loopback_site(dir, sip_port, 47000, 47999);
    cfg.runtime.workers = 2;
    std::string error;
    app = app::application::start(cfg, error);
    ASSERT_TRUE(app) << error;
    port = app->http_port();
    auto sup = 1u << static_cast<unsigned>(auth::role::supervisor);
    auto agt = 1u << static_cast<unsigned>(auth::role::agent);
    ASSERT_FALSE(app->accounts().create_now({"lead1", "a-long-password", "张班长", "", "demo", sup}));
    ASSERT_FALSE(app->accounts().create_now({"wangfang", "a-long-password", "王芳", "1001", "demo", agt}));
    ASSERT_FALSE(app->accounts().create_now({"lichang", "a-long-password", "李强", "1002", "demo", agt}));
    for (auto ext : {"8001", "8002", "8009"}) {  // two agents' phones, the shift lead's
      phones::account acc;
      acc.user = ext;
      acc.realm = cfg.sip.realm;
      auto creds = sip::digest::make_credentials(ext, acc.realm, "agent-secret");
      acc.ha1_md5 = creds.ha1_md5;
      acc.ha1_sha256 = creds.ha1_sha256;
      acc.srtp = "off";
      ASSERT_FALSE(phones::save(app->env(), acc));
    }
  }

  std::unique_ptr<baresip_process> phone(const std::string& ext) {
    return std::make_unique<baresip_process>(dir.sub("phone" + ext),
                                             "<sip:" + ext + "@127.0.0.1:" + std::to_string(sip_port) +
                                                 ">;auth_pass=agent-secret;answermode=auto;regint=300;audio_codecs=PCMU");
  }

  // The call records written so far.
  std::vector<json::object> call_records() {
    std::vector<json::object> out;
    auto txn = app->env().read();
    txn.scan(storage::table::calls, "", "", [&](std::string_view, std::string_view v) {
      if (auto r = storage::decode_record(v)) out.push_back(*r);
      return true;
    });
    return out;
  }
  void TearDown() override {
    if (app) app->stop();
  }

  std::string login(const std::string& user) {
    auto r = call(port, "POST", "/v1/auth/login",
                  json::serialize(json::object{{"username", user}, {"password", "a-long-password"}}));
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.status == 200 ? std::string(r.body.at("token").as_string()) : "";
  }

  temp_dir dir;
  config::config cfg;
  std::unique_ptr<app::application> app;
  uint16_t port = 0, sip_port = 0;
};

TEST_F(consoles, supervisor_and_agent_follow_a_call_and_the_supervisor_listens_in) {
  console_client lead, agent;
  ASSERT_EQ(lead.open(port, login("lead1")), 101);
  ASSERT_EQ(agent.open(port, login("wangfang")), 101);
  lead.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}});
  agent.send({{"type", "hello"}, {"v", 1}, {"console", "agent"}});
  // The wallboard starts from a snapshot with the roster (N-32) and the queues.
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return !lead.epoch.empty() && lead.agents.count("1001");
  })) << "no snapshot with agent 1001";
  EXPECT_EQ(str(lead.agents["1001"], "state"), "logged_out");
  // N-02: queues in service hours without enough available agents are alarms from the start.
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return lead.alarms.count("pension:bottom_line") && lead.alarms.count("general:bottom_line");
  })) << lead.alarms.size() << " alarms";
  // An agent may not use the supervisor's commands.
  auto refused = agent.command({{"type", "monitor"}, {"call", "1"}, {"mode", "listen"}}, 1);
  EXPECT_EQ(refused.at("error").at("code"), "forbidden");

  auto phone = this->phone("8001");
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return lead.agents["1001"].at("phone_online").as_bool();
  })) << json::serialize(lead.agents["1001"]) << " seq " << lead.seq << phone->output();
  EXPECT_EQ(agent.command({{"type", "state"}, {"state", "login"}}, 2).at("ok"), true);
  EXPECT_EQ(agent.command({{"type", "state"}, {"state", "ready"}}, 3).at("ok"), true);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return str(lead.agents["1001"], "state") == "ready";
  }));
  agent.pump();
  EXPECT_TRUE(agent.find("agent", [](const json::object& o) { return str(o.at("data").as_object(), "state") == "ready"; }));
  EXPECT_TRUE(eventually([&] {  // one ready agent is pension's minimum here
    lead.pump(50ms);
    return !lead.alarms.count("pension:bottom_line");
  }));

  // A caller dials 12333, presses 1 (pension) and stays on the line for 12 s.
  sipp_background caller({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "12333",
                          "-d", "12000", "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi",
                          "127.0.0.1", "127.0.0.1:" + std::to_string(sip_port)},
                         dir.sub("caller"));
  std::string call;
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    for (auto& [id, c] : lead.calls)
      if (str(c, "state") == "connected") call = id;
    return !call.empty();
  })) << "the call never connected on the wallboard";
  auto& c = lead.calls[call];
  EXPECT_EQ(str(c, "from"), "13800138000");  // a supervisor's desk sees the number (N-60)
  EXPECT_EQ(str(c, "queue"), "pension");
  EXPECT_EQ(str(c, "agent"), "1001");
  EXPECT_EQ(str(lead.agents["1001"], "call"), call);

  // The agent's screen pop (N-07).
  ASSERT_TRUE(eventually([&] {
    agent.pump(50ms);
    return agent.find("screen_pop", [&](const json::object& o) { return str(o.at("call").as_object(), "call") == call; })
        .has_value();
  }));
  auto pop = *agent.find("screen_pop");
  EXPECT_EQ(str(pop.at("call").as_object(), "from"), "13800138000");
  EXPECT_EQ(str(pop.at("call").as_object(), "ivr_digits"), "1");
  EXPECT_TRUE(pop.at("history").is_array());

  // N-40: listen in from the browser: Opus frames arrive; decoded they carry the agent's
  // 440 Hz tone (the caller is silent after its digit).
  auto r = lead.command({{"type", "monitor"}, {"call", call}, {"mode", "listen"}, {"via", "browser"}}, 10);
  ASSERT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return lead.audio.size() >= 100;  // 2 s
  })) << "audio frames: " << lead.audio.size();
  EXPECT_TRUE(lead.find("monitor", [](const json::object& o) { return str(o, "state") == "started"; }));
  auto codec = std::get<std::unique_ptr<codec::audio_codec>>(codec::audio_codec::create({.codec = codec::kind::opus, .pcm_rate = 48000}));
  std::vector<int16_t> pcm, frame(960);
  for (size_t i = 25; i < lead.audio.size(); ++i) {  // past the mix's ramp
    auto& f = lead.audio[i];
    ASSERT_GT(f.size(), 4u);
    ASSERT_TRUE(codec->decode(std::as_bytes(std::span(f).subspan(4)), frame));
    pcm.insert(pcm.end(), frame.begin(), frame.end());
  }
  double sum = 0;
  for (auto x : pcm) sum += double(x) * x;
  double rms = std::sqrt(sum / pcm.size());
  EXPECT_GT(rms, 500) << "listen-in audio is silent";
  EXPECT_GT(tone_share(pcm, 48000, 440), 0.5) << "listen-in audio is not the agent's tone";
  // The wallboard shows who is monitoring.
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    auto* m = lead.calls[call].if_contains("monitor");
    return m && m->is_object() && str(m->as_object(), "mode") == "listen";
  })) << "call row: " << json::serialize(lead.calls[call]) << " seq " << lead.seq << " gap " << lead.gap
      << " audio " << lead.audio.size() << " close " << lead.ws.close_code();
  // Switch to whisper mid-call: the microphone frames are now taken (and not refused).
  EXPECT_EQ(lead.command({{"type", "monitor_mode"}, {"mode", "whisper"}}, 11).at("ok"), true);
  EXPECT_EQ(lead.command({{"type", "monitor_stop"}}, 12).at("ok"), true);
  EXPECT_TRUE(lead.find("monitor", [](const json::object& o) { return str(o, "state") == "ended"; }));

  // A wallboard that drops and reconnects resumes where it was: no snapshot, no gap.
  lead.pump();
  console_client wall;
  ASSERT_EQ(wall.open(port, login("lead1")), 101);
  wall.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}, {"display", "wallboard"},
             {"resume", {{"epoch", lead.epoch}, {"seq", lead.seq}}}});
  wall.seq = lead.seq;
  wall.epoch = lead.epoch;
  ASSERT_TRUE(eventually([&] {
    wall.pump(50ms);
    return wall.find("resumed").has_value();
  }));
  EXPECT_EQ(wall.find("resumed")->at("from").to_number<uint64_t>(), lead.seq + 1);

  // The agent classifies the call (N-07): durable before the answer.
  r = agent.command({{"type", "classify"}, {"call", call}, {"classification", "consultation"}, {"topic", "pension"},
                     {"note", "问退休手续"}},
                    20);
  EXPECT_EQ(r.at("ok"), true) << json::serialize(r);
  {
    auto txn = app->env().read();
    auto notes = txn.get(storage::table::call_notes, storage::be64(std::stoull(call)));
    ASSERT_TRUE(notes);
    auto n = storage::decode_record(*notes);
    ASSERT_TRUE(n);
    EXPECT_EQ(str(*n, "classification"), "consultation");
    EXPECT_EQ(str(*n, "agent"), "1001");
  }
  // Another agent's call cannot be classified by this one; a bad value names the field.
  r = agent.command({{"type", "classify"}, {"call", "12345"}, {"classification", "consultation"}}, 21);
  EXPECT_EQ(r.at("error").at("code"), "not_found");
  r = agent.command({{"type", "classify"}, {"call", call}, {"classification", "gossip"}}, 22);
  EXPECT_EQ(r.at("error").at("field"), "classification");

  // N-15: the agent flags the caller as harassing: noted for a supervisor's review.
  r = agent.command({{"type", "flag"}, {"call", call}, {"kind", "harassing"}}, 23);
  EXPECT_EQ(r.at("ok"), true) << json::serialize(r);
  {
    auto txn = app->env().read();
    auto flags = txn.get(storage::table::caller_flags, "13800138000");
    ASSERT_TRUE(flags);
    auto f = storage::decode_record(*flags);
    ASSERT_TRUE(f);
    EXPECT_EQ(str(*f, "status"), "pending_review");
    EXPECT_EQ(f->at("count").as_int64(), 1);
  }
  // N-14: dangerous, on the call in progress: an alarm with the caller's number.
  r = agent.command({{"type", "flag"}, {"call", call}, {"kind", "dangerous"}}, 24);
  EXPECT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return lead.alarms.count("dangerous_call:" + call) > 0;
  }));
  EXPECT_EQ(str(lead.alarms["dangerous_call:" + call], "from"), "13800138000");
  EXPECT_TRUE(lead.calls[call].at("dangerous").as_bool());
  // A supervisor's message reaches the agent's console.
  r = lead.command({{"type", "agent_message"}, {"agent", "1001"}, {"text", "请注意规范用语"}}, 30);
  EXPECT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    agent.pump(50ms);
    return agent.find("message").has_value();
  }));
  EXPECT_EQ(str(*agent.find("message"), "text"), "请注意规范用语");

  // The caller hangs up: the call leaves the wallboard (and the reconnected one), the
  // agent's console is told.
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    wall.pump(20ms);
    return !lead.calls.count(call) && !wall.calls.count(call) ? true : false;
  }, 30s));
  EXPECT_FALSE(lead.gap);
  EXPECT_FALSE(wall.gap);
  ASSERT_TRUE(eventually([&] {
    agent.pump(50ms);
    return agent.find("call_ended").has_value();
  }));
  // Masked on the wallboard: any number it saw.
  for (auto& o : wall.others) (void)o;

  // N-40: the monitoring is in the audit log: start, mode, end.
  auto admin_pw = app->bootstrap_admin();
  std::vector<std::string> actions;
  ASSERT_TRUE(eventually([&] {
    actions.clear();
    auto txn = app->env().read();
    txn.scan(storage::table::audit, "", "", [&](std::string_view, std::string_view v) {
      auto rec = storage::decode_record(v);
      if (rec && str(*rec, "target") == "call:" + call) actions.push_back(str(*rec, "action"));
      return true;
    });
    return actions.size() >= 3;
  }));
  EXPECT_EQ(actions, (std::vector<std::string>{"monitor.start", "monitor.mode", "monitor.end"}));

  // The shift lead reviews the call afterwards: its record (with the agent's notes) and
  // its recording, the listen audited; the agent who took it sees it too, another does not.
  auto lead_token = login("lead1");
  ASSERT_TRUE(eventually([&] { return call_records().size() == 1; }, 15s));
  auto list = hotline::test::call(port, "GET", "/v1/calls?limit=10", {}, lead_token);
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body.at("items").as_array().size(), 1u) << list.raw;
  auto item = list.body.at("items").at(0).as_object();
  EXPECT_EQ(str(item, "id"), call);
  EXPECT_EQ(str(item, "agent"), "1001");
  EXPECT_EQ(str(item, "outcome"), "answered");
  EXPECT_TRUE(item.at("has_recording").as_bool());
  EXPECT_FALSE(item.contains("media")) << "per-leg figures are in the call's own record";
  auto one = hotline::test::call(port, "GET", "/v1/calls/" + call, {}, lead_token);
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(str(one.body.at("notes").as_object(), "classification"), "consultation");
  EXPECT_FALSE(one.body.at("media").as_array().empty());
  EXPECT_EQ(hotline::test::call(port, "GET", "/v1/calls?agent=1002", {}, lead_token).body.at("items").as_array().size(), 0u);
  EXPECT_EQ(hotline::test::call(port, "GET", "/v1/calls", {}, login("wangfang")).body.at("items").as_array().size(), 1u);
  EXPECT_EQ(hotline::test::call(port, "GET", "/v1/calls", {}, login("lichang")).body.at("items").as_array().size(), 0u);
  EXPECT_EQ(hotline::test::call(port, "GET", "/v1/calls/" + call, {}, login("lichang")).status, 404);
  EXPECT_EQ(hotline::test::call(port, "GET", "/v1/calls/" + call + "/recording", {}, login("wangfang")).status, 403);
  auto bad = hotline::test::call(port, "GET", "/v1/calls?cursor=abc", {}, lead_token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(str(bad.body.at("error").as_object(), "field"), "cursor");
  hotline::test::reply audio;
  ASSERT_TRUE(eventually([&] {  // 409 while the pool still encodes it
    audio = hotline::test::call(port, "GET", "/v1/calls/" + call + "/recording", {}, lead_token);
    return audio.status != 409;
  }, 15s));
  ASSERT_EQ(audio.status, 200) << audio.raw.substr(0, 200);
  EXPECT_EQ(audio.content_type, "audio/ogg");
  EXPECT_EQ(audio.raw.substr(0, 4), "OggS");
  ASSERT_TRUE(eventually([&] {
    bool played = false;
    auto txn = app->env().read();
    txn.scan(storage::table::audit, "", "", [&](std::string_view, std::string_view v) {
      auto rec = storage::decode_record(v);
      played |= rec && str(*rec, "action") == "recording.play" && str(*rec, "target") == "call:" + call &&
                str(*rec, "actor") == "lead1";
      return true;
    });
    return played;
  }));

  // N-32: the shift lead forces the agent not ready (a meeting), then logs them out.
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    auto st = str(lead.agents["1001"], "state");
    return st == "ready" || st == "wrap_up";
  }, 30s));
  r = lead.command({{"type", "agent_state"}, {"agent", "1001"}, {"state", "not_ready"}, {"reason", "meeting"}}, 31);
  EXPECT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return str(lead.agents["1001"], "state") == "not_ready" && str(lead.agents["1001"], "reason") == "meeting";
  })) << json::serialize(lead.agents["1001"]);
  EXPECT_EQ(lead.command({{"type", "agent_state"}, {"agent", "1001"}, {"state", "logout"}}, 32).at("ok"), true);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return str(lead.agents["1001"], "state") == "logged_out";
  }));
  EXPECT_EQ(lead.command({{"type", "agent_state"}, {"agent", "9999"}, {"state", "logout"}}, 33).at("error").at("code"),
            "refused");
}

// N-11 to another queue from the agent's desktop, then N-40 from the supervisor's phone:
// barge, take over, hang up (the caller gets the survey).
TEST_F(consoles, an_agent_transfers_to_another_queue_and_the_supervisor_takes_over_by_phone) {
  console_client lead, first, second;
  ASSERT_EQ(lead.open(port, login("lead1")), 101);
  ASSERT_EQ(first.open(port, login("wangfang")), 101);
  ASSERT_EQ(second.open(port, login("lichang")), 101);
  lead.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}});
  first.send({{"type", "hello"}, {"v", 1}, {"console", "agent"}});
  second.send({{"type", "hello"}, {"v", 1}, {"console", "agent"}});
  auto p1 = phone("8001"), p2 = phone("8002"), p9 = phone("8009");
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    return lead.agents["1001"].at("phone_online").as_bool() && lead.agents["1002"].at("phone_online").as_bool();
  })) << p1->output() << p2->output();
  for (auto* a : {&first, &second}) {
    EXPECT_EQ(a->command({{"type", "state"}, {"state", "login"}}, 1).at("ok"), true);
    EXPECT_EQ(a->command({{"type", "state"}, {"state", "ready"}}, 2).at("ok"), true);
  }
  sipp_background caller({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "12333",
                          "-d", "25000", "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi",
                          "127.0.0.1", "127.0.0.1:" + std::to_string(sip_port)},
                         dir.sub("caller"));
  std::string call;
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    for (auto& [id, c] : lead.calls)
      if (str(c, "state") == "connected" && str(c, "agent") == "1001") call = id;
    return !call.empty();
  }));
  // The pension agent hands the caller to the general queue; agent 1002 answers there.
  auto r = first.command({{"type", "transfer"}, {"to", "queue"}, {"target", "general"}}, 3);
  ASSERT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    auto& c = lead.calls[call];
    return str(c, "state") == "connected" && str(c, "agent") == "1002";
  })) << json::serialize(lead.calls[call]);
  ASSERT_TRUE(eventually([&] {
    first.pump(50ms);
    return first.find("call_ended").has_value();
  }));
  EXPECT_EQ(first.command({{"type", "transfer"}, {"to", "queue"}, {"target", "nowhere"}}, 4).at("ok"), false);

  // The shift lead barges in from the phone, then takes the call over.
  r = lead.command({{"type", "monitor"}, {"call", call}, {"mode", "barge"}, {"via", "phone"}, {"phone", "8009"}}, 10);
  ASSERT_EQ(r.at("ok"), true) << json::serialize(r);
  ASSERT_TRUE(eventually([&] {
    lead.pump(50ms);
    auto* m = lead.calls[call].if_contains("monitor");
    return m && m->is_object() && m->as_object().at("joined").as_bool();
  })) << p9->output();
  EXPECT_EQ(lead.command({{"type", "monitor_mode"}, {"mode", "takeover"}}, 11).at("ok"), true);
  ASSERT_TRUE(eventually([&] {
    second.pump(50ms);
    return second.find("call_ended").has_value();
  })) << "agent 1002 was not released by the take-over";
  // Another console cannot monitor a call already monitored.
  console_client other;
  ASSERT_EQ(other.open(port, login("lead1")), 101);
  other.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}});
  r = other.command({{"type", "monitor"}, {"call", call}, {"mode", "listen"}}, 1);
  EXPECT_EQ(r.at("error").at("code"), "refused");
  EXPECT_EQ(lead.command({{"type", "monitor_stop"}}, 12).at("ok"), true);

  ASSERT_TRUE(eventually([&] { return call_records().size() == 1; }, 40s)) << "no call record";
  auto cdr = call_records()[0];
  auto transfers = str(cdr, "transfers");
  EXPECT_NE(transfers.find("queue:general"), std::string::npos) << transfers;
  EXPECT_NE(transfers.find("takeover:lead1"), std::string::npos) << transfers;
  EXPECT_EQ(cdr.at("queues").as_array().size(), 2u);
  EXPECT_EQ(str(cdr, "agent"), "1002");
  // N-42: one recording for the whole call, agent 1002's part included (a second file
  // for the second agent used to fail: "File exists").
  EXPECT_FALSE(str(cdr, "recording").empty()) << json::serialize(cdr);
  EXPECT_FALSE(cdr.contains("recording_error")) << json::serialize(cdr);
}

TEST_F(consoles, hello_is_checked_and_roles_are_enforced) {
  // A supervisor of another site does not see this one (N-60: a node is one site).
  auto sup = 1u << static_cast<unsigned>(auth::role::supervisor);
  ASSERT_FALSE(app->accounts().create_now({"lead9", "a-long-password", "", "", "othercity", sup}));
  console_client other;
  ASSERT_EQ(other.open(port, login("lead9")), 101);
  other.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}});
  ASSERT_TRUE(eventually([&] {
    other.pump(50ms);
    return !other.others.empty();
  }));
  EXPECT_EQ(str(other.others[0], "code"), "forbidden");
  EXPECT_EQ(str(other.others[0], "for"), "hello");
  EXPECT_TRUE(other.agents.empty());

  console_client agent;
  ASSERT_EQ(agent.open(port, login("wangfang")), 101);
  agent.send({{"type", "hello"}, {"v", 1}, {"console", "supervisor"}});
  agent.send({{"type", "hello"}, {"v", 1}, {"console", "kiosk"}});
  agent.send({{"type", "state"}, {"id", 5}, {"state", "dancing"}});
  std::vector<json::object> got;
  ASSERT_TRUE(eventually([&] {
    agent.pump(50ms);
    return agent.others.size() >= 3;
  }));
  EXPECT_EQ(str(agent.others[0], "code"), "forbidden");
  EXPECT_EQ(str(agent.others[1], "field"), "console");
  EXPECT_EQ(agent.others[2].at("id").as_int64(), 5);  // a bad command is answered as its result
  EXPECT_EQ(agent.others[2].at("error").at("field"), "state");
}

}  // namespace
}  // namespace hotline::test
