#include "media/rtp/packet.hpp"

namespace hotline::rtp {
namespace {

uint8_t u8(std::span<const std::byte> d, size_t i) { return static_cast<uint8_t>(d[i]); }
uint16_t u16(std::span<const std::byte> d, size_t i) { return static_cast<uint16_t>(u8(d, i) << 8 | u8(d, i + 1)); }
uint32_t u32(std::span<const std::byte> d, size_t i) {
  return static_cast<uint32_t>(u16(d, i)) << 16 | u16(d, i + 2);
}
void put8(std::span<std::byte> d, size_t i, uint8_t v) { d[i] = static_cast<std::byte>(v); }
void put16(std::span<std::byte> d, size_t i, uint16_t v) {
  put8(d, i, static_cast<uint8_t>(v >> 8));
  put8(d, i + 1, static_cast<uint8_t>(v));
}
void put32(std::span<std::byte> d, size_t i, uint32_t v) {
  put16(d, i, static_cast<uint16_t>(v >> 16));
  put16(d, i + 2, static_cast<uint16_t>(v));
}

}  // namespace

parse_status parse(std::span<const std::byte> d, packet_view& out) {
  if (d.size() < header_bytes) return parse_status::too_short;
  uint8_t b0 = u8(d, 0), b1 = u8(d, 1);
  if ((b0 >> 6) != 2) return parse_status::bad_version;
  if (b1 >= 192 && b1 <= 223) return parse_status::rtcp;  // SR..APP, RTPFB, PSFB: RFC 5761
  out.h.marker = (b1 & 0x80) != 0;
  out.h.payload_type = b1 & 0x7f;
  out.h.sequence = u16(d, 2);
  out.h.timestamp = u32(d, 4);
  out.h.ssrc = u32(d, 8);
  out.h.csrc_count = b0 & 0x0f;
  out.h.has_extension = (b0 & 0x10) != 0;
  size_t offset = header_bytes + 4u * out.h.csrc_count;
  if (offset > d.size()) return parse_status::too_short;
  if (out.h.has_extension) {  // RFC 3550 §5.3.1: 4-byte header, then length 32-bit words
    if (offset + 4 > d.size()) return parse_status::bad_extension;
    size_t words = u16(d, offset + 2);
    offset += 4 + 4 * words;
    if (offset > d.size()) return parse_status::bad_extension;
  }
  size_t end = d.size();
  if (b0 & 0x20) {  // padding: the last octet counts the padding octets, itself included
    uint8_t pad = u8(d, d.size() - 1);
    if (pad == 0 || pad > end - offset) return parse_status::bad_padding;
    end -= pad;
  }
  out.payload = d.subspan(offset, end - offset);
  return parse_status::ok;
}

size_t build(const header& h, std::span<const std::byte> payload, std::span<std::byte> out) {
  size_t size = header_bytes + payload.size();
  if (out.size() < size) return 0;
  put8(out, 0, 0x80);
  put8(out, 1, static_cast<uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7f)));
  put16(out, 2, h.sequence);
  put32(out, 4, h.timestamp);
  put32(out, 8, h.ssrc);
  for (size_t i = 0; i < payload.size(); ++i) out[header_bytes + i] = payload[i];
  return size;
}

bool parse_rtcp(std::span<const std::byte> d, std::vector<rtcp_report>& out, bool& has_bye) {
  has_bye = false;
  if (d.size() < 4) return false;
  size_t offset = 0;
  while (offset < d.size()) {
    if (d.size() - offset < 4) return false;
    uint8_t b0 = u8(d, offset), pt = u8(d, offset + 1);
    if ((b0 >> 6) != 2) return false;
    size_t length = (static_cast<size_t>(u16(d, offset + 2)) + 1) * 4;
    if (length > d.size() - offset) return false;
    auto pkt = d.subspan(offset, length);
    uint8_t count = b0 & 0x1f;
    if (pt == 200 || pt == 201) {  // SR, RR
      size_t fixed = pt == 200 ? 28 : 8;
      if (pkt.size() < fixed + 24u * count) return false;
      rtcp_report r;
      r.ssrc = u32(pkt, 4);
      if (pt == 200) {
        sender_info s;
        s.ntp_timestamp = static_cast<uint64_t>(u32(pkt, 8)) << 32 | u32(pkt, 12);
        s.rtp_timestamp = u32(pkt, 16);
        s.packets = u32(pkt, 20);
        s.octets = u32(pkt, 24);
        r.sender = s;
      }
      for (size_t i = 0; i < count; ++i) {
        size_t at = fixed + 24 * i;
        report_block b;
        b.ssrc = u32(pkt, at);
        b.fraction_lost = u8(pkt, at + 4);
        uint32_t lost = static_cast<uint32_t>(u8(pkt, at + 5)) << 16 | u16(pkt, at + 6);
        b.cumulative_lost = (lost & 0x800000) ? static_cast<int32_t>(lost | 0xff000000u) : static_cast<int32_t>(lost);
        b.highest_sequence = u32(pkt, at + 8);
        b.jitter = u32(pkt, at + 12);
        b.last_sr = u32(pkt, at + 16);
        b.delay_since_last_sr = u32(pkt, at + 20);
        r.blocks.push_back(b);
      }
      out.push_back(std::move(r));
    } else if (pt == 203) {
      has_bye = true;
    }
    offset += length;
  }
  return true;
}

