#include "api/sip/phones.hpp"

#include <boost/json.hpp>

#include "storage/record.hpp"

namespace hotline::phones {
namespace json = boost::json;

std::string encode(const account& a) {
  json::array codecs;
  for (const auto& c : a.codecs) codecs.emplace_back(c);
  return storage::encode_record({{"user", a.user},
                                 {"display_name", a.display_name},
                                 {"realm", a.realm},
                                 {"ha1_md5", a.ha1_md5},
                                 {"ha1_sha256", a.ha1_sha256},
                                 {"codecs", std::move(codecs)},
                                 {"srtp", a.srtp}},
                                1);
}

std::optional<account> decode(std::string_view bytes) {
  auto o = storage::decode_record(bytes);
  if (!o) return std::nullopt;
  account a;
  auto text = [&](const char* k) -> std::string {
    auto* v = o->if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  a.user = text("user");
  a.display_name = text("display_name");
  a.realm = text("realm");
  a.ha1_md5 = text("ha1_md5");
  a.ha1_sha256 = text("ha1_sha256");
  a.srtp = text("srtp");
  if (auto* c = o->if_contains("codecs"); c && c->is_array())
    for (const auto& v : c->as_array())
      if (v.is_string()) a.codecs.emplace_back(v.as_string());
  if (a.user.empty() || a.ha1_md5.empty()) return std::nullopt;
  return a;
}

std::error_code save(storage::env& env, const account& a) {
  storage::write_batch b;
  b.put(storage::table::sip_phones, a.user, encode(a));
  return env.commit(std::span(&b, 1)).front();
}

std::error_code remove(storage::env& env, std::string_view user) {
  if (!find(env, user)) return std::make_error_code(std::errc::no_such_file_or_directory);
  storage::write_batch b;
  b.erase(storage::table::sip_phones, std::string(user));
  return env.commit(std::span(&b, 1)).front();
}

std::optional<account> find(const storage::env& env, std::string_view user) {
  auto txn = env.read();
  auto v = txn.get(storage::table::sip_phones, user);
  if (!v) return std::nullopt;
  return decode(*v);
}

std::vector<account> list(const storage::env& env) {
  std::vector<account> out;
  auto txn = env.read();
  txn.scan(storage::table::sip_phones, "", "", [&](std::string_view, std::string_view v) {
    if (auto a = decode(v)) out.push_back(std::move(*a));
    return true;
  });
  return out;
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

std::optional<std::vector<std::string>> parse_codecs(std::string_view text, std::string* error) {
  std::vector<std::string> out = split_list(text);
  for (const std::string& item : out) {
    if (item != "opus" && item != "PCMA" && item != "PCMU") {
      if (error) *error = "unknown codec '" + item + "' (known: opus, PCMA, PCMU)";
      return std::nullopt;
    }
  }
  if (out.empty()) {
    if (error) *error = "no codec given";
    return std::nullopt;
  }
  return out;
}

std::optional<sdp::srtp_policy> parse_srtp(std::string_view text) {
  if (text == "off") return sdp::srtp_policy::off;
  if (text == "optional") return sdp::srtp_policy::optional;
  if (text == "required") return sdp::srtp_policy::required;
  return std::nullopt;
}

std::optional<sdp::endpoint_policy> phone_credentials::policy(std::string_view username) const {
  auto a = phones::find(env_, username);
  if (!a || (a->codecs.empty() && a->srtp.empty())) return std::nullopt;
  sdp::endpoint_policy p;
  if (!a->codecs.empty()) p.codec_preference = a->codecs;
  p.srtp = parse_srtp(a->srtp).value_or(sdp::srtp_policy::optional);
  return p;
}

std::optional<sip::digest::stored_credentials> phone_credentials::find(std::string_view username) const {
  auto a = phones::find(env_, username);
  if (!a) return std::nullopt;
  return sip::digest::stored_credentials{a->user, a->realm, a->ha1_md5, a->ha1_sha256};
}

}  // namespace hotline::phones
