#include "protocol/mbap.hpp"

namespace tracermon::protocol {

Bytes encode_mbap(std::uint16_t transaction, std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  auto length = static_cast<std::uint16_t>(pdu.size() + 1);
  Bytes frame;
  frame.reserve(k_mbap_header_size + pdu.size());
  for (auto byte :
       {static_cast<std::uint8_t>(transaction >> 8), static_cast<std::uint8_t>(transaction & 0xFF),
        std::uint8_t{0}, std::uint8_t{0}, static_cast<std::uint8_t>(length >> 8),
        static_cast<std::uint8_t>(length & 0xFF), unit}) {
    frame.push_back(byte);
  }
  for (auto byte : pdu)
    frame.push_back(byte);
  return frame;
}

std::optional<MbapHeader> decode_mbap_header(std::span<const std::uint8_t> b) {
  if (b.size() < k_mbap_header_size) return std::nullopt;
  MbapHeader h;
  h.transaction = static_cast<std::uint16_t>((b[0] << 8) | b[1]);
  h.protocol = static_cast<std::uint16_t>((b[2] << 8) | b[3]);
  h.length = static_cast<std::uint16_t>((b[4] << 8) | b[5]);
  h.unit = b[6];
  if (h.protocol != 0 || h.length < 2 || h.length > 254) return std::nullopt;
  return h;
}

}  // namespace tracermon::protocol
