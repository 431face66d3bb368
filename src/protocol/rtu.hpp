#pragma once
// Modbus RTU framing: address + PDU + CRC-16 (low byte first). Frames are found by their
// expected length and CRC, not by line silence, so that a loaded machine or a pty that hands
// over bytes in odd chunks does not split them. Shared by the client and the simulator; the
// client finds its reply among other traffic with RtuReplyMatcher (rtu_matcher.hpp).

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "protocol/pdu.hpp"

namespace tracermon::protocol {

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF).
std::uint16_t crc16(std::span<const std::uint8_t> bytes);

// unit, PDU, CRC low, CRC high.
Bytes encode_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu);

// True when `frame` ends in the CRC of what precedes it.
bool crc_ok(std::span<const std::uint8_t> frame);

// The length of the RTU frame that starts at bytes[0], judged from its function code and the
// byte counts inside it: 0 when more bytes are needed to tell, nullopt when the function code
// is not one we can frame.
enum class FrameDirection : std::uint8_t { Request, Reply };
std::optional<std::size_t> rtu_frame_length(std::span<const std::uint8_t> bytes,
                                            FrameDirection direction);

}  // namespace tracermon::protocol
