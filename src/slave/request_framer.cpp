#include "slave/request_framer.hpp"

#include "protocol/rtu.hpp"

namespace tracermon::slave {

void RtuRequestFramer::feed(std::span<const std::uint8_t> bytes, Clock::time_point now) {
  if (bytes.empty()) return;
  m_buffer.insert(m_buffer.end(), bytes.begin(), bytes.end());
  m_last_byte = now;
}

std::optional<RtuRequestFramer::Clock::time_point> RtuRequestFramer::resync_deadline() const {
  if (m_buffer.empty()) return std::nullopt;
  return m_last_byte + std::chrono::duration_cast<Clock::duration>(m_resync);
}

namespace {

// Where a complete request with a good CRC starts after the first byte, if anywhere: noise
// that looks like the start of a long frame must not hold up a real one behind it.
std::size_t later_frame(const protocol::Bytes& b) {
  for (std::size_t i = 1; i + 4 <= b.size(); ++i) {
    auto rest = std::span(b).subspan(i);
    auto length = protocol::rtu_frame_length(rest, protocol::FrameDirection::Request);
    if (length && *length >= 4 && *length <= rest.size() && protocol::crc_ok(rest.first(*length))) {
      return i;
    }
  }
  return 0;
}

}  // namespace

std::optional<protocol::Bytes> RtuRequestFramer::next(Clock::time_point now) {
  bool silent = !m_buffer.empty() && now - m_last_byte >= m_resync;
  while (!m_buffer.empty()) {
    auto length = protocol::rtu_frame_length(m_buffer, protocol::FrameDirection::Request);
    bool complete = length && *length != 0 && m_buffer.size() >= *length;
    if (!complete) {
      if (auto skip = later_frame(m_buffer); skip != 0) {
        m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(skip));
        m_dropped += skip;
        continue;
      }
    }
    if (!length) {
      // A function code we cannot size: after silence, the whole burst is one frame if its
      // CRC says so (the controller then answers "illegal function").
      if (!silent) return std::nullopt;
      protocol::Bytes frame;
      if (m_buffer.size() >= 4 && protocol::crc_ok(m_buffer)) {
        frame = std::move(m_buffer);
      } else {
        m_dropped += m_buffer.size();
      }
      m_buffer.clear();
      if (frame.empty()) return std::nullopt;
      return frame;
    }
    if (*length == 0 || m_buffer.size() < *length) {
      if (!silent) return std::nullopt;  // more may come
      m_buffer.erase(m_buffer.begin());  // it never completed: resync one byte further
      ++m_dropped;
      continue;
    }
    auto n = static_cast<std::ptrdiff_t>(*length);
    if (protocol::crc_ok(std::span(m_buffer).first(*length))) {
      protocol::Bytes frame(m_buffer.begin(), m_buffer.begin() + n);
      m_buffer.erase(m_buffer.begin(), m_buffer.begin() + n);
      return frame;
    }
    m_buffer.erase(m_buffer.begin());
    ++m_dropped;
  }
  return std::nullopt;
}

}  // namespace tracermon::slave
