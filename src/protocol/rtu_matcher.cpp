#include "protocol/rtu_matcher.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/rtu.hpp"

namespace tracermon::protocol {

using core::Error;
using core::ErrorKind;

namespace {

constexpr std::size_t k_min_reply_frame = 5;  // unit, function, count or code, CRC

// The functions whose requests look different from their replies: a frame of one of these
// that checks out as a request is another master asking (echoes of ours are caught first).
bool is_request_function(std::uint8_t function) {
  switch (function) {
    case fc::k_read_coils:
    case fc::k_read_discrete_inputs:
    case fc::k_read_holding_registers:
    case fc::k_read_input_registers:
    case fc::k_write_multiple_coils:
    case fc::k_write_multiple_registers:
    case fc::k_encapsulated_interface:
      return true;
    default:
      return false;
  }
}

// The shortest length from 5 bytes on at which `bytes` ends in a good CRC, other than `not_this`:
// a reply whose byte count disagrees with what was sent. Diagnostic only: a prefix of a frame
// still arriving can check out by chance, so nothing is skipped on this alone.
std::optional<std::size_t> other_good_length(std::span<const std::uint8_t> bytes,
                                             std::size_t not_this) {
  std::uint16_t crc = 0xFFFF;
  auto limit = std::min<std::size_t>(bytes.size(), 256);
  for (std::size_t i = 0; i + 2 <= limit; ++i) {
    if (i + 2 >= k_min_reply_frame && i + 2 != not_this && bytes[i] == (crc & 0xFF) &&
        bytes[i + 1] == (crc >> 8)) {
      return i + 2;
    }
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                            : static_cast<std::uint16_t>(crc >> 1);
    }
  }
  return std::nullopt;
}

}  // namespace

RtuReplyMatcher::RtuReplyMatcher(std::span<const std::uint8_t> request,
                                 std::size_t expected_pdu_size, std::vector<EarlierRequest> earlier)
    : m_request(request.begin(), request.end()),
      m_unit(request.empty() ? 0 : request[0]),
      m_function(request.size() < 2 ? 0 : request[1]),
      m_expected_pdu_size(expected_pdu_size),
      m_earlier(std::move(earlier)) {}

void RtuReplyMatcher::reset() {
  m_foreign.clear();
  m_claimed.assign(m_earlier.size(), false);
  m_answered.clear();
  m_census = {};
  m_echo_seen = m_crc_error_seen = m_count_mismatch_seen = false;
  m_wrong_unit_seen = m_late_seen = m_answered_badly = false;
  m_partial = 0;
}

bool RtuReplyMatcher::is_ours(std::span<const std::uint8_t> rest) const {
  if (m_request.empty() || rest.empty() || rest[0] != m_unit) return false;
  return rest.size() < 2 || rest[1] == m_function || rest[1] == (m_function | fc::k_exception_flag);
}

bool RtuReplyMatcher::fits_ours(std::span<const std::uint8_t> pdu) const {
  if (pdu.empty() || (pdu[0] & 0x7F) != m_function) return false;
  bool exception = (pdu[0] & fc::k_exception_flag) != 0;
  return exception || m_expected_pdu_size == 0 || pdu.size() == m_expected_pdu_size;
}

std::optional<std::size_t> RtuReplyMatcher::claim_earlier(std::uint8_t unit, std::uint8_t function,
                                                          bool exception, std::size_t pdu_size) {
  // A slave answers in order: the oldest request still due that this frame could answer.
  for (std::size_t i = 0; i < m_earlier.size(); ++i) {
    const auto& e = m_earlier[i];
    if (m_claimed[i] || e.frame.size() < 2 || e.frame[0] != unit || e.frame[1] != function) {
      continue;
    }
    if (exception || e.reply_pdu_size == 0 || e.reply_pdu_size == pdu_size) {
      m_claimed[i] = true;
      m_answered.push_back(i);
      return i;
    }
  }
  return std::nullopt;
}

void RtuReplyMatcher::note_broken_frame() {
  for (std::size_t i = 0; i < m_earlier.size(); ++i) {
    const auto& frame = m_earlier[i].frame;
    if (!m_claimed[i] && frame.size() >= 2 && frame[0] == m_unit && frame[1] == m_function) {
      return;  // the broken frame may be that request's reply
    }
  }
  m_answered_badly = true;
}

