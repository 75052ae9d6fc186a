// hotline — the command line: serve, backup, verify, user management, version.
#include <signal.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "actors/runtime/clock.hpp"
#include "actors/runtime/log.hpp"
#include "actors/runtime/runtime.hpp"
#include "api/app/app.hpp"
#include "api/app/demo.hpp"
#include "api/auth/accounts.hpp"
#include "api/auth/password.hpp"
#include "api/config/config.hpp"
#include "api/sip/phones.hpp"
#include "storage/env.hpp"
#include "storage/verify.hpp"

#if HOTLINE_HAVE_KB
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/kb/store.hpp"
#include "api/v1/kb_routes.hpp"
#endif

namespace {

using namespace hotline;

constexpr const char* usage = R"(hotline — contact-center platform for 12333-style public-service hotlines

usage:
  hotline serve [--config FILE]              run the platform (defaults: data in ./var, web :8080)
  hotline demo [--config FILE]               serve, plus simulated agents' phones and callers on
                                             loopback (baresip, SIPp): open http://localhost:8080/
  hotline backup DEST [--config FILE]        compacting copy of the data dir into DEST while it serves
  hotline verify DIR                         check a data dir or a backup
  hotline user add NAME --roles R[,R...] [--site S] [--work-id W] [--display-name N] [--config FILE]
                                             (password read from stdin; generated and printed if stdin is empty)
  hotline user passwd NAME [--config FILE]   set a password (read from stdin); also lifts a lockout
  hotline user list [--config FILE]
  hotline phone add EXT [--display-name N] [--codecs opus,PCMA,PCMU] [--srtp off|optional|required] [--config FILE]
                                             SIP account for an agent's phone (password from stdin; generated if empty)
  hotline phone passwd EXT [--config FILE]   new SIP password (stdin)
  hotline phone list [--config FILE]
  hotline phone remove EXT [--config FILE]
  hotline kb reindex [--config FILE]         rebuild the knowledge-base search index from LMDB (server stopped)
  hotline kb import FILE.jsonl [--config FILE]   import entries as published (one JSON object per line;
                                             server stopped: while it serves, POST /v1/kb/import)
  hotline kb export [FILE.jsonl] [--config FILE] export the published entries (default: stdout)
  hotline kb import-docs DIR [--issuer X] [--config FILE]  store every *.md / *.txt in DIR as a policy document
  hotline config-defaults                    print the default configuration as TOML (ports, paths,
                                             media port range...: change them in a --config FILE)
  hotline version

roles: agent supervisor curator expert site_admin province_admin
)";

struct args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
};

bool parse_args(std::span<char*> argv, args& out, std::string& error) {
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        out.options[a.substr(2, eq - 2)] = a.substr(eq + 1);
      } else if (i + 1 < argv.size()) {
        out.options[a.substr(2)] = argv[++i];
      } else {
        error = "option " + a + " needs a value";
        return false;
      }
    } else {
      out.positional.push_back(a);
    }
  }
  return true;
}

bool load_config(const args& a, config::config& cfg) {
  auto it = a.options.find("config");
  if (it == a.options.end()) return true;  // embedded defaults
  auto res = config::load_file(it->second);
  for (const auto& p : res.problems) std::cerr << p.to_string() << "\n";
  if (!res.ok()) {
    std::cerr << "hotline: refusing to start: " << res.problems.size() << " problem(s) in " << it->second << "\n";
    return false;
  }
  cfg = res.cfg;
  return true;
}

void apply_log_config(const config::config& cfg) {
  log::level l;
  if (log::parse_level(cfg.log.level, l)) log::set_default_level(l);
  for (const auto& [module, level] : cfg.log.modules)
    if (log::parse_level(level, l)) log::set_module_level(module, l);
}

