#include "sinks/sink_fanout.hpp"

#include <exception>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tracermon::sinks {

SinkFanout::~SinkFanout() {
  stop();
}

Sink& SinkFanout::add(std::unique_ptr<Sink> sink, std::size_t queue_limit) {
  auto lane = std::make_unique<Lane>();
  lane->limit = queue_limit > 0 ? queue_limit : m_queue_limit;
  lane->counters.name = std::string(sink->name());
  lane->sink = std::move(sink);
  m_lanes.push_back(std::move(lane));
  return *m_lanes.back()->sink;
}

void SinkFanout::start() {
  if (m_started) return;
  m_started = true;
  for (auto& lane : m_lanes) {
    lane->sink->start();
    lane->thread = std::thread([this, raw = lane.get()] { run(*raw); });
  }
}

void SinkFanout::cycle(CycleEvent event) {
  offer(std::make_shared<const std::variant<CycleEvent, model::SiteTotals>>(std::move(event)));
}

void SinkFanout::site(model::SiteTotals totals) {
  offer(std::make_shared<const std::variant<CycleEvent, model::SiteTotals>>(std::move(totals)));
}

void SinkFanout::offer(const Event& event) {
  for (auto& lane : m_lanes) {
    bool dropped = false;
    {
      std::lock_guard lock(lane->mutex);
      if (lane->closing) continue;
      if (lane->queue.size() >= lane->limit) {
        lane->queue.pop_front();
        ++lane->counters.dropped;
        dropped = true;
      }
      lane->queue.push_back(event);
    }
    lane->wake.notify_one();
    if (dropped) {
      auto key = "dropped:" + lane->counters.name;
      if (auto text = m_log.admit(key, fmt::format("sink {} falls behind: its oldest events "
                                                   "are dropped",
                                                   lane->counters.name))) {
        spdlog::warn("{}", *text);
      }
    }
  }
}

void SinkFanout::run(Lane& lane) {
  std::unique_lock lock(lane.mutex);
  for (;;) {
    lane.wake.wait(lock, [&] { return lane.closing || !lane.queue.empty(); });
    if (lane.queue.empty()) return;  // closing and nothing left
    auto event = std::move(lane.queue.front());
    lane.queue.pop_front();
    lane.busy = true;
    lock.unlock();
    bool ok = true;
    std::string error;
    try {
      if (const auto* cycle = std::get_if<CycleEvent>(event.get())) {
        lane.sink->on_cycle(*cycle);
      } else {
        lane.sink->on_site(std::get<model::SiteTotals>(*event));
      }
    } catch (const std::exception& e) {
      ok = false;
      error = e.what();
    } catch (...) {
      ok = false;
      error = "unknown exception";
    }
    if (!ok) {
      if (auto text = m_log.admit("failed:" + lane.counters.name,
                                  fmt::format("sink {} failed: {}", lane.counters.name, error))) {
        spdlog::error("{}", *text);
      }
    }
    lock.lock();
    lane.busy = false;
    ++(ok ? lane.counters.delivered : lane.counters.failed);
  }
}

void SinkFanout::drain() {
  for (auto& lane : m_lanes) {
    {
      std::lock_guard lock(lane->mutex);
      lane->closing = true;
    }
    lane->wake.notify_all();
  }
  for (auto& lane : m_lanes) {
    if (lane->thread.joinable()) lane->thread.join();
  }
}

void SinkFanout::stop() {
  if (m_stopped) return;
  m_stopped = true;
  drain();
  if (!m_started) return;
  for (auto& lane : m_lanes) {
    try {
      lane->sink->stop();
    } catch (const std::exception& e) {
      spdlog::error("sink {}: stop failed: {}", lane->counters.name, e.what());
    }
  }
}

std::vector<SinkCounters> SinkFanout::counters() const {
  std::vector<SinkCounters> out;
  out.reserve(m_lanes.size());
  for (const auto& lane : m_lanes) {
    std::lock_guard lock(lane->mutex);
    out.push_back(lane->counters);
    out.back().queued = lane->queue.size() + (lane->busy ? 1 : 0);
  }
  return out;
}

std::vector<const Sink*> SinkFanout::sinks() const {
  std::vector<const Sink*> out;
  out.reserve(m_lanes.size());
  for (const auto& lane : m_lanes)
    out.push_back(lane->sink.get());
  return out;
}

}  // namespace tracermon::sinks