RtuReplyMatcher::Verdict RtuReplyMatcher::place_reply(std::span<const std::uint8_t> frame,
                                                      std::size_t end, std::size_t too_early,
                                                      bool& maybe_earlier) {
  std::uint8_t unit = frame[0];
  auto function = static_cast<std::uint8_t>(frame[1] & 0x7F);
  bool exception = (frame[1] & fc::k_exception_flag) != 0;
  auto pdu = frame.subspan(1, frame.size() - 3);
  // The reply to a request another master just made (the latest request on the line).
  auto foreign = std::find_if(m_foreign.begin(), m_foreign.end(), [&](const ForeignRequest& r) {
    return r.unit == unit && r.function == function &&
           (exception || r.reply_pdu_size == 0 || r.reply_pdu_size == pdu.size());
  });
  if (foreign != m_foreign.end()) {
    m_foreign.erase(foreign);
    ++m_census.other_master;
    m_wrong_unit_seen = true;
    return Verdict::Skip;
  }
  if (auto index = claim_earlier(unit, function, exception, pdu.size())) {
    // Ours only if the earlier request was the same (a retry): then it holds what we asked.
    if (m_earlier[*index].frame == m_request && fits_ours(pdu) && end > too_early) {
      maybe_earlier = true;
      return Verdict::Ours;
    }
    ++m_census.late_replies;
    m_late_seen = true;
    return Verdict::Skip;
  }
  if (m_request.empty()) {
    ++m_census.late_replies;  // between requests nothing is awaited: stale
    return Verdict::Skip;
  }
  if (unit != m_unit) {
    ++m_census.other_ids;
    m_wrong_unit_seen = true;
    return Verdict::Skip;
  }
  if (fits_ours(pdu) && end > too_early) return Verdict::Ours;
  // Complete before our request could have been answered, or the wrong size or function:
  // a late reply to something we no longer wait for, or another master's.
  ++m_census.late_replies;
  m_late_seen = true;
  return Verdict::Skip;
}

std::optional<RtuReplyMatcher::Match> RtuReplyMatcher::feed(std::span<const std::uint8_t> rx,
                                                            std::size_t too_early) {
  reset();
  std::size_t pos = 0;
  while (pos < rx.size()) {
    auto rest = rx.subspan(pos);
    // Our own request echoed by the adapter (whole, or still arriving).
    if (!m_request.empty()) {
      auto n = std::min(rest.size(), m_request.size());
      if (std::equal(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n),
                     m_request.begin())) {
        if (n < m_request.size()) {
          // Our echo still arriving, or our reply starting the same way (unit, function).
          if (is_ours(rest)) m_partial = rest.size();
          return std::nullopt;
        }
        ++m_census.echoes;
        m_echo_seen = true;
        pos += n;
        continue;
      }
    }
    auto reply_length = rtu_frame_length(rest, FrameDirection::Reply);
    if (reply_length && *reply_length >= k_min_reply_frame && rest.size() >= *reply_length &&
        crc_ok(rest.first(*reply_length))) {
      bool maybe_earlier = false;
      auto end = pos + *reply_length;
      if (place_reply(rest.first(*reply_length), end, too_early, maybe_earlier) == Verdict::Ours) {
        Bytes pdu(rest.begin() + 1, rest.begin() + static_cast<std::ptrdiff_t>(*reply_length - 2));
        return Match{std::move(pdu), pos, end, maybe_earlier};
      }
      pos = end;
      continue;
    }
    auto request_length = rtu_frame_length(rest, FrameDirection::Request);
    if (request_length && *request_length >= 4 && rest.size() >= *request_length &&
        is_request_function(rest[1]) && crc_ok(rest.first(*request_length))) {
      auto request_pdu = rest.subspan(1, *request_length - 3);
      m_foreign.push_back({rest[0], rest[1], expected_reply_size(request_pdu)});
      ++m_census.other_master;
      m_wrong_unit_seen = true;
      pos += *request_length;
      continue;
    }
    if (is_ours(rest) && reply_length) {
      bool started = *reply_length == 0 || rest.size() < *reply_length;
      if (!started) {
        ++m_census.bad_frames;
        note_broken_frame();
      }
      // A byte count that disagrees with the frame that was sent (the CRC fits elsewhere).
      if (auto good = other_good_length(rest, *reply_length); good && rest.size() >= 3) {
        m_count_mismatch_seen = true;
        m_count_claimed = rest[2];
        m_count_actual = *good - k_min_reply_frame;
      } else if (!started) {
        m_crc_error_seen = true;
      }
      // Still arriving, or noise that looks like the start of a reply: look further on.
      if (started && m_partial == 0) m_partial = rest.size();
    }
    ++m_census.noise_bytes;
    ++pos;
  }
  if (m_partial > 0) note_broken_frame();
  return std::nullopt;
}

Error RtuReplyMatcher::failure(std::size_t received_bytes) const {
  if (m_count_mismatch_seen) {
    return Error{ErrorKind::BadReply,
                 fmt::format("a reply whose byte count ({}) disagrees with its length ({} data "
                             "bytes)",
                             m_count_claimed, m_count_actual)};
  }
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
                 "only frames of other slave ids or another master's seen (another master on the "
                 "bus?)"};
  }
  if (m_late_seen) {
    return Error{ErrorKind::BadReply,
                 "no reply in time: only late replies to earlier requests came (discarded; a "
                 "slow link or a busy controller?)"};
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
