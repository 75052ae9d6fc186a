// Network-facing media parsers: RTP (incl. the RFC 5761 RTCP split), compound RTCP,
// RFC 4733 events. Whatever parses must describe bytes inside the datagram, and what
// we build from it must parse back the same.
#include <array>
#include <cstdlib>
#include <vector>

#include "media/rtp/packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hotline::rtp;
  std::span<const std::byte> d(reinterpret_cast<const std::byte*>(data), size);
  packet_view v;
  if (parse(d, v) == parse_status::ok) {
    if (v.payload.data() < d.data() || v.payload.data() + v.payload.size() > d.data() + d.size()) std::abort();
    std::vector<std::byte> buf(header_bytes + v.payload.size());
    size_t n = build(v.h, v.payload, buf);
    packet_view again;
    if (n == 0 || parse(std::span(buf.data(), n), again) != parse_status::ok) std::abort();
    if (again.h.sequence != v.h.sequence || again.h.timestamp != v.h.timestamp || again.h.ssrc != v.h.ssrc ||
        again.payload.size() != v.payload.size())
      std::abort();
    if (auto e = parse_telephone_event(v.payload)) {
      std::array<std::byte, 4> out{};
      build_telephone_event(*e, out);
      auto back = parse_telephone_event(out);
      if (!back || back->event != e->event || back->duration != e->duration) std::abort();
    }
  }
  std::vector<rtcp_report> reports;
  bool bye = false;
  parse_rtcp(d, reports, bye);
  for (const auto& r : reports) {
    std::array<std::byte, 1500> buf{};
    size_t n = build_rtcp(r, "fuzz", buf);
    std::vector<rtcp_report> again;
    bool b = false;
    if (n == 0 || !parse_rtcp(std::span(buf.data(), n), again, b) || again.empty() ||
        again[0].blocks.size() != std::min<size_t>(r.blocks.size(), 31))
      std::abort();
  }
  return 0;
}
