#pragma once
// The dashboard's live view: after each cycle the device's latest values, after a site's last
// member its totals, as events for whoever listens (the web layer's Server-Sent Events). The
// JSON is built only while someone listens.

#include <functional>
#include <string>

#include "model/poll_intervals.hpp"
#include "protocol/register_map.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

class LiveEventsSink final : public Sink {
 public:
  struct Target {
    std::function<bool()> listening;
    // kind: "device" or "site"; data: the JSON text.
    std::function<void(const std::string& kind, std::string data)> publish;
  };

  LiveEventsSink(const protocol::RegisterMap& map, model::PollIntervals intervals, Target target)
      : m_map(map), m_intervals(intervals), m_target(std::move(target)) {}

  [[nodiscard]] std::string_view name() const override { return "events"; }
  void on_cycle(const CycleEvent& event) override;
  void on_site(const model::SiteTotals& totals) override;

 private:
  const protocol::RegisterMap& m_map;
  model::PollIntervals m_intervals;
  Target m_target;
};

}  // namespace tracermon::sinks
