#include "poller/poll_schedule.hpp"

#include <algorithm>

namespace tracermon::poller {

using protocol::PollClass;

PollSchedule::PollSchedule(model::PollIntervals intervals, core::SteadyTime start)
    : m_intervals(intervals) {
  m_next.fill(start);
}

std::chrono::milliseconds PollSchedule::interval(PollClass poll) const {
  switch (poll) {
    case PollClass::Fast:
      return m_intervals.fast;
    case PollClass::Slow:
      return m_intervals.slow;
    case PollClass::Settings:
      return m_intervals.settings;
    case PollClass::Once:
    case PollClass::Never:
      break;
  }
  return m_intervals.slow;  // retry period of an incomplete `once`
}

std::vector<PollClass> PollSchedule::due(core::SteadyTime now) const {
  std::vector<PollClass> classes;
  if (backing_off(now)) return classes;
  for (auto poll : {PollClass::Fast, PollClass::Slow, PollClass::Once, PollClass::Settings}) {
    if (poll == PollClass::Once && m_once_done) continue;
    if (now >= m_next[slot(poll)]) classes.push_back(poll);
  }
  return classes;
}

core::SteadyTime PollSchedule::next_due() const {
  auto next = core::SteadyTime::max();
  for (auto poll : {PollClass::Fast, PollClass::Slow, PollClass::Once, PollClass::Settings}) {
    if (poll == PollClass::Once && m_once_done) continue;
    next = std::min(next, m_next[slot(poll)]);
  }
  return std::max(next, m_backoff_until);
}

void PollSchedule::polled(PollClass poll, core::SteadyTime now, bool complete) {
  if (poll == PollClass::Never) return;
  if (poll == PollClass::Once) m_once_done = complete;
  auto& next = m_next[slot(poll)];
  auto step = interval(poll);
  next += step;
  if (next <= now) next = now + step;  // we were late: skip the missed slots
}

void PollSchedule::no_answer(core::SteadyTime now) {
  ++m_silent_cycles;
  auto cycles = 1 << std::min(m_silent_cycles - 1, 30);
  cycles = std::min(cycles, std::max(1, m_intervals.max_skip_cycles));
  m_backoff_until = now + m_intervals.fast * cycles;
}

void PollSchedule::answered(core::SteadyTime now) {
  if (m_silent_cycles > 0) {
    m_once_done = false;
    m_next[slot(PollClass::Once)] = now;
    m_next[slot(PollClass::Settings)] = now;
    m_next[slot(PollClass::Slow)] = now;
  }
  m_silent_cycles = 0;
  m_backoff_until = {};
}

}  // namespace tracermon::poller
