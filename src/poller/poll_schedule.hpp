#pragma once
// When each poll class of one device is due, and how long a device that stopped answering is
// left alone. Pure and driven by the monotonic clock, so it is tested without a bus.

#include <array>
#include <chrono>
#include <vector>

#include "core/wall_time.hpp"
#include "model/poll_intervals.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

class PollSchedule {
 public:
  PollSchedule(model::PollIntervals intervals, core::SteadyTime start);

  // The classes due at `now`: fast/slow/settings by interval, once until it has been read.
  [[nodiscard]] std::vector<protocol::PollClass> due(core::SteadyTime now) const;
  // The earliest time something is due (backoff included).
  [[nodiscard]] core::SteadyTime next_due() const;
  [[nodiscard]] bool backing_off(core::SteadyTime now) const { return now < m_backoff_until; }

  // A class was polled at `now`. Intervals stay anchored to their slots so they do not drift;
  // a slot that was missed is not made up in a burst. `complete` matters for `once` only: it
  // is asked again until every field of it was read or refused.
  void polled(protocol::PollClass poll, core::SteadyTime now, bool complete);

  // The device did not answer a whole cycle: skip 1, 2, 4 ... fast cycles, up to the cap.
  void no_answer(core::SteadyTime now);
  // It answered: back to the normal schedule. After a silence the rated data and settings are
  // read again (it may have been power-cycled or replaced).
  void answered(core::SteadyTime now);
  // Reads `poll` at the next turn (after a write changed what it holds).
  void refresh(protocol::PollClass poll, core::SteadyTime now) { m_next[slot(poll)] = now; }
  [[nodiscard]] int silent_cycles() const { return m_silent_cycles; }

 private:
  [[nodiscard]] std::chrono::milliseconds interval(protocol::PollClass poll) const;
  static std::size_t slot(protocol::PollClass poll) { return static_cast<std::size_t>(poll); }

  model::PollIntervals m_intervals;
  std::array<core::SteadyTime, 4> m_next{};  // Fast, Slow, Once, Settings
  bool m_once_done = false;
  int m_silent_cycles = 0;
  core::SteadyTime m_backoff_until{};
};

}  // namespace tracermon::poller
