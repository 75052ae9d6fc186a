// libFuzzer target: SDP bodies as they arrive in INVITEs, re-INVITEs, UPDATEs and answers.
// Differential round trip: whatever parses must print and parse again to the same model
// (and print to the same text), so the model never loses what the printer needs. Then
// offer/answer runs on it with a fixed policy and a deterministic random source; our
// answer must itself survive the round trip. Crashes, leaks, UB and a mismatch are failures.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "media/sdp/negotiate.hpp"
#include "media/sdp/session.hpp"

namespace {

using namespace hotline::sdp;

void counting_random(std::span<std::byte> out) {
  uint8_t next = 1;
  for (auto& b : out) b = std::byte{next++};
}

// Printing adds what parsing infers (rtpmap of static types, a=sendrecv), so a body near
// the size limit may print past it; only then is the round trip not checked.
void check_round_trip(const session_description& sd) {
  std::string text = to_string(sd);
  if (text.size() > max_body_bytes) return;
  auto again = parse(text);
  auto* model = std::get_if<session_description>(&again);
  if (!model || !(*model == sd) || to_string(*model) != text) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = parse(std::string_view(reinterpret_cast<const char*>(data), size));
  auto* offer = std::get_if<session_description>(&result);
  if (!offer) {
    if (std::get<parse_error>(result).message.empty()) __builtin_trap();
    return 0;
  }
  check_round_trip(*offer);

  endpoint_policy policy;
  policy.codec_preference = {"opus", "PCMA", "PCMU", "G722"};
  const local_media local{"192.0.2.1", false, 30000};
  // The input as an offer, as a re-offer (itself as the previous answer), and as the
  // answer to our own offer.
  const session_description* previous_answers[] = {nullptr, offer};
  for (const auto* previous : previous_answers) {
    auto answer = answer_offer(*offer, policy, local, counting_random, previous);
    if (auto* ok = std::get_if<answer_result>(&answer)) {
      check_round_trip(ok->answer);
      (void)accept_answer(*offer, ok->answer, policy);
    }
  }
  auto our_offer = make_offer(policy, local, counting_random, offer, direction::sendonly);
  check_round_trip(our_offer);
  (void)accept_answer(our_offer, *offer, policy);
  for (const auto& m : offer->media)
    for (const auto& c : m.cryptos) {
      (void)decode_key_salt(c);
      (void)unusable_crypto_reason(c);
    }
  return 0;
}
