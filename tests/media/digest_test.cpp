// Digest authentication (media/sip/digest.hpp): the RFCs' worked examples, SIP REGISTER
// vectors computed independently (python3 hashlib/hmac), the header parsers on hostile
// input, stateless nonces, and every verify() outcome. A disabled benchmark at the end.
#include "media/sip/digest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace hotline::sip::digest {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

// ---- shared fixtures -------------------------------------------------------------------

std::array<std::byte, 32> test_secret() {
  std::array<std::byte, 32> s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::byte>(i);  // 00 01 .. 1f
  return s;
}

constexpr std::array<std::byte, 8> test_random = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                                  std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};

const system_clock::time_point t0 = system_clock::time_point(1700000000s);

// python3: base64url(pack(">Q", 1700000000) + bytes(range(1, 9)) +
//                    hmac(bytes(range(32)), that + b"hotline", sha256)[:16]), unpadded
constexpr std::string_view pinned_nonce = "AAAAAGVT8QABAgMEBQYHCBgabaPTj0Fisqt7ZEMmMwY";

// The registrar's view: one phone account, 8001 in realm "hotline".
struct registrar_side : ::testing::Test {
  std::array<std::byte, 32> secret = test_secret();
  nonce_issuer nonces{secret};
  stored_credentials account = make_credentials("8001", "hotline", "agent-secret");

  // What a phone sends back for a challenge carrying `nonce`.
  credentials answer(algorithm alg, std::string_view nonce, std::string_view password = "agent-secret",
                     std::string_view method = "REGISTER") const {
    credentials c;
    c.username = "8001";
    c.realm = "hotline";
    c.nonce = nonce;
    c.uri = "sip:192.0.2.1:5060";
    c.alg = alg;
    c.qop = "auth";
    c.nc = "00000001";
    c.cnonce = "6fd1a2c3";
    c.response = compute_response(alg, ha1(alg, c.username, c.realm, password), c.nonce, c.nc, c.cnonce, c.qop,
                                  method, c.uri);
    return c;
  }
};

// ---- RFC worked examples -----------------------------------------------------------------

// RFC 2617 §3.5 (MD5, qop=auth). Password "Circle Of Life", capital O.
TEST(digest_rfc, rfc2617_section_3_5_response) {
  const std::string h1 = ha1(algorithm::md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(compute_response(algorithm::md5, h1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
                             "GET", "/dir/index.html"),
            "6629fae49393a05397450978507c4ef1");
}

// The same example's headers as the RFC prints them: folded over lines, qop and nc
// unquoted, the challenge offering "auth,auth-int".
TEST(digest_rfc, rfc2617_section_3_5_headers) {
  std::string error;
  auto ch = parse_challenge(
      "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n"
      " nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
      &error);
  ASSERT_TRUE(ch) << error;
  EXPECT_EQ(ch->realm, "testrealm@host.com");
  EXPECT_EQ(ch->qop, "auth");
  EXPECT_EQ(ch->alg, algorithm::md5);  // absent means MD5
  EXPECT_EQ(ch->opaque, "5ccc069c403ebaf9f0171e9517f40e41");
  EXPECT_FALSE(ch->stale);

  auto c = parse_authorization(
      "Digest username=\"Mufasa\",\r\n                 realm=\"testrealm@host.com\",\r\n"
      "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
      "                 uri=\"/dir/index.html\",\r\n                 qop=auth,\r\n"
      "                 nc=00000001,\r\n                 cnonce=\"0a4f113b\",\r\n"
      "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
      "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
      &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->username, "Mufasa");
  EXPECT_EQ(c->uri, "/dir/index.html");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->cnonce, "0a4f113b");
  EXPECT_EQ(c->algorithm_name, "");
  EXPECT_EQ(c->alg, algorithm::md5);
  EXPECT_EQ(compute_response(c->alg, ha1(c->alg, c->username, c->realm, "Circle Of Life"), c->nonce, c->nc, c->cnonce,
                             c->qop, "GET", c->uri),
            c->response);
}

