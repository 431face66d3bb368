#pragma once
// The slave side of RTU framing: finds request frames in the bytes a master sends, by their
// expected length and CRC. Line silence is used only to resynchronise (drop bytes that never
// became a frame), so a frame that a loaded machine or a pty hands over in pieces is not split.

#include <chrono>
#include <optional>
#include <span>

#include "protocol/pdu.hpp"

namespace tracermon::slave {

class RtuRequestFramer {
 public:
  using Clock = std::chrono::steady_clock;

  // `resync_ms`: silence after which bytes that do not form a frame are thrown away.
  explicit RtuRequestFramer(double resync_ms) : m_resync(resync_ms) {}

  void feed(std::span<const std::uint8_t> bytes, Clock::time_point now);
  // The next complete request with a good CRC, if any.
  std::optional<protocol::Bytes> next(Clock::time_point now);
  // How long to wait for more bytes before next() could resync; nullopt: nothing pending.
  [[nodiscard]] std::optional<Clock::time_point> resync_deadline() const;
  void clear() { m_buffer.clear(); }
  [[nodiscard]] std::size_t dropped() const { return m_dropped; }

 private:
  protocol::Bytes m_buffer;
  Clock::time_point m_last_byte{};
  std::chrono::duration<double, std::milli> m_resync;
  std::size_t m_dropped = 0;
};

}  // namespace tracermon::slave
