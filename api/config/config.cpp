#include "api/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

// The only translation unit that sees toml++ (it is header-only and heavy).
#include <toml++/toml.h>

namespace hotline::config {

namespace {

using namespace std::string_view_literals;

// ---------------------------------------------------------------------------------
// Schema: every section and key, its type, its limits and its documentation. Both
// `parse` (validation, did-you-mean) and `defaults_toml` (the commented document)
// are driven by it, so the two cannot drift apart.
// ---------------------------------------------------------------------------------

enum class kind { text, integer, level, level_map };

constexpr std::string_view level_names[] = {"debug", "info", "warn", "error", "off"};
constexpr std::string_view level_list = "debug|info|warn|error|off";

struct field {
  std::string_view key;
  kind type = kind::text;
  std::string_view help;  // comment, '\n' separates lines
  // kind::text
  bool non_empty = false;
  std::string& (*text)(config&) = nullptr;
  // kind::integer
  int64_t min = 0;
  int64_t max = 0;
  std::string_view range_note;  // e.g. "1 KiB-64 MiB", added to range messages
  int64_t (*get)(const config&) = nullptr;
  void (*set)(config&, int64_t) = nullptr;
  // kind::level_map
  std::map<std::string, std::string>& (*levels)(config&) = nullptr;
};

struct section {
  std::string_view name;
  std::string_view help;
  std::vector<field> fields;
};

template <auto Sec, auto Mem>
std::string& text_ref(config& c) {
  return (c.*Sec).*Mem;
}

template <auto Sec, auto Mem>
int64_t int_get(const config& c) {
  return static_cast<int64_t>((c.*Sec).*Mem);
}

template <auto Sec, auto Mem>
void int_set(config& c, int64_t v) {
  auto& f = (c.*Sec).*Mem;
  f = static_cast<std::remove_reference_t<decltype(f)>>(v);
}

template <auto Sec, auto Mem>
std::map<std::string, std::string>& map_ref(config& c) {
  return (c.*Sec).*Mem;
}

template <auto Sec, auto Mem>
field text_field(std::string_view key, std::string_view help, bool non_empty = false) {
  field f;
  f.key = key;
  f.type = kind::text;
  f.help = help;
  f.non_empty = non_empty;
  f.text = &text_ref<Sec, Mem>;
  return f;
}

template <auto Sec, auto Mem>
field level_field(std::string_view key, std::string_view help) {
  field f = text_field<Sec, Mem>(key, help);
  f.type = kind::level;
  return f;
}

template <auto Sec, auto Mem>
field int_field(std::string_view key, std::string_view help, int64_t min, int64_t max,
                std::string_view range_note = {}) {
  field f;
  f.key = key;
  f.type = kind::integer;
  f.help = help;
  f.min = min;
  f.max = max;
  f.range_note = range_note;
  f.get = &int_get<Sec, Mem>;
  f.set = &int_set<Sec, Mem>;
  return f;
}

template <auto Sec, auto Mem>
field level_map_field(std::string_view key, std::string_view help) {
  field f;
  f.key = key;
  f.type = kind::level_map;
  f.help = help;
  f.levels = &map_ref<Sec, Mem>;
  return f;
}

constexpr int64_t KiB = 1024;
constexpr int64_t MiB = 1024 * KiB;

const std::vector<section>& schema() {
  static const std::vector<section> s = [] {
    using c = config;
    std::vector<section> v;
    v.push_back({"server", "This node.",
                 {
                     text_field<&c::server, &server_section::data_dir>(
                         "data_dir",
                         "Directory for the LMDB environment, recordings, prompts and the search index.\n"
                         "A relative path is relative to the working directory. Must not be empty.",
                         true),
                     text_field<&c::server, &server_section::site>(
                         "site", "This node's site id; users see the data of their own site."),
                     text_field<&c::server, &server_section::site_name>(
                         "site_name", "Display name of the site, shown in the console."),
                     text_field<&c::server, &server_section::city>(
                         "city", "City this site serves; its knowledge-base entries rank above the province's."),
                 }});
    v.push_back({"http", "The HTTP and WebSocket server (REST API, console, live events).",
                 {
                     text_field<&c::http, &http_section::listen>(
                         "listen", "Address to bind; 0.0.0.0 = every IPv4 interface. Must not be empty.", true),
                     int_field<&c::http, &http_section::port>("port", "TCP port (0 = any free port, printed at start).", 0, 65535),
                     int_field<&c::http, &http_section::body_limit>(
                         "body_limit",
                         "Largest request body in bytes; larger bodies get 413 (1 KiB-64 MiB).",
                         1 * KiB, 64 * MiB, "1 KiB-64 MiB"),
                     int_field<&c::http, &http_section::request_timeout_s>(
                         "request_timeout_s", "Read/write timeout per request, in seconds (1-3600).", 1, 3600),
                     int_field<&c::http, &http_section::ws_message_limit>(
                         "ws_message_limit",
                         "Largest WebSocket message a client may send, in bytes (1 KiB-16 MiB).", 1 * KiB,
                         16 * MiB, "1 KiB-16 MiB"),
                     int_field<&c::http, &http_section::ws_queue_limit>(
                         "ws_queue_limit",
                         "Frames queued to one WebSocket client before it is dropped as too slow (1-100000).",
                         1, 100000),
                     text_field<&c::http, &http_section::tls_cert>(
                         "tls_cert",
                         "PEM certificate file. Set together with tls_key to serve https/wss on the same\n"
                         "port; leave both empty for plain http/ws."),
                     text_field<&c::http, &http_section::tls_key>(
                         "tls_key", "PEM private key file for tls_cert (both set or both empty)."),
                     text_field<&c::http, &http_section::web_root>(
                         "web_root", "Directory to serve the web console from; empty = the console embedded in\n"
                                     "the binary."),
                 }});
    v.push_back({"sip", "The SIP listener.",
                 {
                     text_field<&c::sip, &sip_section::listen>(
                         "listen", "Addresses to bind, comma-separated; 0.0.0.0 = every IPv4 interface,\n"
                                   ":: = every IPv6 interface (\"0.0.0.0,::\" for both). Must not be empty.", true),
                     int_field<&c::sip, &sip_section::port>("port", "UDP and TCP port (0 = any free port).", 0, 65535),
                     int_field<&c::sip, &sip_section::enabled>("enabled", "1 = run the SIP edge, 0 = HTTP only.", 0, 1),
                     int_field<&c::sip, &sip_section::tcp>("tcp", "1 = listen on TCP as well as UDP, 0 = UDP only.", 0, 1),
                     text_field<&c::sip, &sip_section::advertise>(
                         "advertise", "Address put in Via and Contact; empty = the listen address, or the\n"
                                      "host's first address when listening on a wildcard."),
                     text_field<&c::sip, &sip_section::realm>("realm", "Digest realm of the registrar.", true),
                     text_field<&c::sip, &sip_section::digest_algorithms>(
                         "digest_algorithms",
                         "Digest challenges in order of preference, e.g. \"SHA-256,MD5\" (RFC 8760).\n"
                         "MD5 alone suits the most phones: some read only the first challenge, and\n"
                         "baresip 1.0 refuses to register when any challenge is SHA-256.",
                         true),
                     int_field<&c::sip, &sip_section::max_calls>(
                         "max_calls", "Calls at once; new INVITEs above it get 503 + Retry-After (1-1000000).", 1,
                         1000000),
                     int_field<&c::sip, &sip_section::max_cpu_percent>(
                         "max_cpu_percent", "SIP-thread CPU above which new INVITEs get 503 (10-100).", 10, 100),
                     text_field<&c::sip, &sip_section::trunk_allow>(
                         "trunk_allow", "Comma-separated IPs or CIDRs of carrier trunks/gateways allowed to send\n"
                                        "INVITEs without registering. Everyone else must be a registered phone."),
                     text_field<&c::sip, &sip_section::trunk_codecs>(
                         "trunk_codecs", "Codec preference for trunk calls, comma-separated (opus, PCMA, PCMU).", true),
                     text_field<&c::sip, &sip_section::phone_codecs>(
                         "phone_codecs", "Default codec preference for agents' phones (each phone may override).",
                         true),
                     text_field<&c::sip, &sip_section::srtp>(
                         "srtp", "SRTP for trunk calls: off | optional (used when offered) | required.", true),
                 }});
    v.push_back({"media", "The media engine: RTP/SRTP ports and threads.",
                 {
                     text_field<&c::media, &media_section::bind>("bind", "IPv4 address the RTP sockets bind to.", true),
                     int_field<&c::media, &media_section::port_min>("port_min", "Lowest RTP port (even).", 1024, 65534),
                     int_field<&c::media, &media_section::port_max>("port_max", "Highest RTP port.", 1025, 65535),
                     int_field<&c::media, &media_section::threads>(
                         "threads", "Media threads, each with its own calls and 20 ms tick (1-64).", 1, 64),
                     int_field<&c::media, &media_section::opus_complexity>(
                         "opus_complexity", "Opus encoder complexity (0-10) of legs carrying wideband audio.", 0, 10),
                     int_field<&c::media, &media_section::opus_narrowband_complexity>(
                         "opus_narrowband_complexity",
                         "Opus encoder complexity (0-10) of legs carrying a G.711 caller's 4 kHz (CELT at\n"
                         "40 kbit/s): 0 sounds as good there as 10 for a third of the CPU\n"
                         "(docs/PERFORMANCE.md, speech probe).",
                         0, 10),
                     int_field<&c::media, &media_section::io_uring>(
                         "io_uring",
                         "1 = RTP sockets through io_uring (datagrams read every 5 ms with their kernel\n"
                         "arrival times, sends submitted together: less CPU per packet), falling back to\n"
                         "epoll where the kernel or a seccomp profile refuses it; 0 = epoll.",
                         0, 1),
                 }});
    v.push_back({"calls", "Calls, agents and queues.",
                 {
                     int_field<&c::calls, &calls_section::enabled>(
                         "enabled", "1 = answer calls to the IVR numbers; 0 = registrar only (calls get 480).", 0, 1),
                     text_field<&c::calls, &calls_section::ivr_file>(
                         "ivr_file", "JSON IVR tree (docs/calls.md); empty = the embedded 12333 menu."),
                     text_field<&c::calls, &calls_section::agents_file>(
                         "agents_file", "JSON agent roster (docs/calls.md); empty = none."),
                     text_field<&c::calls, &calls_section::queues_file>(
                         "queues_file", "JSON queue settings: strategy, hours, overflow, alarms (docs/calls.md);\n"
                                        "empty = defaults for every queue the IVR names."),
                     int_field<&c::calls, &calls_section::record>(
                         "record", "1 = record every bridged call (N-42) in data_dir/recordings.", 0, 1),
                     int_field<&c::calls, &calls_section::record_complexity>(
                         "record_complexity",
                         "Opus encoder complexity of recordings (0-10, 16 kbit/s a side). 1 costs ~0.15-0.3 % of\n"
                         "a core per recorded call; 4 twice that for little more (docs/PERFORMANCE.md).",
                         0, 10),
                     int_field<&c::calls, &calls_section::survey_timeout_s>(
                         "survey_timeout_s", "Seconds the caller has to press a survey key (N-16, 1-60).", 1, 60),
                     int_field<&c::calls, &calls_section::announce_interval_s>(
                         "announce_interval_s", "Seconds between queue position announcements (N-18, 10-600).", 10,
                         600),
                     text_field<&c::calls, &calls_section::callback_uri>(
                         "callback_uri", "Where callbacks are dialled (N-17): a SIP URI with {number}, e.g.\n"
                                         "\"sip:{number}@192.0.2.7:5060\" (the trunk gateway); empty = no callbacks."),
                     text_field<&c::calls, &calls_section::callback_caller_id>(
                         "callback_caller_id", "The number a called-back citizen sees (From user)."),
                 }});
    v.push_back({"runtime", "The actor runtime.",
                 {
                     int_field<&c::runtime, &runtime_section::workers>(
                         "workers", "Scheduler threads; 0 = one per CPU core (0-256).", 0, 256),
                 }});
    v.push_back({"storage", "The LMDB storage environment in server.data_dir.",
                 {
                     int_field<&c::storage, &storage_section::initial_map_mb>(
                         "initial_map_mb",
                         "Initial map size in MiB; it grows by doubling when full (1-1048576).", 1, 1048576),
                 }});
    v.push_back({"auth", "Logins and password storage.",
                 {
                     int_field<&c::auth, &auth_section::session_ttl_minutes>(
                         "session_ttl_minutes", "Lifetime of a login session, in minutes (1-43200 = 30 days).",
                         1, 43200),
                     int_field<&c::auth, &auth_section::lockout_after>(
                         "lockout_after", "Consecutive failed logins that lock an account (1-100).", 1, 100),
                     int_field<&c::auth, &auth_section::lockout_minutes>(
                         "lockout_minutes",
                         "How long a locked account stays locked, in minutes (1-10080 = 7 days).", 1, 10080),
                     // 100000 is the sensible floor; 1000 is accepted so tests can hash quickly.
                     int_field<&c::auth, &auth_section::kdf_iterations>(
                         "kdf_iterations",
                         "PBKDF2-SHA256 iterations for password hashes; 600000 is the OWASP 2023\n"
                         "minimum. Accepted: 1000-10000000; below 100000 is meant for tests only.",
                         1000, 10000000),
                 }});
    v.push_back({"log", "Logging.",
                 {
                     level_field<&c::log, &log_section::level>(
                         "level", "Default level: debug | info | warn | error | off."),
                     level_map_field<&c::log, &log_section::modules>(
                         "modules", "Per-module levels that override log.level, e.g. http = \"debug\"."),
                 }});
    v.push_back({"metrics", "The Prometheus metrics endpoint.",
                 {
                     text_field<&c::metrics, &metrics_section::token>(
                         "token", "Bearer token Prometheus must send; empty = only loopback scrapes are allowed."),
                 }});
    return v;
  }();
  return s;
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

bool is_bare_key(std::string_view k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-';
  });
}

// A TOML basic string, escaped.
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
          out += buf;
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
  return out;
}