// RFC 7616 §3.9.1, the example RFC 8760 points SIP at: one request answered with SHA-256
// and with MD5. Password "Circle of Life", lowercase o (verified erratum 4495).
TEST(digest_rfc, rfc7616_section_3_9_1_responses) {
  const std::string_view nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const std::string_view cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  auto response = [&](algorithm alg) {
    return compute_response(alg, ha1(alg, "Mufasa", "http-auth@example.org", "Circle of Life"), nonce, "00000001",
                            cnonce, "auth", "GET", "/dir/index.html");
  };
  EXPECT_EQ(response(algorithm::md5), "8ca523f5e9506fed4657c9700eebdbec");
  EXPECT_EQ(response(algorithm::sha256), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// The client side on the RFC 7616 challenges: parse, answer, format, and the server's
// parser reads back what the RFC's Authorization header carries.
TEST(digest_rfc, rfc7616_client_answers_the_rfc_challenges) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
      {"MD5", "8ca523f5e9506fed4657c9700eebdbec"}};
  for (const auto& [alg_name, expected] : cases) {
    std::string header = "Digest\r\n    realm=\"http-auth@example.org\",\r\n    qop=\"auth, auth-int\",\r\n"
                         "    algorithm=" + std::string(alg_name) +
                         ",\r\n    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
                         "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    std::string error;
    auto ch = parse_challenge(header, &error);
    ASSERT_TRUE(ch) << error;
    EXPECT_EQ(name(ch->alg), alg_name);
    EXPECT_EQ(ch->qop, "auth");

    credentials c;
    c.username = "Mufasa";
    c.realm = ch->realm;
    c.nonce = ch->nonce;
    c.uri = "/dir/index.html";
    c.alg = ch->alg;
    c.opaque = ch->opaque;
    c.qop = ch->qop;
    c.nc = "00000001";
    c.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    c.response = compute_response(c.alg, ha1(c.alg, c.username, c.realm, "Circle of Life"), c.nonce, c.nc, c.cnonce,
                                  c.qop, "GET", c.uri);
    EXPECT_EQ(c.response, expected);

    auto back = parse_authorization(format_authorization(c), &error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->response, expected);
    EXPECT_EQ(back->opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    EXPECT_EQ(back->algorithm_name, alg_name);
    EXPECT_EQ(back->alg, c.alg);
  }
}

// ---- SIP REGISTER vectors (python3 hashlib) ------------------------------------------------

TEST(digest_vectors, ha1_and_stored_credentials) {
  auto s = make_credentials("8001", "hotline", "agent-secret");
  EXPECT_EQ(s.username, "8001");
  EXPECT_EQ(s.realm, "hotline");
  EXPECT_EQ(s.ha1_md5, "d476b3586f2b675678f48ddbef8dd5a8");
  EXPECT_EQ(s.ha1_sha256, "ab0a24a59dc1d47a5c7f8a53ad7a8be03a212b874d84a42b8ef7c400d79868c4");
  EXPECT_EQ(name(algorithm::md5), "MD5");
  EXPECT_EQ(name(algorithm::sha256), "SHA-256");
}

TEST(digest_vectors, register_with_and_without_qop) {
  const std::string_view nonce = "ZQ5c3AAAAAAqKioqKioqKsmUqkH8XrQmZVx7wqN0b2E";
  const std::string_view uri = "sip:192.0.2.1:5060";
  auto s = make_credentials("8001", "hotline", "agent-secret");
  EXPECT_EQ(compute_response(algorithm::md5, s.ha1_md5, nonce, "00000001", "6fd1a2c3", "auth", "REGISTER", uri),
            "ab030576a2dd436a9948e8bce8fcc868");
  EXPECT_EQ(compute_response(algorithm::sha256, s.ha1_sha256, nonce, "00000001", "6fd1a2c3", "auth", "REGISTER", uri),
            "187816f52e83f71d6230376be48432bb7417376cc477f4e3ee44a78211b09503");
  // RFC 2069 style: nc and cnonce take no part.
  EXPECT_EQ(compute_response(algorithm::md5, s.ha1_md5, nonce, "ignored", "ignored", "", "REGISTER", uri),
            "2d6491f10388744648e526674ad38b67");
  EXPECT_EQ(compute_response(algorithm::sha256, s.ha1_sha256, nonce, "", "", "", "REGISTER", uri),
            "3f523d240c06c426a3224475f89d0766553e7aac030a23477bffd6a38e08adf9");
}

// Quoted-string escapes are undone before hashing: the digest covers the value, not its
// spelling. python3: username 'ag"ent\7', realm 'call center', password 'pässword' (UTF-8),
// cnonce 'c,n"once', nc 0000000a.
TEST(digest_vectors, escaped_values_are_hashed_unescaped) {
  for (auto [alg, expected] : {std::pair{algorithm::md5, "5e5346274f780a88477b546f3c353742"},
                               std::pair{algorithm::sha256,
                                         "abc7589f2163c1fcbedca90cb7bf13e8f09beb15be955d5e376e92d14c258289"}}) {
    std::string error;
    auto c = parse_authorization(
        std::string(R"(Digest username="ag\"ent\\7", realm="call center", nonce="n0nce", )") +
            R"(uri="sip:hotline.example", algorithm=)" + std::string(name(alg)) +
            R"(, qop=auth, nc=0000000a, cnonce="c,n\"once", response="x")",
        &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(c->username, "ag\"ent\\7");
    EXPECT_EQ(c->cnonce, "c,n\"once");
    EXPECT_EQ(compute_response(alg, ha1(alg, c->username, c->realm, "p\xc3\xa4ssword"), c->nonce, c->nc, c->cnonce,
                               c->qop, "REGISTER", c->uri),
              expected);
  }
}

// A phone's Authorization header, verbatim, answering our pinned nonce: parse + verify.
TEST_F(registrar_side, phone_header_verifies_for_both_algorithms) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"MD5", "9f4606c44ad29010b2880329b0f5a83d"},
      {"SHA-256", "4a16047d07145fc2eceb2b8cae44d8d057c017b12eec3f0d539c6dbbaf78303a"}};
  for (const auto& [alg_name, response] : cases) {
    std::string header = "Digest username=\"8001\",realm=\"hotline\",nonce=\"" + std::string(pinned_nonce) +
                         "\",uri=\"sip:192.0.2.1:5060\",response=\"" + std::string(response) +
                         "\",algorithm=" + std::string(alg_name) + ",cnonce=\"6fd1a2c3\",qop=auth,nc=00000001";
    std::string error;
    auto c = parse_authorization(header, &error);
    ASSERT_TRUE(c) << error;
    EXPECT_EQ(verify(*c, account, "REGISTER", nonces, t0 + 10s), outcome::ok) << alg_name;
  }
  // No qop (an RFC 2069 phone): still accepted.
  auto c = parse_authorization("Digest username=\"8001\", realm=\"hotline\", nonce=\"" + std::string(pinned_nonce) +
                               "\", uri=\"sip:192.0.2.1:5060\", response=\"77cccdc35f0ebfb455be5895565a8acf\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(verify(*c, account, "REGISTER", nonces, t0), outcome::ok);
}

