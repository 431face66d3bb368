#include "protocol/rtu.hpp"

namespace tracermon::protocol {

std::uint16_t crc16(std::span<const std::uint8_t> bytes) {
  std::uint16_t crc = 0xFFFF;
  for (auto b : bytes) {
    crc ^= b;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                            : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return crc;
}

Bytes encode_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  Bytes frame;
  frame.reserve(pdu.size() + 3);
  frame.push_back(unit);
  frame.insert(frame.end(), pdu.begin(), pdu.end());
  auto crc = crc16(frame);
  frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
  frame.push_back(static_cast<std::uint8_t>(crc >> 8));
  return frame;
}

bool crc_ok(std::span<const std::uint8_t> frame) {
  if (frame.size() < 4) return false;
  auto crc = crc16(frame.first(frame.size() - 2));
  return frame[frame.size() - 2] == (crc & 0xFF) && frame[frame.size() - 1] == (crc >> 8);
}

namespace {

// Length of a 0x2B/0x0E reply: header, then (id, len, value) objects.
std::optional<std::size_t> device_id_reply_length(std::span<const std::uint8_t> b) {
  if (b.size() < 3) return 0;
  if (b[2] != fc::k_mei_read_device_id) return std::nullopt;
  if (b.size() < 8) return 0;
  std::size_t at = 8;
  for (std::size_t i = 0; i < b[7]; ++i) {
    if (at + 2 > b.size()) return 0;
    at += 2U + b[at + 1];
  }
  return at + 2;
}

}  // namespace

std::optional<std::size_t> rtu_frame_length(std::span<const std::uint8_t> b,
                                            FrameDirection direction) {
  if (b.size() < 2) return 0;
  std::uint8_t function = b[1];
  if ((function & fc::k_exception_flag) != 0) {
    return direction == FrameDirection::Reply ? std::optional<std::size_t>{5} : std::nullopt;
  }
  switch (function) {
    case fc::k_read_coils:
    case fc::k_read_discrete_inputs:
    case fc::k_read_holding_registers:
    case fc::k_read_input_registers:
      if (direction == FrameDirection::Request) return 8;
      if (b.size() < 3) return 0;
      return 5U + b[2];
    case fc::k_write_single_coil:
    case fc::k_write_single_register:
      return 8;
    case fc::k_write_multiple_coils:
    case fc::k_write_multiple_registers:
      if (direction == FrameDirection::Reply) return 8;
      if (b.size() < 7) return 0;
      return 9U + b[6];
    case fc::k_encapsulated_interface:
      if (direction == FrameDirection::Request) return 7;
      return device_id_reply_length(b);
    default:
      return std::nullopt;
  }
}

}  // namespace tracermon::protocol
