// The daemon's network outputs: MQTT and InfluxDB, fed after every device cycle.
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

}  // namespace

void Daemon::open_outputs() {
  if (m_config.mqtt.enabled) {
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
    for (const auto& bus : m_config.buses) {
      for (const auto& device : bus.devices)
        options.devices.push_back(device.name);
    }
    for (const auto& site : m_sites)
      options.sites[site.name] = site.members;
    options.runner = runner_options(options.runner, config.spool);
    m_mqtt = std::make_unique<sinks::MqttSink>(m_map, std::move(options),
                                               open_outbox("mqtt", config.spool));
  }
  if (m_config.influxdb.enabled) {
    const auto& config = m_config.influxdb;
    auto options = config.options;
    options.runner = runner_options(options.runner, config.spool);
    m_influx = std::make_unique<sinks::InfluxSink>(m_map, std::move(options),
                                                   open_outbox("influxdb", config.spool));
    if (config.options.legacy) {
      m_legacy_devices = config.legacy_devices;
      if (m_legacy_devices.empty()) {
        for (const auto& bus : m_config.buses) {
          for (const auto& device : bus.devices)
            m_legacy_devices.push_back(device.name);
        }
      }
    }
  }
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

void Daemon::publish(const model::SnapshotPtr& cycle, const model::SnapshotPtr& latest) {
  if (!m_mqtt && !m_influx) return;
  auto status = device_status(*cycle);
  if (m_mqtt && status) m_mqtt->publish_device(latest, *status);
  // Values before the host clock is known good would land under a wrong date.
  if (!m_influx || !cycle->clock_trusted) return;
  m_influx->write(*cycle);
  if (status) m_influx->write_comm(*status, *cycle);
  if (!m_legacy_devices.empty() && cycle->device == m_legacy_devices.back()) publish_legacy();
}

void Daemon::publish_legacy() {
  std::vector<model::SnapshotPtr> members;
  for (const auto& name : m_legacy_devices) {
    auto snapshot = m_live.device(name);
    if (!snapshot) return;  // not polled yet: no point rather than a partial sum
    members.push_back(snapshot);
  }
  m_influx->write_legacy(members, std::chrono::steady_clock::now(), site_max_age());
}

std::vector<sinks::OutputStatus> Daemon::output_statuses() const {
  std::vector<sinks::OutputStatus> out;
  if (m_mqtt) {
    auto status = m_mqtt->status();
    out.push_back({"mqtt", status.endpoint, status.connection.connected, status.delivery});
  }
  if (m_influx) {
    auto counters = m_influx->counters();
    bool accepting = counters.state == sinks::OutputState::Connected;
    out.push_back({"influxdb", m_influx->endpoint(), accepting, counters});
  }
  return out;
}

}  // namespace tracermon::app
