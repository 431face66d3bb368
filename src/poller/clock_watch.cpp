#include "poller/clock_watch.hpp"

#include <cstdlib>

namespace tracermon::poller {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

ClockWatch::ClockWatch(WallSource wall, SteadySource steady, milliseconds tolerance)
    : m_wall(wall ? std::move(wall) : [] { return core::system_clock().wall_now(); }),
      m_steady(steady ? std::move(steady) : [] { return core::system_clock().steady_now(); }),
      m_tolerance(tolerance) {}

ClockWatch::ClockWatch(const core::Clock& clock, milliseconds tolerance)
    : ClockWatch([&clock] { return clock.wall_now(); }, [&clock] { return clock.steady_now(); },
                 tolerance) {}

core::WallTime ClockWatch::trust_floor() {
  return core::WallTime{std::chrono::seconds{1767225600}};  // 2026-01-01T00:00:00Z
}

ClockReading ClockWatch::now() {
  ClockReading reading;
  reading.steady = m_steady();
  reading.wall = m_wall();
  reading.trusted = reading.wall >= trust_floor();
  auto offset = duration_cast<milliseconds>(reading.wall.time_since_epoch() -
                                            reading.steady.time_since_epoch());
  std::lock_guard lock(m_mutex);
  if (m_offset && std::llabs((offset - *m_offset).count()) > m_tolerance.count()) {
    reading.jump = offset - *m_offset;
    ++m_jumps;
  }
  m_offset = offset;
  return reading;
}

std::uint64_t ClockWatch::jumps() const {
  std::lock_guard lock(m_mutex);
  return m_jumps;
}

}  // namespace tracermon::poller
