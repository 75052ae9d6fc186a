// Calls end to end over loopback (the calls issue): SIPp callers on a trunk dial 12333 and
// press digits, agents are real registered softphones (baresip), the IVR, the ACD, the
// call actor and the media engine run as in `hotline serve`, and the call record is read
// back from storage.
#include <gtest/gtest.h>

#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>

#include "actors/call/center.hpp"
#include "actors/runtime/runtime.hpp"
#include "media/engine/engine.hpp"
#include "media/prompt/generate.hpp"
#include "media/prompt/library.hpp"
#include "media/sip/digest.hpp"
#include "media/sip/service.hpp"
#include "storage/env.hpp"
#include "storage/keys.hpp"
#include "storage/record.hpp"
#include "tests/media/baresip_phone.hpp"
#include "tests/media/sipp_runner.hpp"
#include "tests/support/baresip.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/temp_dir.hpp"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

struct memory_credentials : sip::credential_store {
  std::map<std::string, sip::digest::stored_credentials, std::less<>> users;
  void add(const std::string& user, const std::string& password) {
    users[user] = sip::digest::make_credentials(user, "hotline", password);
  }
  std::optional<sip::digest::stored_credentials> find(std::string_view user) const override {
    auto it = users.find(user);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
};

// The center's events as the consoles would see them.
struct recorder_hub : actors::event_hub {
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> events;
  void subscribe(const std::string&, std::shared_ptr<actors::subscriber>) override {}
  void unsubscribe(const std::string&, uint64_t) override {}
  void drop(uint64_t) override {}
  void publish(const std::string& topic, std::string data) override {
    std::lock_guard l(m);
    events.emplace_back(topic, std::move(data));
  }
};

// A site: storage, actors, media engine, prompts, the SIP edge and the center.
class site : public sip::event_handler {
 public:
  explicit site(const std::string& dir, std::string callback_uri = {}, record::pool_config recorder = {.threads = 0}) {
    std::error_code ec;
    env_ = storage::env::open({.dir = dir + "/data"}, ec);
    rt_ = actors::runtime::start({}, *env_);
    media::engine_config mc;
    mc.bind_v4 = "127.0.0.1";
    mc.bind_v6 = "";
    mc.port_min = 46000;
    mc.port_max = 46999;
    engine_ = std::make_unique<media::engine>(mc);
    EXPECT_FALSE(engine_->start());
    // Prompts are generated once per build tree (espeak-ng, ~10 s), then loaded.
    std::string prompts_dir = HOTLINE_TEST_PROMPTS;
    auto gen = prompt::generate_prompts(prompts_dir);
    EXPECT_TRUE(std::holds_alternative<prompt::generate_report>(gen)) << std::get<prompt::prompt_error>(gen).message;
    auto lib = prompt::prompt_library::load(prompts_dir);
    EXPECT_TRUE(std::holds_alternative<prompt::prompt_library>(lib));
    prompts_ = std::make_unique<prompt::prompt_library>(std::move(std::get<prompt::prompt_library>(lib)));
    calls::center_options o;
    o.advertise_address = "127.0.0.1";
    o.phone_policy.codec_preference = {"PCMU", "PCMA"};
    o.phone_policy.srtp = sdp::srtp_policy::off;
    o.survey_timeout_s = 8;
    o.announce_interval_s = 600;
    o.transfer_timeout_s = 3;
    o.callback_uri = std::move(callback_uri);
    o.recordings_dir = dir + "/recordings";
    o.recorder = recorder;
    std::filesystem::create_directories(o.recordings_dir);
    acd::queue_config pension;
    pension.id = pension.skill = "pension";
    pension.hours = acd::service_hours::always();
    pension.wrap_up = std::chrono::seconds(2);
    o.queues.push_back(pension);
    acd::queue_config general;
    general.id = general.skill = "general";
    general.hours = acd::service_hours::always();
    o.queues.push_back(general);
    std::string error;
    center_ = rt_->start_calls(*engine_, *prompts_, std::move(o), error);
    EXPECT_TRUE(center_) << error;
    sip::service_options so;
    so.listen = {"127.0.0.1"};
    so.port = 0;
    so.tcp = false;
    so.ua.trunks = {{"carrier", {"127.0.0.0/8"}, {}}};
    so.ua.trunks[0].policy.codec_preference = {"PCMU", "PCMA"};
    so.ua.trunks[0].policy.srtp = sdp::srtp_policy::off;
    so.ua.phone_policy.srtp = sdp::srtp_policy::off;
    sip_ = sip::service::start(std::move(so), credentials, *this, ec);
    EXPECT_TRUE(sip_) << ec.message();
    center_->attach(*sip_);
    live_ = center_.get();
  }
  ~site() override {
    live_ = nullptr;
    center_.reset();  // ends calls in progress (needs the SIP service)
    sip_.reset();
    rt_->shutdown(5000);
    engine_.reset();
  }

