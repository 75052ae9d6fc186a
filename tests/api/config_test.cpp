#include "api/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

using hotline::config::config;
using hotline::config::defaults_toml;
using hotline::config::load_file;
using hotline::config::load_result;
using hotline::config::parse;
using hotline::config::problem;

namespace {

std::string all_problems(const load_result& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.to_string() + "\n";
  return out;
}

void expect_same(const config& a, const config& b) {
  EXPECT_EQ(a.server.data_dir, b.server.data_dir);
  EXPECT_EQ(a.server.site, b.server.site);
  EXPECT_EQ(a.server.site_name, b.server.site_name);
  EXPECT_EQ(a.http.listen, b.http.listen);
  EXPECT_EQ(a.http.port, b.http.port);
  EXPECT_EQ(a.http.body_limit, b.http.body_limit);
  EXPECT_EQ(a.http.request_timeout_s, b.http.request_timeout_s);
  EXPECT_EQ(a.http.ws_message_limit, b.http.ws_message_limit);
  EXPECT_EQ(a.http.ws_queue_limit, b.http.ws_queue_limit);
  EXPECT_EQ(a.http.tls_cert, b.http.tls_cert);
  EXPECT_EQ(a.http.tls_key, b.http.tls_key);
  EXPECT_EQ(a.http.web_root, b.http.web_root);
  EXPECT_EQ(a.sip.listen, b.sip.listen);
  EXPECT_EQ(a.sip.port, b.sip.port);
  EXPECT_EQ(a.runtime.workers, b.runtime.workers);
  EXPECT_EQ(a.storage.initial_map_mb, b.storage.initial_map_mb);
  EXPECT_EQ(a.auth.session_ttl_minutes, b.auth.session_ttl_minutes);
  EXPECT_EQ(a.auth.lockout_after, b.auth.lockout_after);
  EXPECT_EQ(a.auth.lockout_minutes, b.auth.lockout_minutes);
  EXPECT_EQ(a.auth.kdf_iterations, b.auth.kdf_iterations);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.modules, b.log.modules);
  EXPECT_EQ(a.metrics.token, b.metrics.token);
}

// A file in the test's temp dir, removed at the end of the test.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    static int n = 0;
    path = ::testing::TempDir() + "hotline_config_test_" + std::to_string(::getpid()) + "_" +
           std::to_string(n++) + ".toml";
    std::ofstream(path, std::ios::binary) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

}  // namespace

TEST(Config, DefaultsRoundTrip) {
  const std::string text = defaults_toml();
  auto r = parse(text, "x");
  ASSERT_TRUE(r.ok()) << all_problems(r) << text;
  expect_same(r.cfg, config{});
  EXPECT_EQ(r.cfg.server.site_name, "演示中心");
}

TEST(Config, DefaultsDocumentEveryKey) {
  // Every `key = value` line is directly preceded by a comment explaining it.
  std::istringstream in(defaults_toml());
  std::string line, prev;
  int keys = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#' && line[0] != '[') {
      ++keys;
      EXPECT_EQ(prev.rfind("# ", 0), 0u) << "undocumented: " << line;
    }
    prev = line;
  }
  EXPECT_EQ(keys, 51);  // every scalar key of every section
  EXPECT_NE(defaults_toml().find("[log.modules]"), std::string::npos);
}

TEST(Config, EmptyTextIsDefaults) {
  auto r = parse("", "empty.toml");
  ASSERT_TRUE(r.ok()) << all_problems(r);
  expect_same(r.cfg, config{});
}

TEST(Config, ValidOverrideFile) {
  temp_file f(R"(# production
sip.port = 5080
runtime = { workers = 4 }

[server]
data_dir = "/var/lib/hotline"
site = "sh"
site_name = "上海"

[http]
port = 8443
body_limit = 2097152
tls_cert = "/etc/hotline/cert.pem"
tls_key = "/etc/hotline/key.pem"

[auth]
kdf_iterations = 1000
session_ttl_minutes = 60

[metrics]
token = "s3cr\"et"
)");
  auto r = load_file(f.path);
  ASSERT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.cfg.server.data_dir, "/var/lib/hotline");
  EXPECT_EQ(r.cfg.server.site, "sh");
  EXPECT_EQ(r.cfg.server.site_name, "上海");
  EXPECT_EQ(r.cfg.http.port, 8443);
  EXPECT_EQ(r.cfg.http.body_limit, 2097152u);
  EXPECT_EQ(r.cfg.http.tls_cert, "/etc/hotline/cert.pem");
  EXPECT_EQ(r.cfg.http.tls_key, "/etc/hotline/key.pem");
  EXPECT_EQ(r.cfg.sip.port, 5080);
  EXPECT_EQ(r.cfg.runtime.workers, 4u);
  EXPECT_EQ(r.cfg.auth.kdf_iterations, 1000u);
  EXPECT_EQ(r.cfg.auth.session_ttl_minutes, 60u);
  EXPECT_EQ(r.cfg.metrics.token, "s3cr\"et");
  // Untouched keys keep their defaults.
  EXPECT_EQ(r.cfg.http.listen, "0.0.0.0");
  EXPECT_EQ(r.cfg.http.request_timeout_s, 30u);
  EXPECT_EQ(r.cfg.auth.lockout_after, 5u);
  EXPECT_EQ(r.cfg.log.level, "info");
}

