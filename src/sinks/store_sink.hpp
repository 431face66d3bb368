#pragma once
// Files every cycle's values and every site total into the embedded history. Adding only
// buffers in memory; the daemon commits on its own schedule (SnapshotStore::commit).

#include "protocol/register_map.hpp"
#include "sinks/sink.hpp"
#include "store/snapshot_store.hpp"

namespace tracermon::sinks {

class StoreSink final : public Sink {
 public:
  StoreSink(const protocol::RegisterMap& map, store::SnapshotStore& store)
      : m_map(map), m_store(store) {}

  [[nodiscard]] std::string_view name() const override { return "store"; }
  // Values read before the host clock is known good would land under a wrong date: not filed.
  void on_cycle(const CycleEvent& event) override;
  void on_site(const model::SiteTotals& totals) override;

 private:
  const protocol::RegisterMap& m_map;
  store::SnapshotStore& m_store;
};

}  // namespace tracermon::sinks