  // Ends the center (its calls, its recorder) while storage and the writer keep running.
  void stop_center() {
    live_ = nullptr;
    center_.reset();
  }
  uint16_t port() const { return sip_->udp_port(); }
  calls::center& center() { return *center_; }
  // The site's ACD fails (killed, as by a crash); its supervisor restarts it.
  void kill_acd() {
    auto acd = caf::actor_cast<caf::actor>(rt_->system().registry().get(caf::atom("acd")));
    ASSERT_TRUE(acd);
    caf::anon_send_exit(acd, caf::exit_reason::kill);
    ASSERT_TRUE(eventually([&] { return rt_->system().registry().get(caf::atom("acd")) != caf::actor_cast<caf::strong_actor_ptr>(acd); }));
  }

  // sip::event_handler: everything goes to the center; registrations are also counted.
  void on_incoming(sip::incoming_call c) override {
    if (auto* c2 = live_.load()) c2->on_incoming(std::move(c));
  }
  void on_call_event(sip::call_event e) override {
    if (auto* c = live_.load()) c->on_call_event(std::move(e));
  }
  void on_registration(const sip::registration_event& e) override {
    if (auto* c = live_.load()) c->on_registration(e);
    std::lock_guard l(m_);
    registered_[e.user] = e.contacts_left > 0;
  }
  bool registered(const std::string& user) {
    std::lock_guard l(m_);
    return registered_[user];
  }

