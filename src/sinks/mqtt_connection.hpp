#pragma once
// One MQTT client connection (libmosquitto, MQTT 3.1.1) with its own network thread that
// connects, reconnects after 1, 2, 4 ... `retry_max` seconds, and keeps the session alive.
//
// libmosquitto's own loop thread gives up for good on some errors (a DNS failure, a TLS
// error), so this class drives mosquitto_loop() itself: a broker that is away, a wrong
// password or a bad certificate is retried with backoff for as long as the daemon runs.
// Publishing is thread-safe (mosquitto_threaded_set).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>

#include "core/result.hpp"

struct mosquitto;
struct mosquitto_message;

namespace tracermon::sinks {

struct MqttConnectionOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  bool tls = false;
  std::string ca_file;  // TLS: the CA that signed the broker's certificate; empty = system CAs
  std::string cert_file, key_file;  // TLS client certificate (optional)
  std::string username, password;
  std::string client_id;
  std::chrono::seconds keepalive{30};
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{60000};
  // The last will: published by the broker when the connection is lost without a goodbye.
  std::string will_topic, will_payload;
};

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

struct MqttConnectionStatus {
  bool connected = false;
  std::uint64_t connects = 0;  // successful connections since start
  std::string last_error;
};

class MqttConnection {
 public:
  using ConnectedHook = std::function<void()>;  // on the network thread, after each CONNACK
  // On the network thread: must not block (the connection's keepalive runs there).
  using MessageHook = std::function<void(const MqttMessage& message)>;

  MqttConnection(MqttConnectionOptions options, ConnectedHook on_connected, MessageHook on_message);
  ~MqttConnection();  // stop()
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  // Starts the network thread. Throws std::runtime_error for settings libmosquitto refuses
  // (such as an unreadable CA file): those are start-up errors.
  void start();
  // Sends `goodbye` (when connected and not empty), disconnects cleanly (no last will) and ends
  // the thread. Idempotent.
  void stop(const MqttMessage& goodbye = {});

  // Queues one message; fails when not connected.
  core::Status publish(const MqttMessage& message);
  // Publishes every message and, for QoS > 0, waits until the broker acknowledged each (or
  // the connection dropped, or `timeout`). Ok only when all were acknowledged (QoS 0: sent).
  core::Status publish_all(std::span<const MqttMessage> messages,
                           std::chrono::milliseconds timeout);
  core::Status subscribe(const std::string& topic, int qos);

  [[nodiscard]] MqttConnectionStatus status() const;
  [[nodiscard]] bool connected() const;

 private:
  static void on_connect(mosquitto* client, void* self, int rc);
  static void on_disconnect(mosquitto* client, void* self, int rc);
  static void on_publish(mosquitto* client, void* self, int mid);
  static void on_message(mosquitto* client, void* self, const mosquitto_message* message);

  void run();
  void failed(const std::string& message);
  bool wait_backoff(std::chrono::milliseconds delay);  // false when stopping

  MqttConnectionOptions m_options;
  ConnectedHook m_on_connected;
  MessageHook m_on_message;
  std::unique_ptr<mosquitto, void (*)(mosquitto*)> m_client;
  std::thread m_thread;

  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopping = false;
  bool m_connected = false;
  bool m_refused = false;  // the broker answered CONNACK with an error
  std::uint64_t m_connects = 0;
  std::uint64_t m_session = 0;  // bumped on every connection loss: a waiter's acks died with it
  std::string m_last_error;
  std::set<int> m_waiting;  // message ids publish_all waits to see acknowledged
};

}  // namespace tracermon::sinks
