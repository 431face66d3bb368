#pragma once
// Sinks for tests: one that records what it got, one that blocks until released, one that
// throws on every event.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "sinks/sink.hpp"

namespace tracermon::sinks::test {

using namespace std::chrono_literals;
inline constexpr auto k_deadline = 30s;  // generous: CI may be busy

// Records "device#cycle" and "site:name" in the order received.
class RecordingSink final : public Sink {
 public:
  explicit RecordingSink(std::string name = "recording") : m_name(std::move(name)) {}
  [[nodiscard]] std::string_view name() const override { return m_name; }
  void start() override { add("start"); }
  void on_cycle(const CycleEvent& event) override {
    add(event.cycle->device + "#" + std::to_string(event.cycle->cycle));
  }
  void on_site(const model::SiteTotals& totals) override { add("site:" + totals.site); }
  void stop() override { add("stop"); }

  bool wait_for(std::size_t count) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, k_deadline, [&] { return m_seen.size() >= count; });
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(m_mutex);
    return m_seen;
  }

 private:
  void add(std::string what) {
    {
      std::lock_guard lock(m_mutex);
      m_seen.push_back(std::move(what));
    }
    m_changed.notify_all();
  }
  std::string m_name;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<std::string> m_seen;
};

// Blocks in its first on_cycle until released.
class BlockingSink final : public Sink {
 public:
  [[nodiscard]] std::string_view name() const override { return "blocking"; }
  void on_cycle(const CycleEvent& /*event*/) override {
    std::unique_lock lock(m_mutex);
    m_entered = true;
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return m_released; });
  }
  bool wait_entered() {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, k_deadline, [&] { return m_entered; });
  }
  void release() {
    {
      std::lock_guard lock(m_mutex);
      m_released = true;
    }
    m_changed.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_entered = false;
  bool m_released = false;
};

class ThrowingSink final : public Sink {
 public:
  [[nodiscard]] std::string_view name() const override { return "throwing"; }
  void on_cycle(const CycleEvent& /*event*/) override { throw std::runtime_error("disk gone"); }
  void on_site(const model::SiteTotals& /*totals*/) override { throw 42; }
};

}  // namespace tracermon::sinks::test