// ---- parse_authorization -------------------------------------------------------------------

TEST(digest_parse, case_spacing_order_and_unknown_parameters) {
  std::string error;
  auto c = parse_authorization(
      "  digest\tNC=0000000F ,  Response = \"ABCDEF\",URI=\"sip:a@b\",  x-vendor=\"whatever, with comma\",nOnCe=abc,"
      "userhash=false,,  ,CNonce=\"q\", QOP=\"auth\", UserName=\"u\", REALM=\"r\" , Algorithm=\"sha-256\"  ",
      &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->username, "u");
  EXPECT_EQ(c->realm, "r");
  EXPECT_EQ(c->nonce, "abc");
  EXPECT_EQ(c->uri, "sip:a@b");
  EXPECT_EQ(c->response, "ABCDEF");
  EXPECT_EQ(c->alg, algorithm::sha256);  // quoted and lower case: tolerated
  EXPECT_EQ(c->algorithm_name, "sha-256");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->nc, "0000000F");
  EXPECT_EQ(c->cnonce, "q");
}

TEST(digest_parse, escaped_quotes_and_commas_inside_quotes) {
  auto c = parse_authorization(
      R"(Digest username="a\"b,c=d", realm="x\\y", nonce="n, o", uri="sip:u", response="r", opaque="\o\p")");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "a\"b,c=d");
  EXPECT_EQ(c->realm, "x\\y");
  EXPECT_EQ(c->nonce, "n, o");
  EXPECT_EQ(c->opaque, "op");
  // Empty quoted values are values.
  auto e = parse_authorization(R"(Digest username="", realm="", nonce="", uri="", response="")");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->username, "");
}

TEST(digest_parse, missing_required_parameters_are_named) {
  const std::string all[] = {"username=\"u\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:x\"", "response=\"0\""};
  const std::string names[] = {"username", "realm", "nonce", "uri", "response"};
  for (std::size_t skip = 0; skip < 5; ++skip) {
    std::string header = "Digest ";
    for (std::size_t i = 0; i < 5; ++i)
      if (i != skip) header += all[i] + ", ";
    std::string error;
    EXPECT_FALSE(parse_authorization(header, &error));
    EXPECT_EQ(error, "missing " + names[skip]);
  }
}

TEST(digest_parse, duplicates_are_refused_whatever_their_case) {
  std::string error;
  EXPECT_FALSE(parse_authorization(
      R"(Digest username="u", realm="r", nonce="n", uri="u", response="x", Realm="evil")", &error));
  EXPECT_EQ(error, "duplicate parameter realm");
  EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="a", NONCE="b")", &error));
  EXPECT_EQ(error, "duplicate parameter nonce");
}

TEST(digest_parse, other_schemes_are_not_digest) {
  for (std::string_view v : {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "", "   ", "Digestive realm=\"r\"",
                             "Digest=\"x\"", "NTLM", "\xff\xfe"}) {
    std::string error;
    EXPECT_FALSE(parse_authorization(v, &error)) << v;
    EXPECT_EQ(error, "not Digest") << v;
    EXPECT_FALSE(parse_challenge(v, &error)) << v;
  }
  // The scheme alone is Digest, with everything missing.
  std::string error;
  EXPECT_FALSE(parse_authorization("DIGEST", &error));
  EXPECT_EQ(error, "missing username");
}

