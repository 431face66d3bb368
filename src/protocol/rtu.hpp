#pragma once
// Modbus RTU framing: address + PDU + CRC-16 (low byte first). Frames are found by their
// expected length and CRC, not by line silence, so that a loaded machine or a pty that hands
// over bytes in odd chunks does not split them. Shared by the client and the simulator.

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

// Finds the reply to one request in the bytes received so far. It skips our own request
// echoed back by the adapter, noise before the reply, and complete frames from other slave
// ids; it remembers what it skipped so that a timeout can say why.
class RtuReplyMatcher {
 public:
  // `request` is the whole RTU frame we sent; `expected_pdu_size` is the size of a correct
  // reply PDU (0 when unknown, as for 0x2B).
  RtuReplyMatcher(std::span<const std::uint8_t> request, std::size_t expected_pdu_size);

  struct Match {
    Bytes pdu;            // the reply without unit and CRC
    std::size_t skipped;  // bytes before it (echo, noise, other frames)
  };
  // Looks at everything received since the request; nullopt while no reply is complete.
  std::optional<Match> feed(std::span<const std::uint8_t> received);

  // Why no reply was found, once the time is up: the most specific thing seen.
  [[nodiscard]] core::Error failure(std::size_t received_bytes) const;

 private:
  Bytes m_request;
  std::uint8_t m_unit;
  std::uint8_t m_function;
  std::size_t m_expected_pdu_size;
  bool m_echo_seen = false;
  bool m_crc_error_seen = false;
  bool m_wrong_unit_seen = false;
  bool m_wrong_size_seen = false;
  std::size_t m_partial = 0;  // bytes of a reply that had started but not completed
};

}  // namespace tracermon::protocol
