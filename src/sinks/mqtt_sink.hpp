#pragma once
// The MQTT output: a state message per device and per site each cycle, availability topics
// with a last will, and Home Assistant discovery (see ha_discovery.hpp for the topics).
//
// State messages go through an OutputRunner with an outbox: with QoS 1 a broker outage loses
// none of them; they arrive in order once the broker is back. Availability and discovery are
// current facts, not history: they are (re)published on every connection instead, and again
// when Home Assistant announces its restart on <discovery_prefix>/status.
//
// Devices announced to Home Assistant are remembered in `announced_file`; one that is no longer
// configured is removed from Home Assistant (empty retained config messages) on the next
// connection, and its retained state and availability are cleared.
//
// With a control service ([control] enabled) the sink also takes commands (mqtt_commands.hpp):
// it subscribes to <root>/+/set/+ on every connection, runs the commands on a thread of its
// own and answers on <root>/<device>/result; discovery adds the control entities (switch,
// button, numbers, selects) and each device's settings go retained to <root>/<device>/settings
// when they change. Control entities announced earlier are removed once control is off.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/control_service.hpp"
#include "format/ha_discovery.hpp"
#include "model/device_status.hpp"
#include "model/poll_intervals.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"
#include "sinks/mqtt_commands.hpp"
#include "sinks/mqtt_connection.hpp"
#include "sinks/output_queue.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

struct MqttSinkOptions {
  MqttConnectionOptions connection;  // will_topic/payload are set by the sink
  format::DiscoveryOptions topics;   // topic root, discovery prefix, expire_after
  bool discovery = true;
  int qos = 1;
  bool retain = true;  // state messages (availability and discovery are always retained)
  std::chrono::milliseconds ack_timeout{10000};
  model::PollIntervals intervals;        // what counts as a stale value in a state message
  std::filesystem::path announced_file;  // empty: removal of old devices is off
  std::vector<std::string> devices;      // configured device names
  std::map<std::string, std::vector<std::string>> sites;  // configured sites and members
  OutputRunnerOptions runner;
  // Commands and control entities; null = control off (no subscription, no new entities).
  control::ControlService* control = nullptr;
};

class MqttSink final : public Sink {
 public:
  MqttSink(const protocol::RegisterMap& map, MqttSinkOptions options,
           std::unique_ptr<Outbox> outbox);
  ~MqttSink() override;  // stop()
  MqttSink(const MqttSink&) = delete;
  MqttSink& operator=(const MqttSink&) = delete;

  [[nodiscard]] std::string_view name() const override { return "mqtt"; }
  // Connects in the background; throws only for settings libmosquitto refuses.
  void start() override;
  // Publishes "offline" for the daemon, disconnects, keeps undelivered states in the outbox.
  void stop() override;
  // The device's state (its merged live view) and availability; the site's totals.
  void on_cycle(const CycleEvent& event) override;
  void on_site(const model::SiteTotals& totals) override { publish_site(totals); }

  // After a device's cycle: `latest` is its merged view (LiveState), `status` its identity and
  // health. Thread-safe (called from every bus worker).
  void publish_device(const model::SnapshotPtr& latest, const model::DeviceStatus& status);
  void publish_site(const model::SiteTotals& totals);

  // Endpoint mqtt://host:port (no credentials); connected = the broker connection is up.
  [[nodiscard]] std::optional<OutputStatus> status() const override;

 private:
  struct DeviceAnnouncement {
    std::vector<protocol::FieldId> fields;
    model::DeviceStatus status;
    std::optional<bool> online;  // last availability published
    std::string settings;        // control: the last settings message
  };

  void on_connected();
  void on_message(const MqttMessage& message);
  void publish_result(const std::string& topic, const std::string& payload);
  void announce_all();
  void announce_device(const std::string& name, const DeviceAnnouncement& device);
  void remove_unconfigured();
  void remember_announced(const std::string& kind, const std::string& name);
  void load_announced();
  void save_announced();
  void publish_retained(const std::string& topic, const std::string& payload);
  core::Status deliver(std::span<const std::string> batch);

  const protocol::RegisterMap& m_map;
  MqttSinkOptions m_options;
  std::unique_ptr<MqttConnection> m_connection;
  std::unique_ptr<OutputRunner> m_runner;
  std::unique_ptr<MqttCommandRunner> m_commands;  // control on

  std::mutex m_mutex;  // guards the members below
  std::map<std::string, DeviceAnnouncement> m_devices;
  std::set<std::pair<std::string, std::string>> m_announced;  // (kind, name) in the file
};

}  // namespace tracermon::sinks
