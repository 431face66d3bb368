#pragma once
// Commands over MQTT ([control] enabled): messages on <root>/<device>/set/<name> become control
// requests, answered on <root>/<device>/result (see ha_discovery.hpp for the topics).
//
//   .../set/load          on, off, auto (any case: Home Assistant's switch sends ON/OFF)
//   .../set/clock_sync    any payload (Home Assistant's button sends PRESS): write host time
//   .../set/<setting>     the value as on the command line: "14.4", "user", "0"
//
// A control request can block for a bus command (up to ~30 s), so nothing runs on
// libmosquitto's network thread: parse_command() only checks the message, and the
// MqttCommandRunner queues it (bounded; a full queue is answered with status 503) and runs
// the requests one at a time on a thread of its own. Retained commands are never run: a
// retained "off" would switch the load again after every restart of the daemon.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/control_service.hpp"
#include "format/ha_discovery.hpp"

namespace tracermon::sinks {

inline constexpr std::size_t k_max_command_payload = 256;
inline constexpr std::size_t k_command_queue = 16;

struct MqttCommand {
  std::string topic;         // the command topic, echoed in the result
  std::string result_topic;  // <root>/<device>/result
  control::Request request;  // to run when `status` is 0
  int status = 0;            // else refused before the control service (400, 404)
  std::string error;
};

// The command a message asks for, or nullopt when `topic` is not a command topic
// (<root>/<device>/set/<name>). `devices` are the configured names; a device is matched by
// its topic form (topic_safe). Refused here: retained messages, an empty payload or one over
// k_max_command_payload bytes, an unknown device. Everything else (unknown setting, bad
// value, bad load state) is the control service's to refuse, audited like any other source.
std::optional<MqttCommand> parse_command(const format::DiscoveryOptions& topics,
                                         const std::vector<std::string>& devices,
                                         const std::string& topic, const std::string& payload,
                                         bool retained);

// The result message: control::to_json(result) with "status" (as HTTP) and "topic" (the
// command it answers).
std::string result_message(const protocol::SettingsCatalog& catalog, const control::Result& result,
                           const std::string& command_topic);

class MqttCommandRunner {
 public:
  // Publishes a result (QoS 1, not retained); called on the runner's thread, or on the
  // caller's for what submit() answers at once.
  using Publish = std::function<void(const std::string& topic, const std::string& payload)>;

  MqttCommandRunner(control::ControlService& control, Publish publish,
                    std::size_t capacity = k_command_queue);
  ~MqttCommandRunner();  // stop()
  MqttCommandRunner(const MqttCommandRunner&) = delete;
  MqttCommandRunner& operator=(const MqttCommandRunner&) = delete;

  void start();
  // Waits for the command that runs; the queued ones are dropped (logged). Idempotent.
  void stop();

  // Never blocks on the bus: a refused command is answered at once; others are queued, or
  // answered with 503 when the queue is full.
  void submit(MqttCommand command);

  // Commands answered so far, and waiting now (tests, status).
  [[nodiscard]] std::size_t answered() const;
  [[nodiscard]] std::size_t queued() const;

 private:
  void run();
  void answer(const MqttCommand& command, const control::Result& result);

  control::ControlService& m_control;
  Publish m_publish;
  std::size_t m_capacity;
  std::thread m_thread;

  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<MqttCommand> m_queue;
  bool m_stopping = false;
  std::size_t m_answered = 0;
};

}  // namespace tracermon::sinks