TEST(Config, UnknownKeyWithLineAndDidYouMean) {
  auto r = parse("[http]\nport = 8081\n\nprot = 8082\n", "hotline.toml");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  const problem& p = r.problems[0];
  EXPECT_EQ(p.file, "hotline.toml");
  EXPECT_EQ(p.line, 4u);
  EXPECT_EQ(p.column, 1u);
  EXPECT_EQ(p.message, "unknown key 'http.prot' — did you mean 'http.port'?");
  EXPECT_EQ(p.to_string(), "hotline.toml:4:1: unknown key 'http.prot' — did you mean 'http.port'?");
  EXPECT_EQ(r.cfg.http.port, 8081);  // the good key still applies
}

TEST(Config, UnknownKeyWithoutSuggestion) {
  auto r = parse("[auth]\nfrobnicate = true\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "unknown key 'auth.frobnicate'");
  EXPECT_EQ(r.problems[0].line, 2u);
}

TEST(Config, UnknownTable) {
  auto r = parse("\n[htpp]\nport = 1\n[nonsense]\n", "f");
  ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "unknown key 'htpp' — did you mean 'http'?");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.problems[1].message, "unknown key 'nonsense'");
  EXPECT_EQ(r.problems[1].line, 4u);
}

TEST(Config, WrongType) {
  auto r = parse("[http]\nport = \"8080\"\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "http.port must be an integer, got string");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.problems[0].column, 8u);
  EXPECT_EQ(r.cfg.http.port, 8080);  // the default

  r = parse("[server]\ndata_dir = 5\n[log]\nlevel = 1.5\n", "f");
  ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "server.data_dir must be a string, got integer");
  EXPECT_EQ(r.problems[1].message, "log.level must be a string, got float");

  r = parse("http = 8080\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "http must be a table, got integer");

  r = parse("[[sip]]\nport = 1\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "sip must be a table, got array");
}

TEST(Config, OutOfRange) {
  auto r = parse("[http]\nport = 70000\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "http.port must be between 0 and 65535, got 70000");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.cfg.http.port, 8080);

  r = parse("[http]\nbody_limit = 100\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "http.body_limit must be between 1024 and 67108864 (1 KiB-64 MiB), got 100");

  // Each range, just outside and exactly at both ends.
  struct range {
    const char* section;
    const char* key;
    long long min, max;
  };
  const range ranges[] = {
      {"http", "port", 0, 65535},
      {"http", "body_limit", 1024, 64 << 20},
      {"http", "request_timeout_s", 1, 3600},
      {"http", "ws_message_limit", 1024, 16 << 20},
      {"http", "ws_queue_limit", 1, 100000},
      {"sip", "port", 0, 65535},
      {"runtime", "workers", 0, 256},
      {"storage", "initial_map_mb", 1, 1048576},
      {"auth", "session_ttl_minutes", 1, 43200},
      {"auth", "lockout_after", 1, 100},
      {"auth", "lockout_minutes", 1, 10080},
      {"auth", "kdf_iterations", 1000, 10000000},
      {"calls", "record_complexity", 0, 10},
  };
  for (const auto& rg : ranges) {
    auto doc = [&](long long v) {
      return "[" + std::string(rg.section) + "]\n" + rg.key + " = " + std::to_string(v) + "\n";
    };
    EXPECT_TRUE(parse(doc(rg.min), "f").ok()) << rg.section << "." << rg.key << " = " << rg.min;
    EXPECT_TRUE(parse(doc(rg.max), "f").ok()) << rg.section << "." << rg.key << " = " << rg.max;
    EXPECT_FALSE(parse(doc(rg.min - 1), "f").ok()) << rg.section << "." << rg.key << " = " << rg.min - 1;
    EXPECT_FALSE(parse(doc(rg.max + 1), "f").ok()) << rg.section << "." << rg.key << " = " << rg.max + 1;
  }
  EXPECT_FALSE(parse("[runtime]\nworkers = -1\n", "f").ok());
}

TEST(Config, EmptyStrings) {
  auto r = parse("[server]\ndata_dir = \"\"\n[http]\nlisten = \"\"\n[sip]\nlisten = \"\"\n", "f");
  ASSERT_EQ(r.problems.size(), 3u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "server.data_dir must not be empty");
  EXPECT_EQ(r.problems[1].message, "http.listen must not be empty");
  EXPECT_EQ(r.problems[2].message, "sip.listen must not be empty");
  EXPECT_EQ(r.cfg.server.data_dir, "./var");
}

TEST(Config, SeveralProblemsAtOnce) {
  auto r = parse(R"([http]
port = 70000
listen = 7
prot = 1

[auth]
lockout_after = 1000
kdf_iterations = 10

[log]
level = "verbose"

[metric]
token = "x"
)",
                 "many.toml");
  ASSERT_EQ(r.problems.size(), 7u) << all_problems(r);
  // Reported in file order.
  const unsigned lines[] = {2, 3, 4, 7, 8, 11, 13};
  for (size_t i = 0; i < r.problems.size(); ++i) {
    EXPECT_EQ(r.problems[i].line, lines[i]) << all_problems(r);
    EXPECT_EQ(r.problems[i].file, "many.toml");
  }
  EXPECT_EQ(r.problems[5].message, "log.level must be one of debug|info|warn|error|off, got \"verbose\"");
  EXPECT_EQ(r.problems[6].message, "unknown key 'metric' — did you mean 'metrics'?");
}

TEST(Config, SyntaxErrorWithLine) {
  auto r = parse("[http]\nport = 8081\nlisten = \"0.0.0.0\n", "bad.toml");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].file, "bad.toml");
  EXPECT_EQ(r.problems[0].line, 3u);
  EXPECT_GT(r.problems[0].column, 0u);
  EXPECT_FALSE(r.problems[0].message.empty());
  EXPECT_EQ(r.problems[0].to_string().rfind("bad.toml:3:", 0), 0u) << r.problems[0].to_string();

  r = parse("[http]\n[http]\n", "dup.toml");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].line, 2u);
}

