#pragma once
// Watches the host's wall clock against the monotonic one. A Raspberry Pi has no RTC: it boots
// with a stale (or 1970) time and jumps when NTP arrives. A jump is reported once; times before
// a floor (the release's year) are not trusted, so nothing is filed under 1970.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "core/clock.hpp"
#include "model/snapshot.hpp"

namespace tracermon::poller {

struct ClockReading {
  core::WallTime wall{};
  core::SteadyTime steady{};
  bool trusted = true;
  // Set once, on the first reading after the wall clock moved against the monotonic clock.
  std::optional<std::chrono::milliseconds> jump;
};

class ClockWatch {
 public:
  using WallSource = std::function<core::WallTime()>;
  using SteadySource = std::function<core::SteadyTime()>;

  // Sources are injectable for tests; the defaults are the real clocks.
  explicit ClockWatch(WallSource wall = {}, SteadySource steady = {},
                      std::chrono::milliseconds tolerance = std::chrono::seconds(2));
  // Both times from `clock` (a core::ManualClock in tests), which must outlive this.
  explicit ClockWatch(const core::Clock& clock,
                      std::chrono::milliseconds tolerance = std::chrono::seconds(2));

  // Thread-safe: bus workers call it when a cycle ends.
  ClockReading now();
  [[nodiscard]] std::uint64_t jumps() const;

  // 2026-01-01T00:00:00Z: no real sample can be older than this release.
  static core::WallTime trust_floor();

 private:
  WallSource m_wall;
  SteadySource m_steady;
  std::chrono::milliseconds m_tolerance;
  mutable std::mutex m_mutex;
  std::optional<std::chrono::milliseconds> m_offset;  // wall - steady at the last reading
  std::uint64_t m_jumps = 0;
};

}  // namespace tracermon::poller