int cmd_serve(const args& a, bool demo) {
  config::config cfg;
  if (!load_config(a, cfg)) return 2;
  apply_log_config(cfg);
  // Block the stop signals in every thread we start; main waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Four sockets per bridged call, plus phones' TCP/TLS and WebSockets: the soft open-file
  // limit (often 1,024) would refuse calls long before the CPU is busy. Take the hard one.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  std::string error;
  app::demo_options demo_opts;
  if (demo && !app::demo::prepare(cfg, demo_opts, error)) {
    std::cerr << "hotline demo: " << error << "\n";
    return 1;
  }
  auto app = app::application::start(cfg, error);
  if (!app) {
    log::error("app", "cannot start", {{"error", error}});
    return 1;
  }
  if (auto pw = app->bootstrap_admin()) {
    std::printf("hotline: first start: created the admin account\n  user:     admin\n  password: %s\n"
                "  change it with: hotline user passwd admin\n",
                pw->c_str());
  }
  std::printf("hotline: serving on %s://%s:%u (data in %s)\n", cfg.http.tls_cert.empty() ? "http" : "https",
              cfg.http.listen.c_str(), app->http_port(),
              cfg.server.data_dir.c_str());
  std::unique_ptr<app::demo> floor;
  if (demo) {
    floor = app::demo::start(*app, cfg, demo_opts, error);
    if (!floor) {
      log::error("demo", "cannot start", {{"error", error}});
      app->stop();
      return 1;
    }
    std::printf("hotline demo: %zu agents' phones and callers at %.0f calls/min on loopback\n"
                "  open http://localhost:%u/ and log in as lead1 (shift lead) or a1001..a%zu (agents),\n"
                "  password: hotline-demo\n",
                demo_opts.agents, demo_opts.calls_per_minute, app->http_port(), 1000 + demo_opts.agents);
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("app", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  floor.reset();  // the phones and callers go first
  app->stop();
  return 0;
}

int cmd_backup(const args& a) {
  if (a.positional.size() != 2) return std::cerr << usage, 2;
  config::config cfg;
  if (!load_config(a, cfg)) return 2;
  std::error_code ec;
  // Read-only: the copy runs in a read transaction beside the serving process.
  auto env = storage::env::open({.dir = cfg.server.data_dir, .read_only = true}, ec);
  if (!env) return std::cerr << "hotline: cannot open " << cfg.server.data_dir << ": " << ec.message() << "\n", 1;
  if (auto err = env->backup(a.positional[1]))
    return std::cerr << "hotline: backup failed: " << err.message() << "\n", 1;
  auto report = storage::verify(a.positional[1]);
  if (!report.ok()) {
    for (auto& p : report.problems) std::cerr << p << "\n";
    return 1;
  }
  std::cout << "backup written to " << a.positional[1] << " and verified\n";
  return 0;
}

int cmd_verify(const args& a) {
  if (a.positional.size() != 2) return std::cerr << usage, 2;
  auto report = storage::verify(a.positional[1]);
  for (const auto& t : report.tables)
    std::cout << t.table << ": " << t.records << " records" << (t.bad ? ", " + std::to_string(t.bad) + " bad" : "")
              << "\n";
  for (const auto& p : report.problems) std::cout << "problem: " << p << "\n";
  std::cout << (report.ok() ? "ok\n" : "NOT OK\n");
  return report.ok() ? 0 : 1;
}

std::string read_password_from_stdin() {
  std::string line;
  if (isatty(STDIN_FILENO)) {
    std::cerr << "password: ";
    termios t;
    tcgetattr(STDIN_FILENO, &t);
    auto quiet = t;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
    std::cerr << "\n";
  } else {
    std::getline(std::cin, line);
  }
  return line;
}

// Runs `f` with an accounts service over the data dir, then shuts down cleanly.
template <class F>
int with_accounts(const config::config& cfg, F f) {
  std::error_code ec;
  auto env = storage::env::open({.dir = cfg.server.data_dir}, ec);
  if (!env) return std::cerr << "hotline: cannot open " << cfg.server.data_dir << ": " << ec.message() << "\n", 1;
  auto rt = actors::runtime::start({.workers = 1}, *env);
  system_wall_clock clock;
  auth::audit_log audit(nullptr, clock);
  int rc;
  {
    auth::accounts acc(*env, rt->writer(), audit, clock,
                       {.kdf_iterations = cfg.auth.kdf_iterations, .kdf_threads = 1});
    rc = f(acc);
  }
  rt->shutdown(5000);
  return rc;
}

int cmd_user(const args& a) {
  if (a.positional.size() < 2) return std::cerr << usage, 2;
  config::config cfg;
  if (!load_config(a, cfg)) return 2;
  const auto& verb = a.positional[1];
  auto opt = [&](const std::string& k, std::string def = {}) {
    auto it = a.options.find(k);
    return it == a.options.end() ? def : it->second;
  };
  if (verb == "list") {
    return with_accounts(cfg, [](auth::accounts& acc) {
      auth::principal all{"cli", "", 1u << static_cast<unsigned>(auth::role::province_admin)};
      for (auto& u : acc.list(all, "", 100000)) std::cout << u.public_json() << "\n";
      return 0;
    });
  }
  if (a.positional.size() != 3) return std::cerr << usage, 2;
  const auto& name = a.positional[2];
  if (verb == "add") {
    auth::new_user nu{name, "", opt("display-name"), opt("work-id"), opt("site", cfg.server.site)};
    std::string roles = opt("roles");
    for (size_t pos = 0; pos <= roles.size() && !roles.empty();) {
      auto comma = roles.find(',', pos);
      auto r = roles.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      auto parsed = auth::parse_role(r);
      if (!parsed) return std::cerr << "hotline: unknown role '" << r << "'\n" << usage, 2;
      nu.roles |= 1u << static_cast<unsigned>(*parsed);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    nu.password = read_password_from_stdin();
    bool generated = nu.password.empty();
    if (generated) nu.password = auth::random_token(12);
    return with_accounts(cfg, [&](auth::accounts& acc) {
      if (auto err = acc.create_now(nu)) return std::cerr << "hotline: " << err->message << "\n", 1;
      std::cout << "created user " << name;
      if (generated) std::cout << " with password " << nu.password;
      std::cout << "\n";
      return 0;
    });
  }
  if (verb == "passwd") {
    auto password = read_password_from_stdin();
    return with_accounts(cfg, [&](auth::accounts& acc) {
      auth::principal admin{"cli", "", 1u << static_cast<unsigned>(auth::role::province_admin)};
      std::promise<std::optional<api::api_error>> done;
      auto f = done.get_future();
      acc.set_password(admin, name, "", password, "local", [&](std::optional<api::api_error> e) { done.set_value(e); });
      if (auto err = f.get()) return std::cerr << "hotline: " << err->message << "\n", 1;
      std::cout << "password of " << name << " changed\n";
      return 0;
    });
  }
  std::cerr << usage;
  return 2;
}

// SIP phone accounts work on the data dir directly (like `user`, with the server
// stopped or running: LMDB serialises the writers).
int cmd_phone(const args& a) {
  if (a.positional.size() < 2) return std::cerr << usage, 2;
  config::config cfg;
  if (!load_config(a, cfg)) return 2;
  std::error_code ec;
  auto env = storage::env::open({.dir = cfg.server.data_dir, .initial_map_bytes = cfg.storage.initial_map_mb << 20}, ec);
  if (!env) return std::cerr << "hotline: cannot open " << cfg.server.data_dir << ": " << ec.message() << "\n", 1;
  const auto& verb = a.positional[1];
  auto opt = [&](const std::string& k, std::string def = {}) {
    auto it = a.options.find(k);
    return it == a.options.end() ? def : it->second;
  };
  if (verb == "list") {
    for (const auto& p : phones::list(*env)) {
      std::string codecs;
      for (const auto& c : p.codecs) codecs += (codecs.empty() ? "" : ",") + c;
      std::cout << p.user << "\t" << (p.display_name.empty() ? "-" : p.display_name) << "\t"
                << (codecs.empty() ? "default" : codecs) << "\tsrtp=" << p.srtp << "\n";
    }
    return 0;
  }
  if (a.positional.size() != 3) return std::cerr << usage, 2;
  const std::string& ext = a.positional[2];
  if (verb == "remove") {
    if (auto e = phones::remove(*env, ext)) return std::cerr << "hotline: no phone " << ext << "\n", 1;
    std::cout << "removed phone " << ext << "\n";
    return 0;
  }
  if (verb != "add" && verb != "passwd") return std::cerr << usage, 2;
  auto existing = phones::find(*env, ext);
  if (verb == "add" && existing) return std::cerr << "hotline: phone " << ext << " exists (use phone passwd)\n", 1;
  if (verb == "passwd" && !existing) return std::cerr << "hotline: no phone " << ext << "\n", 1;
  phones::account acc = existing.value_or(phones::account{});
  acc.user = ext;
  acc.realm = cfg.sip.realm;
  if (verb == "add") {
    acc.display_name = opt("display-name");
    if (auto c = opt("codecs"); !c.empty()) {
      std::string error;
      auto parsed = phones::parse_codecs(c, &error);
      if (!parsed) return std::cerr << "hotline: --codecs: " << error << "\n", 2;
      acc.codecs = *parsed;
    }
    acc.srtp = opt("srtp", "optional");
    if (acc.srtp != "off" && acc.srtp != "optional" && acc.srtp != "required")
      return std::cerr << "hotline: --srtp must be off, optional or required\n", 2;
  }
  std::string password = read_password_from_stdin();
  bool generated = password.empty();
  if (generated) password = auth::random_token(12);
  auto creds = sip::digest::make_credentials(ext, acc.realm, password);
  acc.ha1_md5 = creds.ha1_md5;
  acc.ha1_sha256 = creds.ha1_sha256;
  if (auto e = phones::save(*env, acc)) return std::cerr << "hotline: " << e.message() << "\n", 1;
  std::cout << (verb == "add" ? "created phone " : "password of phone ") << ext << (verb == "add" ? "" : " changed");
  if (generated) std::cout << " with password " << password;
  std::cout << " (realm " << acc.realm << ")\n";
  return 0;
}

#if HOTLINE_HAVE_KB
int cmd_kb(const args& a) {
  if (a.positional.size() < 2) return std::cerr << usage, 2;
  config::config cfg;
  if (!load_config(a, cfg)) return 2;
  std::error_code ec;
  auto env = storage::env::open({.dir = cfg.server.data_dir}, ec);
  if (!env) return std::cerr << "hotline: cannot open " << cfg.server.data_dir << ": " << ec.message() << "\n", 1;
  const auto& verb = a.positional[1];
  if (verb == "export") {
    // Read-only: works beside a running server.
    kb::store data(*env);
    std::ofstream file;
    if (a.positional.size() > 2) file.open(a.positional[2]);
    std::ostream& out = a.positional.size() > 2 ? file : std::cout;
    auto n = data.for_each_published([&](const kb::entry& e) { out << boost::json::serialize(kb::to_json(e)) << "\n"; });
    std::cerr << "exported " << n << " entries\n";
    return out ? 0 : 1;
  }
  system_wall_clock clock;
  std::string error;
  auto rt = actors::runtime::start({.workers = 1, .kb_index_dir = cfg.server.data_dir + "/kb-index", .kb_searchers = 1},
                                   *env, clock, error);
  if (!rt) return std::cerr << "hotline: " << error << " (is the server running? use the API instead)\n", 1;
  auto* kb = rt->knowledge_base();
  int rc = 0;
  if (verb == "reindex") {
    std::promise<kb::kb_result<size_t>> p;
    kb->reindex([&](kb::kb_result<size_t> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    if (auto* e = std::get_if<kb::kb_error>(&r)) std::cerr << "hotline: " << e->message << "\n", rc = 1;
    else std::cout << "indexed " << std::get<size_t>(r) << " published entries\n";
  } else if (verb == "import" && a.positional.size() == 3) {
    std::ifstream in(a.positional[2]);
    std::stringstream text;
    text << in.rdbuf();
    auto entries = api::parse_entries_jsonl(text.str());
    if (auto* e = api::error_of(entries)) {
      std::cerr << "hotline: " << a.positional[2] << ": " << e->message << "\n";
      rc = 1;
    } else {
      std::promise<kb::kb_result<size_t>> p;
      kb->import_published(std::move(std::get<std::vector<kb::entry>>(entries)), "cli",
                           [&](kb::kb_result<size_t> r) { p.set_value(std::move(r)); });
      auto r = p.get_future().get();
      if (auto* e = std::get_if<kb::kb_error>(&r)) std::cerr << "hotline: " << e->message << "\n", rc = 1;
      else std::cout << "imported " << std::get<size_t>(r) << " entries\n";
    }
  } else if (verb == "import-docs" && a.positional.size() == 3) {
    std::vector<kb::document> docs;
    std::error_code dir_ec;
    for (const auto& f : std::filesystem::directory_iterator(a.positional[2], dir_ec)) {
      auto ext = f.path().extension().string();
      if (!f.is_regular_file() || (ext != ".md" && ext != ".txt")) continue;
      std::ifstream in(f.path());
      std::stringstream text;
      text << in.rdbuf();
      kb::document d;
      d.text = text.str();
      d.format = ext == ".md" ? "markdown" : "text";
      d.issuer = a.options.count("issuer") ? a.options.at("issuer") : "";
      // The title is the first heading (Markdown) or the first line, else the file name.
      std::istringstream lines(d.text);
      for (std::string line; std::getline(lines, line);) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        d.title = line.rfind("# ", 0) == 0 ? line.substr(2) : line;
        break;
      }
      if (d.title.empty() || d.title.size() > 500) d.title = f.path().stem().string();
      docs.push_back(std::move(d));
    }
    if (dir_ec || docs.empty()) {
      std::cerr << "hotline: no .md or .txt files in " << a.positional[2] << "\n";
      rc = 1;
    } else {
      std::promise<kb::kb_result<std::vector<std::string>>> p;
      kb->add_documents(std::move(docs), "cli", [&](auto r) { p.set_value(std::move(r)); });
      auto r = p.get_future().get();
      if (auto* e = std::get_if<kb::kb_error>(&r)) std::cerr << "hotline: " << e->message << "\n", rc = 1;
      else std::cout << "imported " << std::get<std::vector<std::string>>(r).size() << " documents\n";
    }
  } else {
    std::cerr << usage;
    rc = 2;
  }
  rt->shutdown(5000);
  return rc;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  // Help wherever it is asked for (`hotline serve --help`), before options want values.
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") return std::cout << usage, 0;
  args a;
  std::string error;
  if (!parse_args(std::span<char*>(argv + 1, static_cast<size_t>(argc - 1)), a, error)) {
    std::cerr << "hotline: " << error << "\n" << usage;
    return 2;
  }
  if (a.positional.empty()) return std::cerr << usage, 2;
  const auto& cmd = a.positional[0];
  if (cmd == "serve") return cmd_serve(a, false);
  if (cmd == "demo") return cmd_serve(a, true);
  if (cmd == "backup") return cmd_backup(a);
  if (cmd == "verify") return cmd_verify(a);
  if (cmd == "user") return cmd_user(a);
  if (cmd == "phone") return cmd_phone(a);
#if HOTLINE_HAVE_KB
  if (cmd == "kb") return cmd_kb(a);
#endif
  if (cmd == "version") return std::cout << "hotline 0.1.0\n", 0;
  if (cmd == "config-defaults") return std::cout << config::defaults_toml(), 0;
  if (cmd == "help" || cmd == "--help" || cmd == "-h") return std::cout << usage, 0;
  std::cerr << "hotline: unknown command '" << cmd << "'\n" << usage;
  return 2;
}