TEST(digest_parse, unsupported_algorithms_and_qops) {
  const std::string base = R"(Digest username="u", realm="r", nonce="n", uri="sip:x", response="0", )";
  std::string error;
  EXPECT_FALSE(parse_authorization(base + "algorithm=SHA-512-256", &error));
  EXPECT_EQ(error, "unsupported algorithm SHA-512-256");
  EXPECT_FALSE(parse_authorization(base + "algorithm=MD5-sess", &error));
  EXPECT_EQ(error, "unsupported algorithm MD5-sess");
  EXPECT_FALSE(parse_authorization(base + "algorithm=SHA-256-sess", &error));
  EXPECT_EQ(error, "unsupported algorithm SHA-256-sess");
  EXPECT_FALSE(parse_authorization(base + "algorithm=\"\"", &error));
  EXPECT_EQ(error, "unsupported algorithm ");
  // Peer bytes in an error message come out printable and short.
  EXPECT_FALSE(parse_authorization(base + "algorithm=\"\xc3\xa4" + std::string(100, 'A') + "\"", &error));
  EXPECT_EQ(error, "unsupported algorithm ??" + std::string(38, 'A') + "...");

  EXPECT_FALSE(parse_authorization(base + "qop=auth-int, nc=00000001, cnonce=\"c\"", &error));
  EXPECT_EQ(error, "unsupported qop auth-int");
  EXPECT_FALSE(parse_authorization(base + "qop=auth, nc=00000001", &error));
  EXPECT_EQ(error, "qop=auth without cnonce");
  for (std::string nc : {"1", "000000001", "0000000g", "\"\""}) {
    EXPECT_FALSE(parse_authorization(base + "qop=auth, cnonce=\"c\", nc=" + nc, &error)) << nc;
    EXPECT_EQ(error, "nc is not 8 hex digits");
  }
}

TEST(digest_parse, syntax_errors) {
  const std::string ok = R"(Digest username="u", realm="r", nonce="n", uri="sip:x", response="0")";
  ASSERT_TRUE(parse_authorization(ok));
  const std::pair<std::string, std::string> cases[] = {
      {R"(Digest realm="r", username="u)", "unterminated quoted string in username"},
      {R"(Digest username="u, realm="r")", "expected a comma after username"},
      {R"(Digest username="u\)", "unterminated quoted string in username"},
      {"Digest username=\"u\\\r\n\", realm=\"r\"", "unterminated quoted string in username"},
      {R"(Digest username="u" realm="r")", "expected a comma after username"},
      {R"(Digest username=u realm="r")", "expected a comma after username"},
      {R"(Digest username, realm="r")", "parameter username without a value"},
      {R"(Digest username)", "parameter username without a value"},
      {R"(Digest username=, realm="r")", "empty value for username"},
      {R"(Digest username=)", "empty value for username"},
      {"Digest username=\"a\r\nb\"", "control character in username"},
      {std::string("Digest username=\"a\0b\"", 21), "control character in username"},
      {"Digest username=\"a\x7f\"", "control character in username"},
      {"Digest username=\"a\\\x01" "b\"", "control character in username"},  // escaped, still refused
      {"Digest =\"x\"", "unexpected character in parameter list"},
      {"Digest us\xe9r=\"x\"", "parameter us without a value"},
      {"Digest \"quoted\"", "unexpected character in parameter list"},
      {std::string("Digest username=a\0b", 19), "expected a comma after username"},
  };
  for (const auto& [header, why] : cases) {
    std::string error;
    EXPECT_FALSE(parse_authorization(header, &error)) << header;
    EXPECT_EQ(error, why) << header;
  }
  // UTF-8 inside quotes is fine (RFC 3261 qdtext), and the error pointer is optional.
  EXPECT_TRUE(parse_authorization(R"(Digest username="agënt", realm="r", nonce="n", uri="sip:x", response="0")"));
  EXPECT_FALSE(parse_authorization("Digest username=\"u"));
}

TEST(digest_parse, length_and_parameter_count_limits) {
  const std::string head = R"(Digest username="u", realm="r", nonce="n", uri="sip:x", response="0", x=")";
  std::string at_limit = head + std::string(max_header_value - head.size() - 1, 'a') + "\"";
  ASSERT_EQ(at_limit.size(), max_header_value);
  EXPECT_TRUE(parse_authorization(at_limit));
  std::string error;
  EXPECT_FALSE(parse_authorization(at_limit + " ", &error));
  EXPECT_EQ(error, "header too long");
  EXPECT_FALSE(parse_challenge(std::string(1 << 20, 'D'), &error));
  EXPECT_EQ(error, "header too long");

  std::string many = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"0\"";
  for (int i = 0; i < 27; ++i) many += ", p" + std::to_string(i) + "=1";
  EXPECT_TRUE(parse_authorization(many));  // 32 parameters
  EXPECT_FALSE(parse_authorization(many + ", one=more", &error));
  EXPECT_EQ(error, "too many parameters");
}

