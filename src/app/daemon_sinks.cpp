// The daemon's sinks: every consumer of the cycles, built from the configuration by one table.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/daemon.hpp"

namespace tracermon::app {
namespace {

std::unique_ptr<sinks::Outbox> open_outbox(std::string_view output, const SpoolConfig& spool) {
  sinks::OutboxOptions options;
  options.max_bytes = spool.outbox_max_bytes;
  options.max_age = spool.outbox_max_age;
  auto outbox = sinks::Outbox::open(spool.data_dir / "outbox", options);
  if (!outbox) {
    throw std::runtime_error(fmt::format("{}: cannot use the outbox in {}: {}", output,
                                         spool.data_dir.string(), outbox.error().describe()));
  }
  if (auto lost = outbox.value()->discarded_bytes(); lost > 0) {
    spdlog::warn("{}: {} bytes of the outbox were torn (a crash while writing) and cut off", output,
                 lost);
  }
  return std::move(outbox).value();
}

sinks::OutputRunnerOptions runner_options(sinks::OutputRunnerOptions options,
                                          const SpoolConfig& spool) {
  options.backoff_max = spool.retry_max;
  options.backoff_initial =
      std::min<std::chrono::milliseconds>(options.backoff_initial, spool.retry_max);
  return options;
}

// Every configured device, in file order.
std::vector<std::string> device_names(const DaemonConfig& config) {
  std::vector<std::string> names;
  for (const auto& bus : config.buses) {
    for (const auto& device : bus.devices)
      names.push_back(device.name);
  }
  return names;
}

}  // namespace

// Every consumer of the cycles, in the order they get each event: one row per sink, each
// returning null when the configuration leaves it off. A new output is one more row.
const Daemon::SinkRow Daemon::k_sink_table[] = {
    {"store", &Daemon::make_store_sink},
    {"energy", &Daemon::make_energy_sink},
    {"state_files", &Daemon::make_state_file_sink},
    {"filesnap", &Daemon::make_filesnap_sink},
    {"mqtt", &Daemon::make_mqtt_sink},
    {"influxdb", &Daemon::make_influx_sink},
    {"events", &Daemon::make_live_events_sink},
};

void Daemon::build_sinks() {
  for (const auto& row : k_sink_table) {
    if (auto sink = (this->*row.make)()) m_sinks.add(std::move(sink));
  }
  // The network outputs send each device's counters and health with its values.
  m_wants_status = m_config.mqtt.enabled || m_config.influxdb.enabled;
}

std::unique_ptr<sinks::Sink> Daemon::make_store_sink() {
  if (!m_store) return nullptr;
  return std::make_unique<sinks::StoreSink>(m_map, *m_store);
}

std::unique_ptr<sinks::Sink> Daemon::make_energy_sink() {
  if (!m_store) return nullptr;  // nowhere to keep it
  std::vector<sinks::EnergySite> sites;
  for (const auto& site : m_sites)
    sites.push_back({site.name, site.members});
  auto sink = std::make_unique<sinks::EnergySink>(m_map, m_store.get(), device_names(m_config),
                                                  std::move(sites));
  m_energy = sink.get();
  return sink;
}

std::unique_ptr<sinks::Sink> Daemon::make_state_file_sink() {
  const auto& dir = m_config.files.json_dir;
  if (dir.empty()) return nullptr;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("files.json_dir {}: cannot create it: {}", dir.string(), ec.message()));
  }
  return std::make_unique<sinks::StateFileSink>(m_map, dir, m_config.poll.intervals());
}

std::unique_ptr<sinks::Sink> Daemon::make_filesnap_sink() {
  if (m_config.files.filesnap.empty()) return nullptr;
  return std::make_unique<sinks::FilesnapSink>(m_map, m_config.files.filesnap);
}

std::unique_ptr<sinks::Sink> Daemon::make_mqtt_sink() {
  if (!m_config.mqtt.enabled) return nullptr;
  const auto& config = m_config.mqtt;
  sinks::MqttSinkOptions options;
  options.connection = config.connection;
  options.connection.retry_max = config.spool.retry_max;
  options.topics = config.topics;
  auto expire = config.expire_after.value_or(
      std::max<std::chrono::milliseconds>(m_config.poll.fast * 3, std::chrono::seconds(30)));
  options.topics.expire_after_s =
      static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(expire).count());
  options.discovery = config.discovery;
  options.qos = config.qos;
  options.retain = config.retain;
  options.intervals = m_config.poll.intervals();
  options.announced_file = config.spool.data_dir / "announced.json";
  options.devices = device_names(m_config);
  for (const auto& site : m_sites)
    options.sites[site.name] = site.members;
  options.runner = runner_options(options.runner, config.spool);
  // setup_control() ran before: with [control] enabled the sink takes commands.
  if (m_config.control.enabled) options.control = m_control.get();
  return std::make_unique<sinks::MqttSink>(m_map, std::move(options),
                                           open_outbox("mqtt", config.spool));
}

std::unique_ptr<sinks::Sink> Daemon::make_influx_sink() {
  if (!m_config.influxdb.enabled) return nullptr;
  const auto& config = m_config.influxdb;
  auto options = config.options;
  options.runner = runner_options(options.runner, config.spool);
  if (options.legacy) {
    options.legacy_devices = config.legacy_devices;
    if (options.legacy_devices.empty()) options.legacy_devices = device_names(m_config);
    options.legacy_max_age = site_max_age();
    options.legacy_slack = m_config.poll.fast / 2;
  }
  return std::make_unique<sinks::InfluxSink>(m_map, std::move(options),
                                             open_outbox("influxdb", config.spool));
}

std::unique_ptr<sinks::Sink> Daemon::make_live_events_sink() {
  if (!m_config.http.enabled) return nullptr;
  // The HTTP server starts after the sinks are built; events flow only once both run.
  sinks::LiveEventsSink::Target target{[this] { return m_http && m_http->has_event_streams(); },
                                       [this](const std::string& kind, std::string data) {
                                         m_http->publish({kind, std::move(data)});
                                       }};
  return std::make_unique<sinks::LiveEventsSink>(m_map, m_config.poll.intervals(),
                                                 std::move(target));
}

std::chrono::milliseconds Daemon::site_max_age() const {
  // A member's values count as fresh for one slow cycle and a half: the energy totals are slow
  // fields, and the sums need every member.
  return std::max(m_config.poll.slow * 3 / 2, m_config.poll.fast * 3);
}

std::optional<model::DeviceStatus> Daemon::device_status(const model::DeviceSnapshot& cycle) const {
  for (const auto& worker : m_workers) {
    auto bus = worker->status();
    if (bus.name != cycle.bus) continue;
    for (auto& device : bus.devices) {
      if (device.name == cycle.device) return std::move(device);
    }
  }
  return std::nullopt;
}

std::vector<sinks::OutputStatus> Daemon::output_statuses() const {
  std::vector<sinks::OutputStatus> out;
  for (const auto* sink : m_sinks.sinks()) {
    if (auto status = sink->status()) out.push_back(std::move(*status));
  }
  return out;
}

}  // namespace tracermon::app