  std::string agent_command(const std::string& agent, calls::agent_command c) {
    std::promise<std::string> p;
    center_->command(agent, c, acd::not_ready_reason::break_time, [&](std::string e) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }
  std::string transfer(const std::string& agent, const std::string& phone) {
    std::promise<std::string> p;
    center_->transfer(agent, phone, [&](std::string e) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }
  std::string monitor(uint64_t call, calls::monitor_request r) {
    std::promise<std::string> p;
    center_->monitor(call, std::move(r), [&](std::string e, uint16_t) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }
  std::string flag_dangerous(const std::string& agent) {
    std::promise<std::string> p;
    center_->flag_dangerous(agent, [&](std::string e) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }
  std::optional<acd::agent_view> agent(const std::string& id) {
    std::promise<std::optional<acd::agent_view>> p;
    center_->agent(id, [&](std::optional<acd::agent_view> v) { p.set_value(std::move(v)); });
    return p.get_future().get();
  }

  std::vector<boost::json::object> call_records() {
    std::vector<boost::json::object> out;
    auto txn = env_->read();
    txn.scan(storage::table::calls, "", "", [&](std::string_view, std::string_view v) {
      if (auto o = storage::decode_record(v)) out.push_back(*o);
      return true;
    });
    return out;
  }

  // A callback request as the IVR leaves one (N-18), stored durably.
  void store_callback(uint64_t id, const std::string& number) {
    storage::write_batch b;
    b.put(storage::table::callbacks, storage::be64(id),
          storage::encode_record(boost::json::object{{"call", id}, {"number", number}, {"queue", "pension"},
                                                     {"requested_ms", 1}, {"status", "open"}},
                                 1));
    std::promise<void> done;
    rt_->writer().write(std::move(b), [&](std::error_code, uint64_t) { done.set_value(); });
    done.get_future().wait();
  }
  std::optional<boost::json::object> callback_request(uint64_t id) {
    auto txn = env_->read();
    auto v = txn.get(storage::table::callbacks, storage::be64(id));
    return v ? storage::decode_record(*v) : std::nullopt;
  }
  std::string call_back(const std::string& agent, uint64_t id) {
    std::promise<std::string> p;
    center_->callback(agent, id, [&](std::string e) { p.set_value(std::move(e)); });
    return p.get_future().get();
  }

  memory_credentials credentials;

 private:
  std::unique_ptr<storage::env> env_;
  std::unique_ptr<actors::runtime> rt_;
  std::unique_ptr<media::engine> engine_;
  std::unique_ptr<prompt::prompt_library> prompts_;
  std::unique_ptr<calls::center> center_;
  std::unique_ptr<sip::service> sip_;
  std::atomic<calls::center*> live_{nullptr};
  std::mutex m_;
  std::map<std::string, bool> registered_;
};

struct call_flow : ::testing::Test {
  temp_dir dir;
  // Agent 1023 on phone 8001 (baresip, auto-answer), logged in and ready for pension.
  calls::agent_record agent_1023() {
    calls::agent_record a;
    a.profile.id = "1023";
    a.profile.skills = {{"pension", 4, acd::post::a}, {"general", 2, acd::post::a}};
    a.profile.queues = {{"pension", 1}, {"general", 2}};
    a.name = "王芳";
    a.phone = "8001";
    return a;
  }
  // Agent 1023 in the roster, phone 8001 (baresip, auto-answer, PCMU) registered, the
  // agent logged in and ready.
  std::unique_ptr<baresip_process> ready_agent_1023(site& s) {
    s.credentials.add("8001", "agent-secret");
    s.center().add_agent(agent_1023());
    auto phone = phone_of(s, "8001", "agent-secret");
    EXPECT_TRUE(eventually([&] { return s.registered("8001"); })) << phone->output();
    EXPECT_EQ(s.agent_command("1023", calls::agent_command::login), "");
    EXPECT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
    return phone;
  }
  // A registered phone (baresip, PCMU) of `ext`: it answers at once ("auto") or only
  // rings ("manual").
  std::unique_ptr<baresip_process> phone_of(site& s, const std::string& ext, const std::string& password,
                                            const std::string& answermode = "auto") {
    return std::make_unique<baresip_process>(dir.sub("phone" + ext),
                                             "<sip:" + ext + "@127.0.0.1:" + std::to_string(s.port()) +
                                                 ">;auth_pass=" + password + ";answermode=" + answermode +
                                                 ";regint=300;audio_codecs=PCMU");
  }
  // caller_12333 in the background, for a test that acts during the call.
  std::unique_ptr<sipp_background> caller_in_background(site& s, const std::string& pause_ms) {
    return std::make_unique<sipp_background>(
        std::vector<std::string>{"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "12333", "-d",
                                 pause_ms, "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi",
                                 "127.0.0.1", "127.0.0.1:" + std::to_string(s.port())},
        dir.sub("caller"));
  }
  // A SIPp caller on the trunk dials 12333, presses 1, stays `pause_ms` and hangs up.
  sipp_result caller_12333(site& s, const std::string& pause_ms, const std::string& name) {
    return run_sipp({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "12333", "-d", pause_ms,
                     "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi", "127.0.0.1",
                     "127.0.0.1:" + std::to_string(s.port())},
                    dir.sub(name), 60s);
  }
};

TEST_F(call_flow, caller_presses_1_reaches_the_pension_agent_and_hangs_up_first) {
  site s(dir.path());
  auto phone = ready_agent_1023(s);
  ASSERT_FALSE(HasFailure());

  auto r = caller_12333(s, "6000", "caller");
  EXPECT_EQ(r.successful, 1u) << r.log();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; })) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["dialled"], "12333");
  EXPECT_EQ(cdr["from"], "13800138000");
  EXPECT_EQ(cdr["ivr_digits"], "1");
  EXPECT_EQ(cdr["queue"], "pension");
  EXPECT_EQ(cdr["agent"], "1023");
  EXPECT_EQ(cdr["outcome"], "answered");
  EXPECT_EQ(cdr["released_by"], "caller");  // N-06
  ASSERT_EQ(cdr["offers"].as_array().size(), 1u);
  EXPECT_EQ(cdr["offers"].as_array()[0].as_object().at("result"), "answered");
  EXPECT_GE(cdr["wait_ms"].as_int64(), 0);
  ASSERT_EQ(cdr["media"].as_array().size(), 2u);  // caller and agent legs with their RTCP figures
  // N-42: the conversation is on disk as stereo Ogg Opus, its length and checksum recorded.
  std::string file(cdr["recording"].as_string());
  ASSERT_TRUE(std::filesystem::exists(file)) << file;
  EXPECT_GT(cdr["recording_ms"].as_int64(), 2000);
  EXPECT_EQ(cdr["recording_sha256"].as_string().size(), 64u);
  EXPECT_EQ(std::system(("opusdec --quiet " + file + " " + dir.sub("rec.wav") + " 2>/dev/null").c_str()), 0);
  EXPECT_EQ(std::system(("test \"$(soxi -c " + dir.sub("rec.wav") + ")\" = 2").c_str()), 0) << "stereo";
  // The agent is in wrap-up, then ready again (2 s wrap-up in this queue).
  auto v = s.agent("1023");
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->state == acd::agent_state::wrap_up || v->state == acd::agent_state::ready) << acd::to_string(v->state);
  EXPECT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::ready; }, 5s));
  EXPECT_EQ(s.agent("1023")->calls_today, 1u);
}

