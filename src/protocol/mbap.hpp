#pragma once
// Modbus TCP framing: the 7-byte MBAP header (transaction, protocol 0, length, unit) + PDU.

#include <cstdint>
#include <optional>
#include <span>

#include "protocol/pdu.hpp"

namespace tracermon::protocol {

constexpr std::size_t k_mbap_header_size = 7;

Bytes encode_mbap(std::uint16_t transaction, std::uint8_t unit, std::span<const std::uint8_t> pdu);

struct MbapHeader {
  std::uint16_t transaction = 0;
  std::uint16_t protocol = 0;
  std::uint16_t length = 0;  // unit + PDU
  std::uint8_t unit = 0;
  [[nodiscard]] std::size_t pdu_size() const { return length > 0 ? length - 1U : 0U; }
};

// Nullopt when fewer than 7 bytes are given or the header is impossible (protocol not 0,
// length 0 or above 254).
std::optional<MbapHeader> decode_mbap_header(std::span<const std::uint8_t> bytes);

}  // namespace tracermon::protocol