size_t build_rtcp(const rtcp_report& report, std::string_view cname, std::span<std::byte> out) {
  size_t blocks = std::min<size_t>(report.blocks.size(), 31);
  size_t fixed = report.sender ? 28 : 8;
  size_t first = fixed + 24 * blocks;
  // SDES: header(4) + SSRC(4) + CNAME item(2 + len) + end(1), padded to 32 bits.
  size_t cname_len = std::min<size_t>(cname.size(), 255);
  size_t sdes = (4 + 4 + 2 + cname_len + 1 + 3) / 4 * 4;
  if (out.size() < first + sdes) return 0;
  put8(out, 0, static_cast<uint8_t>(0x80 | blocks));
  put8(out, 1, report.sender ? 200 : 201);
  put16(out, 2, static_cast<uint16_t>(first / 4 - 1));
  put32(out, 4, report.ssrc);
  if (report.sender) {
    put32(out, 8, static_cast<uint32_t>(report.sender->ntp_timestamp >> 32));
    put32(out, 12, static_cast<uint32_t>(report.sender->ntp_timestamp));
    put32(out, 16, report.sender->rtp_timestamp);
    put32(out, 20, report.sender->packets);
    put32(out, 24, report.sender->octets);
  }
  for (size_t i = 0; i < blocks; ++i) {
    const report_block& b = report.blocks[i];
    size_t at = fixed + 24 * i;
    put32(out, at, b.ssrc);
    put8(out, at + 4, b.fraction_lost);
    uint32_t lost = static_cast<uint32_t>(b.cumulative_lost) & 0xffffff;
    put8(out, at + 5, static_cast<uint8_t>(lost >> 16));
    put16(out, at + 6, static_cast<uint16_t>(lost));
    put32(out, at + 8, b.highest_sequence);
    put32(out, at + 12, b.jitter);
    put32(out, at + 16, b.last_sr);
    put32(out, at + 20, b.delay_since_last_sr);
  }
  auto s = out.subspan(first, sdes);
  put8(s, 0, 0x81);
  put8(s, 1, 202);
  put16(s, 2, static_cast<uint16_t>(sdes / 4 - 1));
  put32(s, 4, report.ssrc);
  put8(s, 8, 1);  // CNAME
  put8(s, 9, static_cast<uint8_t>(cname_len));
  for (size_t i = 0; i < cname_len; ++i) s[10 + i] = static_cast<std::byte>(cname[i]);
  for (size_t i = 10 + cname_len; i < sdes; ++i) s[i] = std::byte{0};  // end item + padding
  return first + sdes;
}

std::optional<telephone_event> parse_telephone_event(std::span<const std::byte> p) {
  if (p.size() < 4) return std::nullopt;  // RFC 4733 §2.3: 4 octets (more = redundancy, RFC 2198 not used)
  telephone_event e;
  e.event = u8(p, 0);
  e.end = (u8(p, 1) & 0x80) != 0;
  e.volume = u8(p, 1) & 0x3f;
  e.duration = u16(p, 2);
  if (e.event > 16) return std::nullopt;  // only DTMF digits and flash (RFC 4734 §3.2)
  return e;
}

void build_telephone_event(const telephone_event& e, std::span<std::byte, 4> out) {
  out[0] = static_cast<std::byte>(e.event);
  out[1] = static_cast<std::byte>((e.end ? 0x80 : 0) | (e.volume & 0x3f));
  out[2] = static_cast<std::byte>(e.duration >> 8);
  out[3] = static_cast<std::byte>(e.duration & 0xff);
}

char event_to_digit(uint8_t event) {
  static constexpr char digits[] = "0123456789*#ABCD!";
  return event <= 16 ? digits[event] : 0;
}

std::optional<uint8_t> digit_to_event(char digit) {
  static constexpr std::string_view digits = "0123456789*#ABCD";
  auto at = digits.find(digit >= 'a' && digit <= 'd' ? static_cast<char>(digit - 32) : digit);
  if (at == std::string_view::npos) return std::nullopt;
  return static_cast<uint8_t>(at);
}

}  // namespace hotline::rtp