// N-42 under overload: when the recorder cannot keep up, a call's audio waits in a spill
// file and the call record is written without the recording's checksum; once the audio is
// encoded, the record gets it. Here the recorder never catches up on its own (a slice of
// 0) and everything spills, so the backlog is encoded only when the center stops.
TEST_F(call_flow, a_recording_finished_after_its_call_record_is_added_to_the_record) {
  record::pool_config behind;
  behind.threads = 1;
  behind.spill_lag = 0;
  behind.catch_up_slice = std::chrono::milliseconds(0);
  site s(dir.path(), {}, behind);
  auto phone = ready_agent_1023(s);
  ASSERT_FALSE(HasFailure());

  auto r = caller_12333(s, "5000", "caller");
  EXPECT_EQ(r.successful, 1u) << r.log();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; }, 10s)) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["outcome"], "answered");
  EXPECT_TRUE(cdr.contains("recording_pending")) << boost::json::serialize(cdr);
  EXPECT_EQ(cdr["recording_ms"].as_int64(), 0);
  const std::string file(cdr["recording"].as_string());
  EXPECT_TRUE(std::filesystem::exists(file + ".pcm")) << "the call's audio is in its spill file";
  EXPECT_EQ(s.center().recordings().unfinished, 1u);
  EXPECT_GT(s.center().recordings().backlog_ms, 2000u);

  s.stop_center();  // the pool encodes its backlog before it stops
  ASSERT_TRUE(eventually([&] { return !s.call_records()[0].contains("recording_pending"); }, 10s))
      << boost::json::serialize(s.call_records()[0]);
  cdr = s.call_records()[0];
  EXPECT_GT(cdr["recording_ms"].as_int64(), 2000);
  EXPECT_EQ(cdr["outcome"], "answered") << "the rest of the record is kept";
  EXPECT_EQ(cdr["agent"], "1023");
  EXPECT_FALSE(std::filesystem::exists(file + ".pcm"));
  ASSERT_TRUE(std::filesystem::exists(file));
  const std::string sum = dir.sub("sum.txt");
  ASSERT_EQ(std::system(("sha256sum " + file + " | cut -c1-64 > " + sum).c_str()), 0);
  std::ifstream in(sum);
  std::string expected;
  in >> expected;
  EXPECT_EQ(cdr["recording_sha256"].as_string(), expected);
  EXPECT_EQ(std::system(("opusdec --quiet " + file + " " + dir.sub("rec.wav") + " 2>/dev/null").c_str()), 0);
}

