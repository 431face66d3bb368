#pragma once
// The clock seam: what reads the time and waits for it goes through a Clock, so tests can run
// a poll loop on a ManualClock and step it instead of waiting. The bus worker's schedule,
// backoff and link retry use it; the Modbus client's I/O timeouts stay on the real clock (that
// is the wire, which a test cannot speed up).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "core/wall_time.hpp"

namespace tracermon::core {

class Clock {
 public:
  Clock() = default;
  virtual ~Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  [[nodiscard]] virtual SteadyTime steady_now() const = 0;
  [[nodiscard]] virtual WallTime wall_now() const = 0;
  // As `cv.wait_until(lock, deadline, done)` with the deadline on this clock: returns once
  // `done()` holds (true) or this clock reached `deadline` (false). `lock` holds the mutex that
  // guards what `done` reads, and whoever makes `done` true notifies `cv` after changing it.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          SteadyTime deadline, const std::function<bool()>& done) const = 0;
};

// std::chrono's steady and system clocks.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& done) const override;
};

// The one shared real clock: the default wherever a Clock is taken.
const Clock& system_clock();

// A clock that moves only when told to, for tests. Both times start at fixed values (steady
// at one hour, wall at 2026-06-01T12:00:00Z) unless given. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SteadyTime steady = SteadyTime{std::chrono::hours(1)},
                       WallTime wall = WallTime{std::chrono::seconds(1780315200)});

  [[nodiscard]] SteadyTime steady_now() const override;
  [[nodiscard]] WallTime wall_now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& done) const override;

  // Moves both times on by `step` and wakes every waiter (none misses it: each waiter's mutex
  // is taken before it is notified).
  void advance(std::chrono::nanoseconds step);
  // Sets the wall time alone (an NTP step, a manual change); waiters are woken as well.
  void set_wall(WallTime wall);

  // For tests: waits, up to `limit` of real time, until `waiters` threads are blocked in
  // wait_until having seen the time as it is now, so everything due so far has been done.
  bool await_idle(std::size_t waiters = 1,
                  std::chrono::milliseconds limit = std::chrono::seconds(60)) const;

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* cv;
  };
  void wake_all();

  // Leaf lock: the times and who is asleep; nothing else is taken while it is held.
  mutable std::mutex m_time_mutex;
  mutable std::condition_variable m_idle_changed;
  SteadyTime m_steady;
  WallTime m_wall;
  std::uint64_t m_epoch = 0;                              // changes of the time so far
  mutable std::map<std::uint64_t, std::size_t> m_asleep;  // epoch seen -> waiters asleep

  // Taken before a waiter's own mutex (never while a waiter holds its own).
  mutable std::mutex m_registry_mutex;
  mutable std::vector<Waiter> m_waiters;
};

}  // namespace tracermon::core
