#pragma once
// The SIP core's transport for unit tests: every datagram we "send" is parsed back and
// kept with its destination, so tests assert on messages, not bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "media/sip/parser.hpp"
#include "media/sip/transport.hpp"

namespace hotline::sip::fakes {

struct sent_message {
  address to;
  message msg;
};

struct fake_transport : transport_sender {
  std::vector<sent_message> sent;
  void send(const address& to, std::string bytes) override {
    auto r = parse(bytes);
    ASSERT_TRUE(std::holds_alternative<message>(r)) << bytes;
    sent.push_back({to, std::get<message>(r)});
  }
  address local_address(transport_kind kind) const override { return {"192.0.2.1", 5060, kind, 0}; }
  std::vector<message> responses(int status) const {
    std::vector<message> out;
    for (const auto& s : sent)
      if (s.msg.status == status) out.push_back(s.msg);
    return out;
  }
  const message* last_request(std::string_view method) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->msg.method == method) return &it->msg;
    return nullptr;
  }
};

}  // namespace hotline::sip::fakes