// The server stops in the middle of a conversation (a deploy, a restart): both sides are
// hung up and the call's record is kept, released by the system, with its recording.
TEST_F(call_flow, a_call_cut_by_a_shutdown_keeps_its_record) {
  site s(dir.path(), {}, record::pool_config{.threads = 1});
  auto phone = ready_agent_1023(s);
  ASSERT_FALSE(HasFailure());
  auto caller = caller_in_background(s, "20000");
  ASSERT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::talking; }, 30s));
  std::this_thread::sleep_for(2s);
  s.stop_center();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; }, 10s)) << "the call's record was lost";
  ASSERT_TRUE(eventually([&] { return !s.call_records()[0].contains("recording_pending"); }, 10s))
      << boost::json::serialize(s.call_records()[0]);
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["outcome"], "answered");
  EXPECT_EQ(cdr["agent"], "1023");
  EXPECT_EQ(cdr["released_by"], "system");
  EXPECT_GT(cdr["ended_ms"].as_int64(), cdr["answered_ms"].as_int64());
  EXPECT_GT(cdr["recording_ms"].as_int64(), 1000) << boost::json::serialize(cdr);
  EXPECT_FALSE(cdr.contains("recording_error")) << boost::json::serialize(cdr);
}

TEST_F(call_flow, the_agent_releases_first_and_the_caller_answers_the_survey) {
  site s(dir.path());
  s.credentials.add("8001", "agent-secret");
  s.center().add_agent(agent_1023());
  // The agent's phone sends 3 s of audio, then hangs up (baresip ends a call with its WAV).
  baresip_process phone(dir.sub("phone"),
                     "<sip:8001@127.0.0.1:" + std::to_string(s.port()) +
                         ">;auth_pass=agent-secret;answermode=auto;regint=300;audio_codecs=PCMU",
                     {}, 3);
  ASSERT_TRUE(eventually([&] { return s.registered("8001"); })) << phone.output();
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  auto r = run_sipp({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_survey.xml", "-s", "12333", "-d", "9000",
                     "-m", "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi", "127.0.0.1",
                     "127.0.0.1:" + std::to_string(s.port())},
                    dir.sub("caller"), 60s);
  EXPECT_EQ(r.successful, 1u) << r.log();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; })) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["agent"], "1023");
  EXPECT_EQ(cdr["released_by"], "agent");  // N-06: recorded, whoever it was
  EXPECT_EQ(cdr["survey"], 2);             // N-16
}

// N-11: the agent transfers the caller to a supervisor's phone; once it answers the agent
// is released; and when the supervisor does not answer, the caller is back with the agent.
// N-14 on the way: the agent flags the call as dangerous.
// The agent's phone puts the caller on hold and resumes (re-INVITEs a=sendonly, then
// sendrecv): both re-INVITEs are answered, the caller hears hold music meanwhile, the call
// goes on and the record counts the hold.
TEST_F(call_flow, the_agent_holds_and_resumes_from_the_phone) {
  site s(dir.path());
  s.credentials.add("8001", "agent-secret");
  s.center().add_agent(agent_1023());
  baresip_options o;
  o.user = "8001";
  o.domain = "127.0.0.1:" + std::to_string(s.port());
  o.auth_pass = "agent-secret";
  o.audio_codecs = {"PCMU/8000/1"};
  o.regint = 300;
  baresip_peer phone(o);
  ASSERT_TRUE(phone.start()) << phone.error();
  ASSERT_TRUE(eventually([&] { return s.registered("8001"); }));
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  auto caller = caller_in_background(s, "9000");
  ASSERT_TRUE(phone.wait_event("CALL_ESTABLISHED", 20s));
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(phone.command_data("hold")) << "baresip refused /hold";
  std::this_thread::sleep_for(2s);  // on hold: the caller hears the music
  ASSERT_TRUE(phone.command_data("resume"));
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; }, 30s)) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["holds"].as_int64(), 1);
  EXPECT_EQ(cdr["outcome"], "answered");
  EXPECT_EQ(cdr["released_by"], "caller");
  EXPECT_TRUE(phone.events().end() == std::find_if(phone.events().begin(), phone.events().end(), [](const auto& e) {
                return e.type == "CALL_CLOSED" && e.param.find("488") != std::string::npos;
              }));
}