std::string key_text(std::string_view k) { return is_bare_key(k) ? std::string(k) : quoted(k); }

std::string join(std::string_view parent, std::string_view k) {
  std::string out;
  if (!parent.empty()) {
    out += parent;
    out += '.';
  }
  out += key_text(k);
  return out;
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

bool is_level(std::string_view s) {
  return std::find(std::begin(level_names), std::end(level_names), s) != std::end(level_names);
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions,
// so "prot" is one edit from "port").
size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> d((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> size_t& { return d[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i) at(i, 0) = i;
  for (size_t j = 0; j <= m; ++j) at(0, j) = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) best = std::min(best, at(i - 2, j - 2) + 1);
      at(i, j) = best;
    }
  }
  return at(n, m);
}

// The closest candidate within two edits (one for names of three characters or
// fewer, so "foo" does not suggest "log"); empty if none.
std::string_view closest(std::string_view k, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = 3;
  for (auto c : candidates) {
    size_t limit = c.size() <= 3 ? 1 : 2;
    size_t dist = edit_distance(k, c);
    if (dist <= limit && dist < best_d) {
      best = c;
      best_d = dist;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------
// The walk over a parsed document
// ---------------------------------------------------------------------------------

class walker {
 public:
  walker(const std::string& file, load_result& r) : file_(file), r_(r) {}

  void document(const toml::table& root) {
    std::vector<std::string_view> names;
    for (const auto& s : schema()) names.push_back(s.name);
    for (auto&& [k, node] : root) {
      auto it = std::find_if(schema().begin(), schema().end(), [&](const section& s) { return s.name == k.str(); });
      if (it == schema().end()) {
        unknown("", k, node, names);
        continue;
      }
      const auto* t = node.as_table();
      if (!t) {
        wrong_type(std::string(it->name), node, "a table");
        continue;
      }
      walk_section(*it, *t);
    }
  }

 private:
  void add(const toml::source_region& where, std::string message) {
    problem p;
    p.file = file_;
    p.line = where.begin.line;
    p.column = where.begin.column;
    p.message = std::move(message);
    r_.problems.push_back(std::move(p));
  }

  void unknown(std::string_view parent, const toml::key& k, const toml::node& node,
               const std::vector<std::string_view>& candidates) {
    std::string msg = "unknown key '" + join(parent, k.str()) + "'";
    if (auto near = closest(k.str(), candidates); !near.empty())
      msg += " \u2014 did you mean '" + join(parent, near) + "'?";
    // Point at the key itself; fall back to the value for keys without a position.
    add(k.source().begin ? k.source() : node.source(), std::move(msg));
  }

  void wrong_type(const std::string& path, const toml::node& node, std::string_view expected) {
    add(node.source(), path + " must be " + std::string(expected) + ", got " + std::string(type_name(node)));
  }

  void walk_section(const section& sec, const toml::table& t) {
    std::vector<std::string_view> names;
    for (const auto& f : sec.fields) names.push_back(f.key);
    const toml::node* cert = nullptr;
    const toml::node* key = nullptr;
    bool tls_bad = false;
    for (auto&& [k, node] : t) {
      auto it = std::find_if(sec.fields.begin(), sec.fields.end(), [&](const field& f) { return f.key == k.str(); });
      if (it == sec.fields.end()) {
        unknown(sec.name, k, node, names);
        continue;
      }
      bool ok = apply(*it, join(sec.name, it->key), node);
      if (sec.name == "http"sv && (it->key == "tls_cert"sv || it->key == "tls_key"sv)) {
        (it->key == "tls_cert"sv ? cert : key) = &node;
        tls_bad |= !ok;
      }
    }
    if (sec.name == "http"sv && !tls_bad && r_.cfg.http.tls_cert.empty() != r_.cfg.http.tls_key.empty()) {
      // The non-empty one came from this file (the defaults are both empty).
      const bool has_cert = !r_.cfg.http.tls_cert.empty();
      const toml::node* where = has_cert ? cert : key;
      add(where ? where->source() : t.source(),
          std::string("http.tls_cert and http.tls_key must be both set or both empty (only ") +
              (has_cert ? "http.tls_cert" : "http.tls_key") + " is set)");
    }
  }

  // Applies one value to the config; false (with a problem added) if it is unusable.
  bool apply(const field& f, const std::string& path, const toml::node& node) {
    switch (f.type) {
      case kind::text: {
        const auto* s = node.as_string();
        if (!s) return wrong_type(path, node, "a string"), false;
        if (f.non_empty && s->get().empty()) return add(node.source(), path + " must not be empty"), false;
        f.text(r_.cfg) = s->get();
        return true;
      }
      case kind::level: {
        const auto* s = node.as_string();
        if (!s) return wrong_type(path, node, "a string"), false;
        if (!is_level(s->get())) return bad_level(path, node, s->get()), false;
        f.text(r_.cfg) = s->get();
        return true;
      }
      case kind::integer: {
        const auto* i = node.as_integer();
        if (!i) return wrong_type(path, node, "an integer"), false;
        const int64_t v = i->get();
        if (v < f.min || v > f.max) {
          std::string msg = path + " must be between " + std::to_string(f.min) + " and " + std::to_string(f.max);
          if (!f.range_note.empty()) msg += " (" + std::string(f.range_note) + ")";
          add(node.source(), msg + ", got " + std::to_string(v));
          return false;
        }
        f.set(r_.cfg, v);
        return true;
      }
      case kind::level_map: {
        const auto* t = node.as_table();
        if (!t) return wrong_type(path, node, "a table"), false;
        bool ok = true;
        auto& levels = f.levels(r_.cfg);
        for (auto&& [k, v] : *t) {
          const std::string sub = join(path, k.str());
          const auto* s = v.as_string();
          if (!s) {
            wrong_type(sub, v, "a string");
            ok = false;
          } else if (!is_level(s->get())) {
            bad_level(sub, v, s->get());
            ok = false;
          } else {
            levels.insert_or_assign(std::string(k.str()), s->get());
          }
        }
        return ok;
      }
    }
    return false;
  }

  void bad_level(const std::string& path, const toml::node& node, const std::string& got) {
    add(node.source(), path + " must be one of " + std::string(level_list) + ", got " + quoted(got));
  }

  const std::string& file_;
  load_result& r_;
};

void comment(std::string& out, std::string_view help) {
  while (!help.empty()) {
    auto nl = help.find('\n');
    out += "# ";
    out += help.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    help.remove_prefix(nl + 1);
  }
}

}  // namespace

std::string problem::to_string() const {
  if (line == 0) return file + ": " + message;  // not about a position (unreadable file)
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

load_result parse(std::string_view toml_text, const std::string& file) {
  load_result r;
  try {
#if TOML_EXCEPTIONS
    toml::table root;
    try {
      root = toml::parse(toml_text, std::string_view(file));
    } catch (const toml::parse_error& err) {
      problem p;
      p.file = file;
      p.line = err.source().begin.line;
      p.column = err.source().begin.column;
      p.message = std::string(err.description());
      r.problems.push_back(std::move(p));
      return r;
    }
#else
    toml::parse_result parsed = toml::parse(toml_text, std::string_view(file));
    if (!parsed) {
      const toml::parse_error& err = parsed.error();
      problem p;
      p.file = file;
      p.line = err.source().begin.line;
      p.column = err.source().begin.column;
      p.message = std::string(err.description());
      r.problems.push_back(std::move(p));
      return r;
    }
    toml::table root = std::move(parsed).table();
#endif
    walker(file, r).document(root);
    // toml++ tables are ordered by key; report in file order instead.
    std::stable_sort(r.problems.begin(), r.problems.end(), [](const problem& a, const problem& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
  } catch (const std::exception& e) {
    r.problems.push_back(problem{file, 0, 0, std::string("cannot parse configuration: ") + e.what()});
  }
  return r;
}

load_result load_file(const std::string& path) {
  std::string text;
  int err = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    err = errno;
  } else {
    char buf[64 * 1024];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    if (std::ferror(f)) err = errno ? errno : EIO;
    std::fclose(f);
  }
  if (err != 0) {
    load_result r;
    r.problems.push_back(problem{path, 0, 0, "cannot read '" + path + "': " + std::strerror(err)});
    return r;
  }
  return parse(text, path);
}

std::string defaults_toml() {
  config d;
  std::string out;
  out +=
      "# Hotline configuration: the built-in defaults (`hotline config-defaults`).\n"
      "# Every key is optional; a config file (`hotline serve --config FILE`) only needs\n"
      "# the keys it changes. Unknown keys and bad values stop the server from starting.\n";
  for (const auto& sec : schema()) {
    out += '\n';
    comment(out, sec.help);
    out += '[';
    out += sec.name;
    out += "]\n";
    for (const auto& f : sec.fields) {
      if (f.type == kind::level_map) continue;  // a sub-table: must follow the plain keys
      comment(out, f.help);
      out += key_text(f.key);
      out += " = ";
      if (f.type == kind::integer)
        out += std::to_string(f.get(d));
      else
        out += quoted(f.text(d));
      out += '\n';
    }
    for (const auto& f : sec.fields) {
      if (f.type != kind::level_map) continue;
      out += '\n';
      comment(out, f.help);
      out += '[';
      out += sec.name;
      out += '.';
      out += key_text(f.key);
      out += "]\n";
      const auto& levels = f.levels(d);
      if (levels.empty()) out += "# http = \"debug\"\n";
      for (const auto& [k, v] : levels) out += key_text(k) + " = " + quoted(v) + "\n";
    }
  }
  return out;
}

}  // namespace hotline::config
