#include "sinks/mqtt_sink.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/atomic_file.hpp"
#include "format/ha_discovery.hpp"
#include "format/mqtt_messages.hpp"

namespace tracermon::sinks {

// The messages and topics are pure shapes (src/format).
using format::command_subscription;
using format::daemon_status_topic;
using format::device_availability_topic;
using format::device_control_discovery;
using format::device_control_removal;
using format::device_discovery;
using format::device_removal;
using format::device_settings_message;
using format::device_settings_topic;
using format::device_state_message;
using format::device_state_topic;
using format::entity_fields;
using format::site_discovery;
using format::site_removal;
using format::site_state_message;
using format::site_state_topic;

namespace {

constexpr std::string_view k_online = "online";
constexpr std::string_view k_offline = "offline";
constexpr std::string_view k_devices = "devices";
constexpr std::string_view k_sites = "sites";
constexpr std::string_view k_controls = "controls";  // devices announced with control entities

// A queued state message: "<topic>\n<payload>" (topics never hold a newline, JSON dumps neither).
std::string encode(const std::string& topic, const std::string& payload) {
  return topic + '\n' + payload;
}

bool same_identity(const model::DeviceStatus& a, const model::DeviceStatus& b) {
  return a.model == b.model && a.identity.vendor == b.identity.vendor &&
         a.identity.product_code == b.identity.product_code &&
         a.identity.revision == b.identity.revision && a.identity.serial == b.identity.serial;
}

}  // namespace

MqttSink::MqttSink(const protocol::RegisterMap& map, MqttSinkOptions options,
                   std::unique_ptr<Outbox> outbox)
    : m_map(map), m_options(std::move(options)) {
  m_options.connection.will_topic = daemon_status_topic(m_options.topics);
  m_options.connection.will_payload = std::string(k_offline);
  m_options.runner.name = "mqtt";
  // A delivery waits for the broker's acknowledgements; stop() must outwait it.
  m_options.runner.stop_timeout = m_options.ack_timeout + std::chrono::seconds(2);
  m_connection = std::make_unique<MqttConnection>(
      m_options.connection, [this] { on_connected(); },
      [this](const MqttMessage& message) { on_message(message); });
  if (m_options.control != nullptr) {
    m_commands = std::make_unique<MqttCommandRunner>(
        *m_options.control, [this](const std::string& topic, const std::string& payload) {
          publish_result(topic, payload);
        });
  }
  m_runner = std::make_unique<OutputRunner>(
      [this](std::span<const std::string> batch) { return deliver(batch); }, std::move(outbox),
      m_options.runner);
}

MqttSink::~MqttSink() {
  stop();
}

void MqttSink::start() {
  load_announced();
  if (m_commands) m_commands->start();
  m_connection->start();
}

void MqttSink::stop() {
  if (m_commands) m_commands->stop();  // a write that runs finishes and is answered first
  if (m_runner) m_runner->stop();
  if (m_connection) {
    m_connection->stop({daemon_status_topic(m_options.topics), std::string(k_offline), 1, true});
  }
}

core::Status MqttSink::deliver(std::span<const std::string> batch) {
  std::vector<MqttMessage> messages;
  messages.reserve(batch.size());
  for (const auto& item : batch) {
    auto newline = item.find('\n');
    if (newline == std::string::npos) continue;  // not ours: nothing sensible to send
    messages.push_back(
        {item.substr(0, newline), item.substr(newline + 1), m_options.qos, m_options.retain});
  }
  return m_connection->publish_all(messages, m_options.ack_timeout);
}

void MqttSink::publish_retained(const std::string& topic, const std::string& payload) {
  // Not connected: everything retained is published again on the next connection.
  if (!m_connection->connected()) return;
  auto sent = m_connection->publish({topic, payload, 1, true});
  if (!sent) spdlog::debug("mqtt: {} not published: {}", topic, sent.error().describe());
}

void MqttSink::on_connected() {
  publish_retained(daemon_status_topic(m_options.topics), std::string(k_online));
  if (m_options.discovery) {
    auto subscribed = m_connection->subscribe(m_options.topics.discovery_prefix + "/status", 1);
    if (!subscribed) spdlog::warn("mqtt: cannot subscribe: {}", subscribed.error().describe());
    remove_unconfigured();
  }
  if (m_commands) {
    // A clean session: the subscription is made again on every connection.
    auto subscribed = m_connection->subscribe(command_subscription(m_options.topics), 1);
    if (!subscribed) {
      spdlog::warn("mqtt: cannot subscribe to commands: {}", subscribed.error().describe());
    }
  }
  announce_all();
  m_runner->retry_now();
}

void MqttSink::on_message(const MqttMessage& message) {
  // Home Assistant restarted: it forgot every entity that has no retained config.
  if (message.topic == m_options.topics.discovery_prefix + "/status") {
    if (message.payload == k_online) {
      spdlog::info("mqtt: Home Assistant is online; sending discovery again");
      announce_all();
    }
    return;
  }
  if (!m_commands) return;
  // On the network thread: parsing only; the command runs on the runner's thread.
  auto command = parse_command(m_options.topics, m_options.devices, message.topic, message.payload,
                               message.retain);
  if (command) m_commands->submit(std::move(*command));
}

void MqttSink::publish_result(const std::string& topic, const std::string& payload) {
  // Answers are not retained: a later subscriber must not take an old answer for its own.
  auto sent = m_connection->publish({topic, payload, 1, false});
  if (!sent) spdlog::warn("mqtt: result to {} not published: {}", topic, sent.error().describe());
}

void MqttSink::announce_all() {
  std::lock_guard lock(m_mutex);
  for (const auto& [name, device] : m_devices)
    announce_device(name, device);
  if (!m_options.discovery) return;
  for (const auto& [site, members] : m_options.sites) {
    for (const auto& message : site_discovery(site, members, m_options.topics))
      publish_retained(message.topic, message.payload);
    remember_announced(std::string(k_sites), site);
  }
}

void MqttSink::announce_device(const std::string& name, const DeviceAnnouncement& device) {
  if (m_options.discovery && !device.fields.empty()) {
    for (const auto& message :
         device_discovery(m_map, device.status, device.fields, m_options.topics))
      publish_retained(message.topic, message.payload);
    remember_announced(std::string(k_devices), name);
    if (m_options.control != nullptr) {
      for (const auto& message :
           device_control_discovery(m_options.control->catalog(), device.status, m_options.topics))
        publish_retained(message.topic, message.payload);
      remember_announced(std::string(k_controls), name);
    }
  }
  if (!device.settings.empty()) {
    publish_retained(device_settings_topic(m_options.topics, name), device.settings);
  }
  if (device.online) {
    publish_retained(device_availability_topic(m_options.topics, name),
                     std::string(*device.online ? k_online : k_offline));
  }
}

void MqttSink::publish_device(const model::SnapshotPtr& latest, const model::DeviceStatus& status) {
  if (!latest) return;
  const auto& name = latest->device;
  auto fields = entity_fields(m_map, *latest);
  std::optional<bool> online;
  if (latest->health != model::Health::Unknown) {
    online = latest->health != model::Health::Offline;
  }
  {
    std::lock_guard lock(m_mutex);
    auto& device = m_devices[name];
    bool changed = fields != device.fields || !same_identity(status, device.status);
    bool availability_changed = online != device.online;
    device.fields = fields;
    device.status = status;
    device.online = online;
    // Control: the settings as the number and select entities show them, when they changed
    // (the bus worker reads them again after every write).
    bool settings_changed = false;
    if (m_options.control != nullptr) {
      auto settings = device_settings_message(m_options.control->catalog(), *latest);
      settings_changed = settings != device.settings;
      device.settings = std::move(settings);
    }
    if (changed) {
      announce_device(name, device);
    } else {
      if (availability_changed && online) {
        publish_retained(device_availability_topic(m_options.topics, name),
                         std::string(*online ? k_online : k_offline));
      }
      if (settings_changed) {
        publish_retained(device_settings_topic(m_options.topics, name), device.settings);
      }
    }
  }
  // An offline controller has nothing new to say: its availability says it.
  if (latest->health == model::Health::Offline || fields.empty()) return;
  auto payload =
      device_state_message(m_map, *latest, m_options.intervals, std::chrono::steady_clock::now());
  m_runner->offer(encode(device_state_topic(m_options.topics, name), payload));
}

void MqttSink::publish_site(const model::SiteTotals& totals) {
  m_runner->offer(
      encode(site_state_topic(m_options.topics, totals.site), site_state_message(totals)));
}

// Called with m_mutex held.
void MqttSink::remember_announced(const std::string& kind, const std::string& name) {
  if (m_options.announced_file.empty() || !m_announced.emplace(kind, name).second) return;
  save_announced();
}

// Called with m_mutex held.
void MqttSink::save_announced() {
  nlohmann::json doc = {{k_devices, nlohmann::json::array()}, {k_sites, nlohmann::json::array()}};
  for (const auto& [kind, name] : m_announced)
    doc[kind].push_back(name);
  auto written = core::write_file_atomically(m_options.announced_file, doc.dump(1) + "\n");
  if (!written) spdlog::warn("mqtt: {}", written.error().message);
}

void MqttSink::load_announced() {
  std::lock_guard lock(m_mutex);
  if (m_options.announced_file.empty()) return;
  std::ifstream in(m_options.announced_file);
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_object()) {
    spdlog::warn(
        "mqtt: {} is unreadable; devices removed from the configuration meanwhile stay in "
        "Home Assistant",
        m_options.announced_file.string());
    return;
  }
  for (auto kind : {k_devices, k_sites, k_controls}) {
    if (!doc.contains(kind) || !doc[kind].is_array()) continue;
    for (const auto& name : doc[kind]) {
      if (name.is_string()) m_announced.emplace(std::string(kind), name.get<std::string>());
    }
  }
}