// N-17: a callback request is dialled for an agent: the agent's phone rings first, then
// the citizen through the trunk (a SIPp UAS here); the result lands in the request and an
// outbound call record.
TEST_F(call_flow, a_callback_request_is_dialled_out_for_an_agent) {
  auto citizen_port = free_udp_port();
  site s(dir.path(), "sip:{number}@127.0.0.1:" + std::to_string(citizen_port));
  s.credentials.add("8001", "agent-secret");
  s.center().add_agent(agent_1023());
  s.store_callback(42, "13900001111");
  baresip_process phone(dir.sub("phone"),
                        "<sip:8001@127.0.0.1:" + std::to_string(s.port()) +
                            ">;auth_pass=agent-secret;answermode=auto;regint=300;audio_codecs=PCMU",
                        {}, 8);  // the agent talks 8 s, then hangs up
  ASSERT_TRUE(eventually([&] { return s.registered("8001"); })) << phone.output();
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  // A ready agent would be offered queue calls meanwhile: refused.
  EXPECT_NE(s.call_back("1023", 42), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::not_ready), "");
  EXPECT_NE(s.call_back("1023", 7), "") << "an unknown request";
  sipp_background citizen({"-sn", "uas", "-i", "127.0.0.1", "-p", std::to_string(citizen_port), "-m", "1",
                           "-mi", "127.0.0.1"},
                          dir.sub("citizen"));
  ASSERT_TRUE(wait_until_bound(citizen_port));
  ASSERT_EQ(s.call_back("1023", 42), "");
  ASSERT_TRUE(eventually([&] {
    auto r = s.callback_request(42);
    return r && r->contains("last_result");
  }, 40s)) << phone.output();
  auto r = *s.callback_request(42);
  EXPECT_EQ(r["last_result"], "done");
  EXPECT_EQ(r["status"], "done");
  EXPECT_EQ(r["attempts"].as_int64(), 1);
  EXPECT_EQ(r["last_agent"], "1023");
  ASSERT_EQ(s.call_records().size(), 1u);
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["direction"], "outbound");
  EXPECT_EQ(cdr["outcome"], "callback_answered");
  EXPECT_EQ(cdr["from"], "13900001111");
  EXPECT_EQ(cdr["released_by"], "agent");
  EXPECT_EQ(s.call_back("1023", 42), "callback request 42 was already answered");
}

