#include "protocol/rtu.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tracermon::protocol {

using core::Error;
using core::ErrorKind;

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

RtuReplyMatcher::RtuReplyMatcher(std::span<const std::uint8_t> request,
                                 std::size_t expected_pdu_size)
    : m_request(request.begin(), request.end()),
      m_unit(request.empty() ? 0 : request[0]),
      m_function(request.size() < 2 ? 0 : request[1]),
      m_expected_pdu_size(expected_pdu_size) {}

std::optional<RtuReplyMatcher::Match> RtuReplyMatcher::feed(std::span<const std::uint8_t> rx) {
  m_partial = 0;
  std::size_t pos = 0;
  while (pos < rx.size()) {
    auto rest = rx.subspan(pos);
    // Our own request echoed by the adapter (whole, or still arriving).
    if (rest.size() >= m_request.size() &&
        std::equal(m_request.begin(), m_request.end(), rest.begin())) {
      m_echo_seen = true;
      pos += m_request.size();
      continue;
    }
    if (rest.size() < m_request.size() && std::equal(rest.begin(), rest.end(), m_request.begin())) {
      m_partial = rest.size();  // our echo, still arriving
      return std::nullopt;
    }
    bool ours = rest[0] == m_unit && (rest.size() < 2 || rest[1] == m_function ||
                                      rest[1] == (m_function | fc::k_exception_flag));
    if (ours) {
      auto length = rtu_frame_length(rest, FrameDirection::Reply);
      if (length && (*length == 0 || rest.size() < *length)) {
        // A reply that has started; keep looking in case it was noise that looked like one.
        if (m_partial == 0) m_partial = rest.size();
        ++pos;
        continue;
      }
      if (length && crc_ok(rest.first(*length))) {
        Bytes pdu(rest.begin() + 1, rest.begin() + static_cast<std::ptrdiff_t>(*length - 2));
        bool exception = (pdu[0] & fc::k_exception_flag) != 0;
        if (exception || m_expected_pdu_size == 0 || pdu.size() == m_expected_pdu_size) {
          return Match{std::move(pdu), pos};
        }
        m_wrong_size_seen = true;  // a stale reply to another request of ours
        pos += *length;
        continue;
      }
      if (length) m_crc_error_seen = true;
    } else if (auto length = rtu_frame_length(rest, FrameDirection::Reply);
               length && *length >= 4 && rest.size() >= *length && crc_ok(rest.first(*length))) {
      m_wrong_unit_seen = true;  // a whole frame for or from someone else
      pos += *length;
      continue;
    }
    ++pos;  // noise: resynchronise one byte later
  }
  return std::nullopt;
}

Error RtuReplyMatcher::failure(std::size_t received_bytes) const {
  if (m_crc_error_seen) {
    return Error{ErrorKind::Crc,
                 fmt::format("reply with a bad CRC ({} bytes received)", received_bytes)};
  }
  if (m_partial > 0) {
    return Error{ErrorKind::Timeout,
                 fmt::format("truncated reply ({} bytes of a frame received)", m_partial)};
  }
  if (m_wrong_unit_seen) {
    return Error{ErrorKind::WrongUnit,
                 "only frames of other slave ids seen (another master on the bus?)"};
  }
  if (m_wrong_size_seen) {
    return Error{ErrorKind::BadReply, "a reply of the wrong size (stale or another master's)"};
  }
  if (m_echo_seen) {
    return Error{ErrorKind::Echo,
                 "only our own request came back (adapter echo; check wiring, A/B, id)"};
  }
  if (received_bytes > 0) {
    return Error{ErrorKind::BadReply,
                 fmt::format("{} bytes of garbage and no reply", received_bytes)};
  }
  return Error{ErrorKind::Timeout, "no reply"};
}

}  // namespace tracermon::protocol
