#include "sinks/energy_sink.hpp"

#include <set>
#include <utility>

#include <spdlog/spdlog.h>

namespace tracermon::sinks {

EnergySink::EnergySink(const protocol::RegisterMap& map, store::SnapshotStore* store,
                       std::vector<std::string> devices, std::vector<EnergySite> sites)
    : m_map(map), m_store(store), m_devices(std::move(devices)), m_sites(std::move(sites)) {}

void EnergySink::on_cycle(const CycleEvent& event) {
  if (event.cycle->clock_trusted) observe(*event.cycle);
}

void EnergySink::observe(const model::DeviceSnapshot& cycle) {
  const auto* generated = m_map.find("generated_energy_total");
  const auto* consumed = m_map.find("consumed_energy_total");
  auto g = cycle.value(m_map, "generated_energy_total");
  auto c = cycle.value(m_map, "consumed_energy_total");
  if (!g && !c) return;
  bool reset = false;
  for (auto id : cycle.counter_resets)
    reset = reset || id == generated->id || id == consumed->id;
  std::lock_guard lock(m_mutex);
  auto it = m_ledgers.find(cycle.device);
  if (it == m_ledgers.end()) return;
  auto observation = it->second.observe(cycle.time, g, c, reset);
  if (observation.clock_went_back) {
    spdlog::warn("{}: host clock is behind the last energy reading; filing under {}", cycle.device,
                 observation.day);
  }
  for (auto [event, name] : {std::pair{observation.generated, "generated"},
                             std::pair{observation.consumed, "consumed"}}) {
    if (event == CounterEvent::Jump || event == CounterEvent::Reset) {
      spdlog::warn("{}: {} energy total {}; accounting re-baselined", cycle.device, name,
                   event == CounterEvent::Jump ? "jumped implausibly" : "restarted");
    }
  }
}

void EnergySink::restore() {
  if (m_store == nullptr) return;
  std::lock_guard lock(m_mutex);
  for (const auto& device : m_devices) {
    EnergyLedger ledger(device);
    if (auto saved = m_store->get_state("ledger:" + device)) {
      auto restored = EnergyLedger::from_json(*saved);
      if (restored) {
        ledger = std::move(restored.value());
      } else {
        spdlog::warn("{}: saved energy accounting unreadable ({}); starting afresh", device,
                     restored.error().message);
      }
    }
    m_ledgers.insert_or_assign(device, std::move(ledger));
  }
}

std::optional<std::string> EnergySink::save() {
  if (m_store == nullptr || !m_store->is_open()) return std::nullopt;
  std::lock_guard lock(m_mutex);
  std::vector<store::EnergyRow> rows;
  std::set<std::pair<PeriodKind, std::string>> touched;
  for (auto& [name, ledger] : m_ledgers) {
    auto dirty = ledger.dirty();
    if (dirty.empty()) continue;
    for (const auto& period : dirty) {
      rows.push_back({name, period.period, period.generated_kwh, period.consumed_kwh});
      touched.insert({period.kind, period.period});
    }
    auto saved = m_store->put_state("ledger:" + name, ledger.to_json());
    if (!saved) return saved.error().message;
  }
  // A site's energy is the sum of its members' host-side accounting, so a member's counter
  // reset never shows as a negative site day.
  for (const auto& site : m_sites) {
    for (const auto& [kind, period] : touched) {
      double generated = 0;
      double consumed = 0;
      for (const auto& member : site.members) {
        auto ledger = m_ledgers.find(member);
        if (ledger == m_ledgers.end()) continue;
        if (auto p = ledger->second.period(kind, period)) {
          generated += p->generated_kwh;
          consumed += p->consumed_kwh;
        }
      }
      rows.push_back({site.name, period, generated, consumed});
    }
  }
  if (rows.empty()) return std::nullopt;
  auto saved = m_store->put_energy(rows);
  if (!saved) return saved.error().message;
  for (auto& [name, ledger] : m_ledgers)
    ledger.mark_saved();
  return std::nullopt;
}

}  // namespace tracermon::sinks