TEST_F(call_flow, transfer_to_a_supervisor_and_back_when_nobody_answers) {
  site s(dir.path());
  s.credentials.add("8001", "agent-secret");
  s.credentials.add("8009", "lead-secret");
  s.credentials.add("8010", "lead-secret");
  s.center().add_agent(agent_1023());
  auto phone = phone_of(s, "8001", "agent-secret");
  auto lead = phone_of(s, "8009", "lead-secret");
  auto away = phone_of(s, "8010", "lead-secret", "manual");  // rings, nobody picks up
  ASSERT_TRUE(eventually([&] { return s.registered("8001") && s.registered("8009") && s.registered("8010"); }))
      << phone->output() << lead->output() << away->output();
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  EXPECT_NE(s.transfer("1023", "8009"), "") << "no call to transfer yet";
  std::thread caller([&] {
    run_sipp({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "12333", "-d", "14000", "-m",
              "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi", "127.0.0.1",
              "127.0.0.1:" + std::to_string(s.port())},
             dir.sub("caller"), 60s);
  });
  ASSERT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::talking; }, 15s));
  EXPECT_EQ(s.flag_dangerous("1023"), "");  // N-14: an alarm, and the record is kept
  // First to 8010, who does not answer: after 3 s the caller is back with the agent.
  EXPECT_EQ(s.transfer("1023", "8010"), "");
  EXPECT_NE(s.transfer("1023", "8009"), "") << "one transfer at a time";
  std::this_thread::sleep_for(4500ms);
  EXPECT_EQ(s.agent("1023")->state, acd::agent_state::talking) << "still with the agent";
  // Then to 8009, who answers: the agent is released into wrap-up.
  EXPECT_EQ(s.transfer("1023", "8009"), "");
  EXPECT_TRUE(eventually([&] { return s.agent("1023")->state != acd::agent_state::talking; }, 5s));
  EXPECT_EQ(s.flag_dangerous("1023"), "agent 1023 is not on a call");
  caller.join();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; })) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["transfers"], "8010:no answer;8009:answered");
  EXPECT_EQ(cdr["dangerous"], true);
  // The recording's right channel carries the supervisor after the transfer: the last
  // second of it is the supervisor's phone's tone, not silence.
  std::string file(cdr["recording"].as_string());
  ASSERT_EQ(std::system(("opusdec --quiet " + file + " " + dir.sub("t.wav") + " 2>/dev/null").c_str()), 0);
  std::string cmd = "sox " + dir.sub("t.wav") + " -n remix 2 trim -1.5 -0.5 stat 2>&1 | awk '/RMS +amplitude/ {print $3}'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  char buf[64] = {};
  ASSERT_TRUE(pipe && fgets(buf, sizeof buf, pipe.get()));
  EXPECT_GT(std::atof(buf), 0.01) << "right channel silent after the transfer";
  EXPECT_EQ(cdr["released_by"], "caller");
  EXPECT_EQ(cdr["agent"], "1023");
}

// N-11: the supervisor who took a transferred call holds and resumes from their phone:
// the re-INVITEs on that leg are answered (they used to stay unanswered, so the phone's
// later requests failed) and the hold lands in the call record.
TEST_F(call_flow, the_supervisor_who_took_a_transfer_holds_and_resumes) {
  site s(dir.path());
  s.credentials.add("8001", "agent-secret");
  s.credentials.add("8009", "lead-secret");
  s.center().add_agent(agent_1023());
  auto phone = phone_of(s, "8001", "agent-secret");
  baresip_options o;
  o.user = "8009";
  o.domain = "127.0.0.1:" + std::to_string(s.port());
  o.auth_pass = "lead-secret";
  o.audio_codecs = {"PCMU/8000/1"};
  o.regint = 300;
  baresip_peer lead(o);
  ASSERT_TRUE(lead.start()) << lead.error();
  ASSERT_TRUE(eventually([&] { return s.registered("8001") && s.registered("8009"); })) << phone->output();
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  auto caller = caller_in_background(s, "12000");
  ASSERT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::talking; }, 30s));
  EXPECT_EQ(s.transfer("1023", "8009"), "");
  ASSERT_TRUE(lead.wait_event("CALL_ESTABLISHED", 10s));
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(lead.command_data("hold")) << "baresip refused /hold";
  std::this_thread::sleep_for(2s);  // on hold: the caller hears the music
  ASSERT_TRUE(lead.command_data("resume"));
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 1; }, 30s)) << "no call record";
  auto cdr = s.call_records()[0];
  EXPECT_EQ(cdr["transfers"], "8009:answered");
  EXPECT_EQ(cdr["holds"].as_int64(), 1);
  EXPECT_EQ(cdr["released_by"], "caller");
  EXPECT_TRUE(lead.events().end() == std::find_if(lead.events().begin(), lead.events().end(), [](const auto& e) {
                return e.type == "CALL_CLOSED" && e.param.find("488") != std::string::npos;
              }));
}

