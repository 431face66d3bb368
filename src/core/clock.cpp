#include "core/clock.hpp"

#include <algorithm>

namespace tracermon::core {

bool SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             SteadyTime deadline, const std::function<bool()>& done) const {
  return cv.wait_until(lock, deadline, done);
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

ManualClock::ManualClock(SteadyTime steady, WallTime wall) : m_steady(steady), m_wall(wall) {}

SteadyTime ManualClock::steady_now() const {
  std::lock_guard lock(m_time_mutex);
  return m_steady;
}

WallTime ManualClock::wall_now() const {
  std::lock_guard lock(m_time_mutex);
  return m_wall;
}

bool ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             SteadyTime deadline, const std::function<bool()>& done) const {
  // The registry is taken without the caller's mutex: advance() holds the registry while it
  // takes each waiter's mutex, so the other order could deadlock. `done` is asked again below.
  lock.unlock();
  {
    std::lock_guard registry(m_registry_mutex);
    m_waiters.push_back({lock.mutex(), &cv});
  }
  lock.lock();
  while (!done()) {
    std::uint64_t epoch = 0;
    {
      std::lock_guard time(m_time_mutex);
      if (m_steady >= deadline) break;
      epoch = m_epoch;
      ++m_asleep[epoch];
    }
    m_idle_changed.notify_all();
    // advance() cannot notify before this wait has released `lock`: it takes `lock` first.
    cv.wait(lock);
    std::lock_guard time(m_time_mutex);
    if (--m_asleep[epoch] == 0) m_asleep.erase(epoch);
  }
  lock.unlock();
  {
    std::lock_guard registry(m_registry_mutex);
    auto it = std::find_if(m_waiters.begin(), m_waiters.end(),
                           [&](const Waiter& w) { return w.cv == &cv && w.mutex == lock.mutex(); });
    if (it != m_waiters.end()) m_waiters.erase(it);
  }
  lock.lock();
  return done();
}

void ManualClock::advance(std::chrono::nanoseconds step) {
  {
    std::lock_guard lock(m_time_mutex);
    m_steady += std::chrono::duration_cast<SteadyTime::duration>(step);
    m_wall += std::chrono::duration_cast<WallTime::duration>(step);
    ++m_epoch;
  }
  wake_all();
}

void ManualClock::set_wall(WallTime wall) {
  {
    std::lock_guard lock(m_time_mutex);
    m_wall = wall;
    ++m_epoch;
  }
  wake_all();
}

void ManualClock::wake_all() {
  std::lock_guard registry(m_registry_mutex);
  for (const auto& waiter : m_waiters) {
    // Between its look at the time and its wait a waiter holds its mutex: once we hold it, the
    // waiter either sees the new time or is waiting and gets this notification.
    { std::lock_guard barrier(*waiter.mutex); }
    waiter.cv->notify_all();
  }
}

bool ManualClock::await_idle(std::size_t waiters, std::chrono::milliseconds limit) const {
  std::unique_lock lock(m_time_mutex);
  return m_idle_changed.wait_for(lock, limit, [&] {
    auto it = m_asleep.find(m_epoch);
    return it != m_asleep.end() && it->second >= waiters;
  });
}

}  // namespace tracermon::core