// Not a fuzzer (tests/fuzz/ has those), but under ASan/UBSan: random bytes and random
// mutations of a valid header never crash, and whatever parses re-formats and re-parses
// to the same credentials.
TEST(digest_parse, garbage_and_mutations_are_handled) {
  std::mt19937_64 rng(20260101);
  const std::string valid = R"(Digest username="8001", realm="hotline", nonce="abc", uri="sip:x", )"
                            R"(response="0123", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="c\"x")";
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 200);
      for (char& ch : input) ch = static_cast<char>(rng());
      if (round % 4 == 0) input = "Digest " + input;
    } else {
      input = valid;
      for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
        std::size_t at = rng() % input.size();
        switch (rng() % 3) {
          case 0: input[at] = static_cast<char>(rng()); break;
          case 1: input.erase(at, 1 + rng() % 5); break;
          default: input.insert(at, 1, "\",\\= \r\n\t"[rng() % 8]); break;
        }
        if (input.empty()) input.push_back('D');  // not `= "D"`: GCC 12 -O3 warns falsely (-Wrestrict)
      }
    }
    std::string error;
    auto c = parse_authorization(input, &error);
    if (!c) {
      EXPECT_FALSE(error.empty());
      EXPECT_TRUE(std::none_of(error.begin(), error.end(), [](char ch) { return ch < 0x20 || ch == 0x7f; }));
      parse_challenge(input, &error);
      continue;
    }
    ++parsed;
    auto again = parse_authorization(format_authorization(*c), &error);
    ASSERT_TRUE(again) << input << " -> " << format_authorization(*c) << ": " << error;
    EXPECT_EQ(again->username, c->username);
    EXPECT_EQ(again->nonce, c->nonce);
    if (!c->qop.empty()) {  // without qop, cnonce is not sent
      EXPECT_EQ(again->cnonce, c->cnonce);
    }
    EXPECT_EQ(again->alg, c->alg);
  }
  EXPECT_GT(parsed, 100);  // the mutations do reach the parts past the syntax
}

// ---- challenges ----------------------------------------------------------------------------

TEST(digest_challenge, parse_variants) {
  std::string error;
  auto c = parse_challenge(R"(digest REALM="hotline", nonce=abc, stale=TRUE, algorithm=sha-256, domain="sip:x")",
                           &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->realm, "hotline");
  EXPECT_EQ(c->nonce, "abc");
  EXPECT_TRUE(c->stale);
  EXPECT_EQ(c->alg, algorithm::sha256);
  EXPECT_EQ(c->qop, "");  // no qop offered: answer RFC 2069 style

  c = parse_challenge(R"(Digest realm="r", nonce="n", stale="false", qop="auth-int , AUTH")");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->stale);
  EXPECT_EQ(c->qop, "auth");

  EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", qop="auth-int")", &error));
  EXPECT_EQ(error, "unsupported qop auth-int");
  EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", qop="authx, auth-int")", &error));
  EXPECT_FALSE(parse_challenge(R"(Digest realm="r")", &error));
  EXPECT_EQ(error, "missing nonce");
  EXPECT_FALSE(parse_challenge(R"(Digest nonce="n")", &error));
  EXPECT_EQ(error, "missing realm");
  EXPECT_FALSE(parse_challenge(R"(Digest realm="r", nonce="n", algorithm=SHA-512-256)", &error));
  EXPECT_EQ(error, "unsupported algorithm SHA-512-256");
}

TEST(digest_challenge, format_is_exact_and_round_trips) {
  challenge c;
  c.realm = "hotline";
  c.nonce = std::string(pinned_nonce);
  c.alg = algorithm::sha256;
  c.qop = "auth";
  EXPECT_EQ(format_challenge(c), "Digest realm=\"hotline\", nonce=\"" + std::string(pinned_nonce) +
                                     "\", algorithm=SHA-256, qop=\"auth\"");
  c.stale = true;
  c.opaque = "o";
  c.alg = algorithm::md5;
  EXPECT_EQ(format_challenge(c), "Digest realm=\"hotline\", nonce=\"" + std::string(pinned_nonce) +
                                     "\", algorithm=MD5, qop=\"auth\", stale=true, opaque=\"o\"");

  c.realm = R"(call "center" \ east)";
  c.opaque = "line\r\nInjected: yes";  // a SIP header cannot carry CR LF: dropped
  auto back = parse_challenge(format_challenge(c));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->realm, c.realm);
  EXPECT_EQ(back->nonce, c.nonce);
  EXPECT_EQ(back->opaque, "lineInjected: yes");
  EXPECT_EQ(back->alg, c.alg);
  EXPECT_EQ(back->qop, "auth");
  EXPECT_TRUE(back->stale);
}

TEST(digest_challenge, format_authorization_is_exact) {
  credentials c;
  c.username = "8001";
  c.realm = "hotline";
  c.nonce = "n";
  c.uri = "sip:192.0.2.1";
  c.response = "abc";
  c.alg = algorithm::sha256;
  c.algorithm_name = "MD5";  // ignored: the response was computed with alg
  EXPECT_EQ(format_authorization(c),
            R"(Digest username="8001", realm="hotline", nonce="n", uri="sip:192.0.2.1", response="abc", )"
            "algorithm=SHA-256");
  c.qop = "auth";
  c.nc = "00000001";
  c.cnonce = "c\"1";
  c.opaque = "op";
  EXPECT_EQ(format_authorization(c),
            R"(Digest username="8001", realm="hotline", nonce="n", uri="sip:192.0.2.1", response="abc", )"
            R"(algorithm=SHA-256, opaque="op", qop=auth, nc=00000001, cnonce="c\"1")");
}