// N-40 by phone: a supervisor's phone that rings and is not answered gives the call back
// after the ring timeout (3 s here), as a transfer does: the monitor ends, and the call
// can be monitored (or transferred) again.
TEST_F(call_flow, a_monitor_phone_that_does_not_answer_gives_the_call_back) {
  site s(dir.path());
  s.credentials.add("8001", "agent-secret");
  s.credentials.add("8010", "lead-secret");
  s.center().add_agent(agent_1023());
  auto phone = phone_of(s, "8001", "agent-secret");
  auto away = phone_of(s, "8010", "lead-secret", "manual");  // rings, nobody picks up
  ASSERT_TRUE(eventually([&] { return s.registered("8001") && s.registered("8010"); }));
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  ASSERT_EQ(s.agent_command("1023", calls::agent_command::ready), "");
  auto caller = caller_in_background(s, "12000");
  ASSERT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::talking; }, 30s));
  const uint64_t call = s.agent("1023")->call.value_or(0);
  ASSERT_NE(call, 0u);
  std::promise<std::string> ended;
  calls::monitor_request r;
  r.supervisor = "lead1";
  r.mode = calls::monitor_mode::listen;
  r.phone = "8010";
  r.ended = [&](std::string why) { ended.set_value(std::move(why)); };
  EXPECT_EQ(s.monitor(call, std::move(r)), "");
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(8s), std::future_status::ready) << "the unanswered monitor phone never gave the call back";
  EXPECT_EQ(f.get(), "the phone did not answer");
  calls::monitor_request again;
  again.supervisor = "lead1";
  again.mode = calls::monitor_mode::listen;
  again.phone = "8010";
  EXPECT_EQ(s.monitor(call, std::move(again)), "") << "the call is free to monitor again";
}

// The ACD fails in the middle of a conversation: its supervisor restarts it with its
// state, the call goes on and ends normally, the agent wraps up and takes the next call,
// and today's count includes the call from before the failure.
TEST_F(call_flow, routing_fails_mid_call_and_no_call_is_lost) {
  site s(dir.path());
  auto phone = ready_agent_1023(s);
  ASSERT_FALSE(HasFailure());
  auto first = std::async(std::launch::async, [&] { return caller_12333(s, "8000", "caller1"); });
  ASSERT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::talking; }, 30s));
  s.kill_acd();
  auto v = s.agent("1023");  // the new ACD
  ASSERT_TRUE(v);
  EXPECT_EQ(v->state, acd::agent_state::talking);
  auto r1 = first.get();
  EXPECT_EQ(r1.successful, 1u) << r1.log();
  EXPECT_TRUE(eventually([&] { return s.agent("1023")->state == acd::agent_state::ready; }, 10s))
      << acd::to_string(s.agent("1023")->state);
  auto r2 = caller_12333(s, "2000", "caller2");
  EXPECT_EQ(r2.successful, 1u) << r2.log();
  ASSERT_TRUE(eventually([&] { return s.call_records().size() == 2; })) << "call records missing";
  for (auto& cdr : s.call_records()) {
    EXPECT_EQ(cdr["agent"], "1023");
    EXPECT_EQ(cdr["outcome"], "answered");
    EXPECT_EQ(cdr["released_by"], "caller");
  }
  EXPECT_TRUE(eventually([&] { return s.agent("1023")->calls_today == 2u; }, 5s));
}

TEST_F(call_flow, a_call_to_an_unknown_number_is_refused_and_nothing_is_recorded) {
  site s(dir.path());
  auto r = run_sipp({"-sf", std::string(HOTLINE_SIP_FIXTURES) + "/sipp/caller_ivr.xml", "-s", "99999", "-d", "1000", "-m",
                     "1", "-i", "127.0.0.1", "-p", std::to_string(free_udp_port()), "-mi", "127.0.0.1",
                     "127.0.0.1:" + std::to_string(s.port())},
                    dir.sub("caller"), 30s);
  EXPECT_EQ(r.failed, 1u);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(s.call_records().empty());
}

TEST_F(call_flow, unknown_agents_and_impossible_state_changes_are_clear_errors) {
  site s(dir.path());
  s.center().add_agent(agent_1023());
  EXPECT_NE(s.agent_command("9999", calls::agent_command::login).find("unknown agent"), std::string::npos);
  EXPECT_NE(s.agent_command("1023", calls::agent_command::ready), "");  // not logged in yet
  EXPECT_EQ(s.agent_command("1023", calls::agent_command::login), "");
  EXPECT_EQ(s.agent_command("1023", calls::agent_command::login).empty(), false);  // twice
}

}  // namespace
}  // namespace hotline::test