TEST(Config, TlsPair) {
  auto r = parse("[http]\ntls_cert = \"c.pem\"\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_NE(r.problems[0].message.find("both set or both empty"), std::string::npos) << r.problems[0].message;

  r = parse("[http]\ntls_key = \"k.pem\"\ntls_cert = \"\"\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_NE(r.problems[0].message.find("only http.tls_key is set"), std::string::npos) << r.problems[0].message;

  EXPECT_TRUE(parse("[http]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n", "f").ok());
  EXPECT_TRUE(parse("[http]\ntls_cert = \"\"\ntls_key = \"\"\n", "f").ok());

  // A wrongly typed half is reported once, as a type problem.
  r = parse("[http]\ntls_cert = \"c.pem\"\ntls_key = 1\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "http.tls_key must be a string, got integer");
}

TEST(Config, LogModules) {
  auto r = parse(R"([log]
level = "warn"

[log.modules]
http = "debug"
storage = "off"
"sip.transport" = "error"
)",
                 "f");
  ASSERT_TRUE(r.ok()) << all_problems(r);
  EXPECT_EQ(r.cfg.log.level, "warn");
  const std::map<std::string, std::string> want = {
      {"http", "debug"}, {"storage", "off"}, {"sip.transport", "error"}};
  EXPECT_EQ(r.cfg.log.modules, want);

  r = parse("[log.modules]\nhttp = \"loud\"\nws = 3\nauth = \"info\"\n", "f");
  ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "log.modules.http must be one of debug|info|warn|error|off, got \"loud\"");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.problems[1].message, "log.modules.ws must be a string, got integer");
  EXPECT_EQ(r.problems[1].line, 3u);
  EXPECT_EQ(r.cfg.log.modules.at("auth"), "info");

  r = parse("[log]\nmodules = \"debug\"\n", "f");
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].message, "log.modules must be a table, got string");
}

TEST(Config, MissingFile) {
  const std::string path = ::testing::TempDir() + "hotline_config_test_does_not_exist.toml";
  auto r = load_file(path);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].file, path);
  EXPECT_EQ(r.problems[0].line, 0u);
  EXPECT_NE(r.problems[0].message.find(path), std::string::npos) << r.problems[0].message;
  EXPECT_NE(r.problems[0].message.find("No such file or directory"), std::string::npos) << r.problems[0].message;
  expect_same(r.cfg, config{});

  r = load_file(::testing::TempDir());  // a directory cannot be read as a file
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].line, 0u);
}

TEST(Config, LoadFileReportsFileName) {
  temp_file f("[sip]\nport = 99999\n");
  auto r = load_file(f.path);
  ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
  EXPECT_EQ(r.problems[0].to_string(), f.path + ":2:8: sip.port must be between 0 and 65535, got 99999");
}
