// `tracermon run --demo-history DAYS`: the demo opens on a week of history instead of an empty
// chart. Each simulated bus is run ahead from DAYS ago to now, read through the same planner
// and reader as the live poller (without wire time), filed like live samples, and then handed
// to the live poller, which goes on from where the history ends.

#include <spdlog/spdlog.h>

#include "app/cli_common.hpp"
#include "app/daemon.hpp"
#include "device/field_reader.hpp"
#include "model/site_totals.hpp"
#include "poller/sample.hpp"
#include "protocol/decode.hpp"
#include "sim/sim_stream.hpp"

namespace tracermon::app {

namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr int k_step_seconds = 60;

model::SnapshotPtr snapshot_of(const protocol::RegisterMap& map, const DeviceConfig& device,
                               const device::Reading& reading, core::WallTime wall) {
  auto snapshot = std::make_shared<model::DeviceSnapshot>();
  snapshot->device = device.name;
  snapshot->site = device.site;
  snapshot->unit = device.id;
  snapshot->time = wall;
  snapshot->steady = steady_clock::now();
  for (const auto& value : reading.values) {
    snapshot->fields.push_back(poller::make_sample(map.field(value.id), value, wall));
  }
  model::sort_by_field(snapshot->fields);
  return snapshot;
}

}  // namespace

void Daemon::fill_demo_history(int days) {
  if (!m_store) throw std::runtime_error("--demo-history needs the store ([store] enabled)");
  if (!m_store->sources().empty()) {
    spdlog::info("the store already holds history: no demo history added");
    return;
  }
  auto started = steady_clock::now();
  auto span = std::chrono::hours(24 * days);
  auto first = system_clock::now() - span;
  std::vector<protocol::FieldId> fields;
  for (const auto& field : m_map.fields()) {
    if (field.readable() && field.poll != protocol::PollClass::Never) fields.push_back(field.id);
  }
  std::size_t values = 0;
  sinks::StoreSink history(m_map, *m_store);
  for (const auto& bus : m_config.buses) {
    if (bus.port.kind != transport::LinkKind::Simulated) continue;
    auto options = sim::parse_sim_options(bus.port.path);
    auto faults = options.faults;
    options.faults = {};  // the past is clean; the faults asked for start live
    options.start = sim::host_local_clock() - static_cast<double>(days) * 86400.0;
    auto simulated = std::make_shared<sim::SimulatedBus>(options);
    transport::ModbusClient client(
        sim::make_instant_stream(simulated), transport::Framing::Rtu,
        {std::chrono::milliseconds(100), std::chrono::milliseconds(0), 0});
    device::FieldReader reader(m_map, client, {bus.max_registers});
    std::vector<protocol::DeviceSupport> support(bus.devices.size());
    auto steps = days * 86400 / k_step_seconds;
    for (int step = 0; step <= steps; ++step) {
      if (step > 0) simulated->run_for(k_step_seconds);
      auto wall = first + std::chrono::seconds(static_cast<std::int64_t>(step) * k_step_seconds);
      for (std::size_t i = 0; i < bus.devices.size(); ++i) {
        const auto& device = bus.devices[i];
        auto reading = reader.read(device.id, fields, support[i]);
        auto snapshot = snapshot_of(m_map, device, reading, wall);
        if (snapshot->fields.empty()) continue;
        values += snapshot->fields.size();
        // The past goes straight to the store and the energy accounting, not through the
        // sinks: they start with the live cycles.
        history.on_cycle({snapshot, snapshot, std::nullopt, nullptr});
        if (m_energy) m_energy->observe(*snapshot);
        m_live.merge(*snapshot);
      }
      for (const auto& site : m_sites)
        history.on_site(update_site(site));
      if (step % 720 == 0) {
        if (auto committed = m_store->commit(); !committed) {
          throw std::runtime_error("demo history: " + committed.error().message);
        }
      }
    }
    simulated->set_faults(faults);
    sim::install_shared_bus(bus.port.path, simulated);
  }
  if (auto committed = m_store->commit(); !committed) {
    throw std::runtime_error("demo history: " + committed.error().message);
  }
  save_energy();
  spdlog::info("demo history: {} days, {} values in {:.1f} s", days, values,
               std::chrono::duration<double>(steady_clock::now() - started).count());
}

}  // namespace tracermon::app
