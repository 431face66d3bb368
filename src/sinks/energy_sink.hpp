#pragma once
// Host-side energy accounting as a sink: each device's energy totals go into its EnergyLedger
// (kWh per local day, month and year), and the changed periods of devices and sites are saved
// to the store on the daemon's commit schedule.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/register_map.hpp"
#include "sinks/energy_ledger.hpp"
#include "sinks/sink.hpp"
#include "store/snapshot_store.hpp"

namespace tracermon::sinks {

struct EnergySite {
  std::string name;
  std::vector<std::string> members;  // device names
};

class EnergySink final : public Sink {
 public:
  // `store` may be null (no history): then nothing is counted, as nothing could be kept.
  EnergySink(const protocol::RegisterMap& map, store::SnapshotStore* store,
             std::vector<std::string> devices, std::vector<EnergySite> sites);

  [[nodiscard]] std::string_view name() const override { return "energy"; }
  void on_cycle(const CycleEvent& event) override;

  // Counts one cycle's totals (also the demo history's way in). Before restore() (a store that
  // has not opened yet) nothing is counted: a fresh ledger would overwrite the saved one, and
  // the totals are counters, so the energy of the wait is counted later.
  void observe(const model::DeviceSnapshot& cycle);
  // The ledgers from the store (fresh ones for devices it has none of).
  void restore();
  // Saves the changed periods of every device and site. The error, or nullopt when saved or
  // there was nothing to save.
  std::optional<std::string> save();

 private:
  const protocol::RegisterMap& m_map;
  store::SnapshotStore* m_store;
  std::vector<std::string> m_devices;
  std::vector<EnergySite> m_sites;
  std::mutex m_mutex;  // cycles come on the sink's thread, saves from the daemon's
  std::map<std::string, EnergyLedger> m_ledgers;
};

}  // namespace tracermon::sinks