void MqttSink::remove_unconfigured() {
  std::lock_guard lock(m_mutex);
  if (m_options.announced_file.empty()) return;
  std::vector<std::pair<std::string, std::string>> gone;
  for (const auto& [kind, name] : m_announced) {
    bool is_device = std::find(m_options.devices.begin(), m_options.devices.end(), name) !=
                     m_options.devices.end();
    bool configured = kind == k_devices    ? is_device
                      : kind == k_controls ? is_device && m_options.control != nullptr
                                           : m_options.sites.contains(name);
    if (!configured) gone.emplace_back(kind, name);
  }
  if (gone.empty()) return;
  for (const auto& [kind, name] : gone) {
    if (kind == k_controls) {
      // The device, or control, is gone: its switch, button, numbers and selects go too.
      spdlog::info("mqtt: removing the control entities of '{}' from Home Assistant", name);
      const auto& catalog = m_options.control != nullptr ? m_options.control->catalog()
                                                         : protocol::SettingsCatalog::builtin();
      for (const auto& message : device_control_removal(catalog, name, m_options.topics))
        publish_retained(message.topic, message.payload);
      publish_retained(device_settings_topic(m_options.topics, name), "");
      m_announced.erase({kind, name});
      continue;
    }
    spdlog::info("mqtt: removing {} '{}' (no longer configured) from Home Assistant",
                 kind == k_devices ? "device" : "site", name);
    auto removal = kind == k_devices ? device_removal(m_map, name, m_options.topics)
                                     : site_removal(name, m_options.topics);
    for (const auto& message : removal)
      publish_retained(message.topic, message.payload);
    if (kind == k_devices) {
      publish_retained(device_state_topic(m_options.topics, name), "");
      publish_retained(device_availability_topic(m_options.topics, name), "");
    } else {
      publish_retained(site_state_topic(m_options.topics, name), "");
    }
    m_announced.erase({kind, name});
  }
  save_announced();
}

std::optional<OutputStatus> MqttSink::status() const {
  return OutputStatus{"mqtt",
                      fmt::format("{}://{}:{}", m_options.connection.tls ? "mqtts" : "mqtt",
                                  m_options.connection.host, m_options.connection.port),
                      m_connection->status().connected, m_runner->counters()};
}

void MqttSink::on_cycle(const CycleEvent& event) {
  if (event.status) publish_device(event.latest, *event.status);
}

}  // namespace tracermon::sinks