// ---- nonces --------------------------------------------------------------------------------

TEST(digest_nonce, format_is_pinned_to_an_independent_computation) {
  nonce_issuer n(test_secret());
  EXPECT_TRUE(n.usable());
  const std::string nonce = n.issue(t0, test_random, "hotline");
  EXPECT_EQ(nonce, pinned_nonce);
  EXPECT_EQ(nonce.size(), 43u);
  EXPECT_EQ(n.check(nonce, t0, "hotline"), nonce_issuer::verdict::valid);
  // Same time, other random bytes: another nonce, as valid.
  std::array<std::byte, 8> other{};
  EXPECT_NE(n.issue(t0, other, "hotline"), nonce);
  EXPECT_EQ(n.check(n.issue(t0, other, "hotline"), t0, "hotline"), nonce_issuer::verdict::valid);
}

TEST(digest_nonce, age_decides_valid_or_stale) {
  nonce_issuer n(test_secret(), 300s);
  const std::string nonce = n.issue(t0, test_random, "hotline");
  EXPECT_EQ(n.check(nonce, t0 + 300s, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(n.check(nonce, t0 + 300s + 999ms, "hotline"), nonce_issuer::verdict::valid);  // whole seconds
  EXPECT_EQ(n.check(nonce, t0 + 301s, "hotline"), nonce_issuer::verdict::stale);
  EXPECT_EQ(n.check(nonce, t0 + 24h * 365 * 100, "hotline"), nonce_issuer::verdict::stale);
  // The wall clock stepped back after the nonce went out: a minute is tolerated.
  EXPECT_EQ(n.check(nonce, t0 - 60s, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(n.check(nonce, t0 - 61s, "hotline"), nonce_issuer::verdict::stale);
  EXPECT_EQ(n.check(nonce, system_clock::time_point(-1000s), "hotline"), nonce_issuer::verdict::stale);

  nonce_issuer short_lived(test_secret(), 5s);
  EXPECT_EQ(short_lived.check(nonce, t0 + 5s, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(short_lived.check(nonce, t0 + 6s, "hotline"), nonce_issuer::verdict::stale);
}

TEST(digest_nonce, every_changed_character_is_forged) {
  nonce_issuer n(test_secret());
  const std::string nonce = n.issue(t0, test_random, "hotline");
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    const std::size_t at = alphabet.find(nonce[i]);
    for (char replacement : {alphabet[(at + 1) % 64], alphabet[(at + 33) % 64]}) {
      std::string tampered = nonce;
      tampered[i] = replacement;
      EXPECT_EQ(n.check(tampered, t0, "hotline"), nonce_issuer::verdict::forged) << i;
    }
  }
}

TEST(digest_nonce, other_realm_or_secret_is_forged) {
  nonce_issuer n(test_secret());
  const std::string nonce = n.issue(t0, test_random, "hotline");
  EXPECT_EQ(n.check(nonce, t0, "Hotline"), nonce_issuer::verdict::forged);
  EXPECT_EQ(n.check(nonce, t0, "hotline2"), nonce_issuer::verdict::forged);
  EXPECT_EQ(n.check(nonce, t0, ""), nonce_issuer::verdict::forged);
  auto other_secret = test_secret();
  other_secret[31] = std::byte{0xff};
  EXPECT_EQ(nonce_issuer(other_secret).check(nonce, t0, "hotline"), nonce_issuer::verdict::forged);
  // A longer secret is fine, and a different key.
  std::vector<std::byte> long_secret(100, std::byte{9});
  nonce_issuer l(long_secret);
  EXPECT_EQ(l.check(l.issue(t0, test_random, "hotline"), t0, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(l.check(nonce, t0, "hotline"), nonce_issuer::verdict::forged);
}

TEST(digest_nonce, malformed_nonces_are_forged) {
  nonce_issuer n(test_secret());
  const std::string nonce = n.issue(t0, test_random, "hotline");
  std::string plus = nonce, slash = nonce;  // standard base64's alphabet, not ours
  plus[5] = '+';
  slash[5] = '/';
  const std::string cases[] = {"",
                               nonce.substr(0, 42),
                               nonce + "A",
                               nonce + "=",
                               nonce.substr(0, 42) + "=",
                               "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                               plus,
                               slash,
                               std::string(43, 'A'),
                               std::string(43, '\0'),
                               std::string(5000, 'A'),
                               nonce.substr(0, 20) + "\xff" + nonce.substr(21)};
  for (const auto& bad : cases) EXPECT_EQ(n.check(bad, t0, "hotline"), nonce_issuer::verdict::forged) << bad;
  // The last character carries 2 unused bits: only the canonical spelling is ours.
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string non_canonical = nonce;
  non_canonical.back() = alphabet[alphabet.find(nonce.back()) | 1];
  ASSERT_NE(non_canonical, nonce);
  EXPECT_EQ(n.check(non_canonical, t0, "hotline"), nonce_issuer::verdict::forged);
}

TEST(digest_nonce, short_secret_fails_closed) {
  std::array<std::byte, 31> short_secret{};
  nonce_issuer n(short_secret);
  EXPECT_FALSE(n.usable());
  const std::string nonce = n.issue(t0, test_random, "hotline");
  EXPECT_EQ(nonce.size(), 43u);
  EXPECT_EQ(n.check(nonce, t0, "hotline"), nonce_issuer::verdict::forged);
  EXPECT_EQ(n.check(pinned_nonce, t0, "hotline"), nonce_issuer::verdict::forged);
}

TEST(digest_nonce, copies_and_moves_keep_the_key) {
  nonce_issuer original(test_secret(), 10s);
  const std::string nonce = original.issue(t0, test_random, "hotline");
  nonce_issuer copy(original);
  EXPECT_EQ(copy.check(nonce, t0 + 10s, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(copy.check(nonce, t0 + 11s, "hotline"), nonce_issuer::verdict::stale);  // max_age copied too
  std::array<std::byte, 32> other{};
  nonce_issuer assigned(other);
  assigned = copy;
  EXPECT_EQ(assigned.check(nonce, t0, "hotline"), nonce_issuer::verdict::valid);
  nonce_issuer moved(std::move(copy));
  EXPECT_EQ(moved.check(nonce, t0, "hotline"), nonce_issuer::verdict::valid);
  EXPECT_EQ(original.check(nonce, t0, "hotline"), nonce_issuer::verdict::valid);
}

// ---- verify --------------------------------------------------------------------------------

// The whole exchange as the registrar and a phone do it, through the header formats.
TEST_F(registrar_side, ok_through_challenge_and_authorization_headers) {
  for (algorithm alg : {algorithm::md5, algorithm::sha256}) {
    challenge ch;
    ch.realm = "hotline";
    ch.nonce = nonces.issue(t0, test_random, "hotline");
    ch.alg = alg;
    ch.qop = "auth";
    auto seen = parse_challenge(format_challenge(ch));
    ASSERT_TRUE(seen);
    credentials c = answer(seen->alg, seen->nonce);
    std::string error;
    auto received = parse_authorization(format_authorization(c), &error);
    ASSERT_TRUE(received) << error;
    EXPECT_EQ(verify(*received, account, "REGISTER", nonces, t0 + 2s), outcome::ok) << name(alg);
  }
}

TEST_F(registrar_side, wrong_response) {
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  EXPECT_EQ(verify(answer(algorithm::md5, nonce, "wrong"), account, "REGISTER", nonces, t0), outcome::wrong_response);
  EXPECT_EQ(verify(answer(algorithm::sha256, nonce, "wrong"), account, "REGISTER", nonces, t0),
            outcome::wrong_response);
  // Right password, but computed for another method than the request's.
  EXPECT_EQ(verify(answer(algorithm::md5, nonce, "agent-secret", "INVITE"), account, "REGISTER", nonces, t0),
            outcome::wrong_response);

  credentials c = answer(algorithm::sha256, nonce);
  credentials tampered = c;
  tampered.cnonce = "other";  // the response no longer covers what was sent
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::wrong_response);
  tampered = c;
  tampered.response.pop_back();
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::wrong_response);
  tampered = c;
  tampered.response = "";
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::wrong_response);
  tampered = c;
  tampered.response = c.response.substr(0, 32);  // an MD5-sized answer to SHA-256
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::wrong_response);
  // Somebody else's name on this account's digest.
  tampered = c;
  tampered.username = "8002";
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::wrong_response);
  // Hex case is not significant.
  tampered = c;
  std::transform(tampered.response.begin(), tampered.response.end(), tampered.response.begin(),
                 [](char ch) { return static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); });
  EXPECT_EQ(verify(tampered, account, "REGISTER", nonces, t0), outcome::ok);
}

TEST_F(registrar_side, stale_nonce_only_with_the_right_password) {
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  EXPECT_EQ(verify(answer(algorithm::sha256, nonce), account, "REGISTER", nonces, t0 + 301s), outcome::stale_nonce);
  EXPECT_EQ(verify(answer(algorithm::md5, nonce), account, "REGISTER", nonces, t0 + 1h), outcome::stale_nonce);
  // A wrong password is not invited to retry silently.
  EXPECT_EQ(verify(answer(algorithm::md5, nonce, "wrong"), account, "REGISTER", nonces, t0 + 1h),
            outcome::wrong_response);
}

TEST_F(registrar_side, bad_nonce) {
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  std::string forged = nonce;
  forged[10] = forged[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(answer(algorithm::md5, forged), account, "REGISTER", nonces, t0), outcome::bad_nonce);
  EXPECT_EQ(verify(answer(algorithm::md5, "dcd98b7102dd2f0e8b11d0f600bfb0c093"), account, "REGISTER", nonces, t0),
            outcome::bad_nonce);
  // Issued for another realm of ours, replayed in this one.
  EXPECT_EQ(verify(answer(algorithm::md5, nonces.issue(t0, test_random, "other")), account, "REGISTER", nonces, t0),
            outcome::bad_nonce);
  // Issued under another secret (a restarted process with a fresh random secret).
  auto other_secret = test_secret();
  other_secret[0] = std::byte{0x80};
  EXPECT_EQ(verify(answer(algorithm::md5, nonce), account, "REGISTER", nonce_issuer(other_secret), t0),
            outcome::bad_nonce);
}

TEST_F(registrar_side, wrong_realm) {
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  credentials c = answer(algorithm::md5, nonce);
  c.realm = "elsewhere";
  EXPECT_EQ(verify(c, account, "REGISTER", nonces, t0), outcome::wrong_realm);
  c.realm = "Hotline";  // realms compare exactly: they are hashed
  EXPECT_EQ(verify(c, account, "REGISTER", nonces, t0), outcome::wrong_realm);
}

TEST_F(registrar_side, unsupported) {
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  // An account provisioned before SHA-256 existed here.
  stored_credentials md5_only = account;
  md5_only.ha1_sha256.clear();
  EXPECT_EQ(verify(answer(algorithm::sha256, nonce), md5_only, "REGISTER", nonces, t0), outcome::unsupported);
  EXPECT_EQ(verify(answer(algorithm::md5, nonce), md5_only, "REGISTER", nonces, t0), outcome::ok);
  // A damaged HA1 in storage.
  stored_credentials damaged = account;
  damaged.ha1_md5 = "not hex at all, but 32 chars...";
  damaged.ha1_md5.resize(32, '.');
  EXPECT_EQ(verify(answer(algorithm::md5, nonce), damaged, "REGISTER", nonces, t0), outcome::unsupported);
  // An HA1 imported in upper case still works.
  stored_credentials upper = account;
  std::transform(upper.ha1_md5.begin(), upper.ha1_md5.end(), upper.ha1_md5.begin(),
                 [](char ch) { return static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); });
  EXPECT_EQ(verify(answer(algorithm::md5, nonce), upper, "REGISTER", nonces, t0), outcome::ok);
  // Credentials built in code with a qop the parser would have refused.
  credentials c = answer(algorithm::md5, nonce);
  c.qop = "auth-int";
  EXPECT_EQ(verify(c, account, "REGISTER", nonces, t0), outcome::unsupported);
}

TEST(digest_verify, outcome_names) {
  EXPECT_EQ(to_string(outcome::ok), "ok");
  EXPECT_EQ(to_string(outcome::wrong_response), "wrong response");
  EXPECT_EQ(to_string(outcome::stale_nonce), "stale nonce");
  EXPECT_EQ(to_string(outcome::bad_nonce), "bad nonce");
  EXPECT_EQ(to_string(outcome::wrong_realm), "wrong realm");
  EXPECT_EQ(to_string(outcome::unsupported), "unsupported");
}

// ---- benchmark -----------------------------------------------------------------------------

// The registrar's budget is >= 20,000 authenticated REGISTERs/s on one core, i.e. 50 µs
// each for everything; verify() should take a few of those. Prints median and spread over
// several runs; asserts nothing about time. Run with --gtest_also_run_disabled_tests.
TEST_F(registrar_side, DISABLED_benchmark_verify) {
  constexpr int runs = 9, per_run = 20000;
  auto measure = [&](const char* what, auto&& body) {
    std::vector<double> us;
    for (int r = 0; r < runs; ++r) {
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < per_run; ++i) body();
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                   per_run);
    }
    std::sort(us.begin(), us.end());
    std::printf("%-34s median %.2f µs  (min %.2f, max %.2f, %d runs x %d)\n", what, us[runs / 2], us.front(),
                us.back(), runs, per_run);
  };
  const std::string nonce = nonces.issue(t0, test_random, "hotline");
  for (algorithm alg : {algorithm::md5, algorithm::sha256}) {
    const credentials c = answer(alg, nonce);
    const std::string header = format_authorization(c);
    ASSERT_EQ(verify(c, account, "REGISTER", nonces, t0), outcome::ok);
    int ok = 0;
    measure(alg == algorithm::md5 ? "verify MD5" : "verify SHA-256",
            [&] { ok += verify(c, account, "REGISTER", nonces, t0) == outcome::ok; });
    measure(alg == algorithm::md5 ? "parse_authorization+verify MD5" : "parse_authorization+verify SHA-256", [&] {
      auto parsed = parse_authorization(header);
      ok += parsed && verify(*parsed, account, "REGISTER", nonces, t0) == outcome::ok;
    });
    EXPECT_EQ(ok, 2 * runs * per_run);
  }
  int n = 0;
  measure("nonce_issuer::issue", [&] { n += static_cast<int>(nonces.issue(t0, test_random, "hotline").size()); });
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace hotline::sip::digest
