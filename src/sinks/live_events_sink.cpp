#include "sinks/live_events_sink.hpp"

#include "format/snapshot_json.hpp"

namespace tracermon::sinks {

void LiveEventsSink::on_cycle(const CycleEvent& event) {
  if (!m_target.listening()) return;
  // The same object as the device's entry in /api/v1/latest.
  m_target.publish("device", format::snapshot_json(m_map, *event.latest, m_intervals).dump());
}

void LiveEventsSink::on_site(const model::SiteTotals& totals) {
  if (!m_target.listening()) return;
  m_target.publish("site", format::site_totals_json(totals).dump());
}

}  // namespace tracermon::sinks
