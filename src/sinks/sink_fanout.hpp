#pragma once
// Hands every cycle and site total to every sink, in order, without letting one sink hold up
// the bus worker or another sink: each sink has its own thread and a bounded queue. A sink that
// falls behind loses its oldest events (counted), one that throws has the event counted as
// failed; neither is seen by the others.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/log_limiter.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

struct SinkCounters {
  std::string name;
  std::uint64_t delivered = 0;  // events the sink took without throwing
  std::uint64_t failed = 0;     // events it threw on
  std::uint64_t dropped = 0;    // events lost because its queue was full
  std::uint64_t queued = 0;     // waiting now
};

class SinkFanout {
 public:
  // 256 events: minutes of cycles of a full PAL-ADP bus, and a few MB at most for a sink that
  // hangs (each event holds a device's snapshots).
  explicit SinkFanout(std::size_t queue_limit = 256) : m_queue_limit(queue_limit) {}
  ~SinkFanout();
  SinkFanout(const SinkFanout&) = delete;
  SinkFanout& operator=(const SinkFanout&) = delete;

  // Before start(). Events reach the sinks in the order they were added. `queue_limit` 0: the
  // fan-out's default.
  Sink& add(std::unique_ptr<Sink> sink, std::size_t queue_limit = 0);
  // Starts each sink, then its thread.
  void start();
  // Queue for every sink and return: never waits for a sink. Thread-safe.
  void cycle(CycleEvent event);
  void site(model::SiteTotals totals);
  // Every event queued so far is handed over, then the threads end (the sinks stay). Waits for
  // the sinks: call after the producers stopped.
  void drain();
  // drain(), then each sink's stop(), in the order added.
  void stop();

  [[nodiscard]] std::vector<SinkCounters> counters() const;
  [[nodiscard]] std::vector<const Sink*> sinks() const;

 private:
  using Event = std::shared_ptr<const std::variant<CycleEvent, model::SiteTotals>>;
  struct Lane {
    std::unique_ptr<Sink> sink;
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<Event> queue;
    std::size_t limit = 0;
    bool busy = false;  // an event is being handed over
    bool closing = false;
    SinkCounters counters;
    std::thread thread;
  };

  void offer(const Event& event);
  void run(Lane& lane);

  std::size_t m_queue_limit;
  std::vector<std::unique_ptr<Lane>> m_lanes;
  core::LogLimiter m_log;
  bool m_started = false;
  bool m_stopped = false;
};

}  // namespace tracermon::sinks
