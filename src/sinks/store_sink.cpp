#include "sinks/store_sink.hpp"

#include "core/wall_time.hpp"

namespace tracermon::sinks {

void StoreSink::on_cycle(const CycleEvent& event) {
  const auto& cycle = *event.cycle;
  if (!cycle.clock_trusted || cycle.fields.empty()) return;
  store::Record record{cycle.device, core::epoch_ms(cycle.time), {}};
  record.values.reserve(cycle.fields.size());
  for (const auto& sample : cycle.fields)
    record.values.push_back({m_map.field(sample.id).name, sample.value});
  m_store.add(std::move(record));
}

void StoreSink::on_site(const model::SiteTotals& totals) {
  if (!totals.clock_trusted || totals.values.empty()) return;
  store::Record record{totals.site, core::epoch_ms(totals.time), {}};
  record.values.reserve(totals.values.size());
  for (const auto& [name, value] : totals.values)
    record.values.push_back({name, value});
  m_store.add(std::move(record));
}

}  // namespace tracermon::sinks
