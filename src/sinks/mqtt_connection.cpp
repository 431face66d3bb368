#include "sinks/mqtt_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mosquitto.h>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tracermon::sinks {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

void check(int rc, std::string_view what) {
  if (rc != MOSQ_ERR_SUCCESS) {
    throw std::runtime_error(fmt::format("mqtt: {}: {}", what, describe(rc)));
  }
}

}  // namespace

MqttConnection::MqttConnection(MqttConnectionOptions options, ConnectedHook on_connected,
                               MessageHook on_message)
    : m_options(std::move(options)),
      m_on_connected(std::move(on_connected)),
      m_on_message(std::move(on_message)),
      m_client(nullptr, &mosquitto_destroy) {}

MqttConnection::~MqttConnection() {
  stop();
}

void MqttConnection::start() {
  init_library();
  // A clean session: what the broker would keep for us across a restart, the outbox keeps.
  m_client.reset(mosquitto_new(m_options.client_id.c_str(), true, this));
  if (!m_client) {
    throw std::runtime_error(
        fmt::format("mqtt: cannot create a client: {}", describe(MOSQ_ERR_ERRNO)));
  }
  auto* client = m_client.get();
  check(mosquitto_threaded_set(client, true), "threaded mode");
  check(mosquitto_int_option(client, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311),
        "protocol version");
  if (!m_options.username.empty()) {
    check(mosquitto_username_pw_set(
              client, m_options.username.c_str(),
              m_options.password.empty() ? nullptr : m_options.password.c_str()),
          "username");
  }
  if (m_options.tls) {
    const char* ca_file = m_options.ca_file.empty() ? nullptr : m_options.ca_file.c_str();
    const char* ca_path = ca_file ? nullptr : "/etc/ssl/certs";
    const char* cert = m_options.cert_file.empty() ? nullptr : m_options.cert_file.c_str();
    const char* key = m_options.key_file.empty() ? nullptr : m_options.key_file.c_str();
    check(mosquitto_tls_set(client, ca_file, ca_path, cert, key, nullptr), "TLS settings");
  }
  if (!m_options.will_topic.empty()) {
    check(mosquitto_will_set(client, m_options.will_topic.c_str(),
                             static_cast<int>(m_options.will_payload.size()),
                             m_options.will_payload.data(), 1, true),
          "last will");
  }
  mosquitto_connect_callback_set(client, &MqttConnection::on_connect);
  mosquitto_disconnect_callback_set(client, &MqttConnection::on_disconnect);
  mosquitto_publish_callback_set(client, &MqttConnection::on_publish);
  mosquitto_message_callback_set(client, &MqttConnection::on_message);
  m_thread = std::thread([this] { run(); });
}

void MqttConnection::stop(const MqttMessage& goodbye) {
  if (!m_thread.joinable()) return;
  if (!goodbye.topic.empty() && connected()) {
    auto sent = publish_all(std::span(&goodbye, 1), 2s);
    if (!sent) spdlog::debug("mqtt: goodbye not acknowledged: {}", sent.error().describe());
  }
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_cv.notify_all();
  }
  // A DISCONNECT tells the broker not to send the last will.
  mosquitto_disconnect(m_client.get());
  m_thread.join();
}

void MqttConnection::failed(const std::string& message) {
  std::lock_guard lock(m_mutex);
  if (m_stopping) return;
  if (message != m_last_error) {
    spdlog::warn("mqtt {}:{}: {}; retrying", m_options.host, m_options.port, message);
  } else {
    spdlog::debug("mqtt {}:{}: {}", m_options.host, m_options.port, message);
  }
  m_last_error = message;
}

bool MqttConnection::wait_backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(m_mutex);
  m_cv.wait_for(lock, delay, [&] { return m_stopping; });
  return !m_stopping;
}

void MqttConnection::run() {
  auto* client = m_client.get();
  // A connect that gets no CONNACK (a firewall dropping packets) is given up after this long.
  auto connect_timeout = std::max<std::chrono::milliseconds>(m_options.keepalive, 5s);
  std::chrono::milliseconds delay{0};
  bool have_socket = false;
  bool was_connected = false;
  Clock::time_point connect_started;
  while (true) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) break;
    }
    if (!have_socket) {
      int rc = mosquitto_connect_async(client, m_options.host.c_str(), m_options.port,
                                       static_cast<int>(m_options.keepalive.count()));
      if (rc == MOSQ_ERR_SUCCESS) {
        have_socket = true;
        was_connected = false;
        connect_started = Clock::now();
        continue;
      }
      failed(fmt::format("cannot connect: {}", describe(rc)));
    } else {
      int rc = mosquitto_loop(client, 200, 1);
      bool refused = false;
      bool up = false;
      {
        std::lock_guard lock(m_mutex);
        std::swap(refused, m_refused);
        up = m_connected;
      }
      was_connected = was_connected || up;
      if (rc == MOSQ_ERR_SUCCESS && !refused) {
        if (up || Clock::now() - connect_started < connect_timeout) continue;
        failed(
            fmt::format("no answer to CONNECT within {} s",
                        std::chrono::duration_cast<std::chrono::seconds>(connect_timeout).count()));
      } else if (!refused) {
        failed(fmt::format("{}: {}", was_connected ? "connection lost" : "cannot connect",
                           describe(rc)));
      }
      have_socket = false;
      {
        std::lock_guard lock(m_mutex);
        m_connected = false;
        ++m_session;
        m_waiting.clear();
        m_cv.notify_all();
      }
    }
    // After a connection that worked, try again soon; after failed attempts, back off.
    delay = (was_connected || delay.count() == 0) ? m_options.retry_initial
                                                  : std::min(delay * 2, m_options.retry_max);
    was_connected = false;
    if (!wait_backoff(delay)) break;
  }
  // Let the DISCONNECT (queued by stop()) reach the broker before the socket closes.
  auto deadline = Clock::now() + 1s;
  while (have_socket && Clock::now() < deadline &&
         mosquitto_loop(client, 50, 1) == MOSQ_ERR_SUCCESS) {
  }
}

core::Status MqttConnection::publish(const MqttMessage& message) {
  std::lock_guard lock(m_mutex);
  if (!m_connected) return core::Error{core::ErrorKind::ConnectFailed, "not connected"};
  int rc = mosquitto_publish(m_client.get(), nullptr, message.topic.c_str(),
                             static_cast<int>(message.payload.size()), message.payload.data(),
                             message.qos, message.retain);
  if (rc != MOSQ_ERR_SUCCESS) return core::Error{core::ErrorKind::Io, describe(rc)};
  return core::Ok{};
}

core::Status MqttConnection::publish_all(std::span<const MqttMessage> messages,
                                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  if (!m_connected) {
    return core::Error{core::ErrorKind::ConnectFailed,
                       m_last_error.empty() ? "not connected to the broker"
                                            : "not connected to the broker: " + m_last_error};
  }
  auto session = m_session;
  // The ids are registered under the lock the acknowledgement callback takes, so an
  // acknowledgement cannot slip in between publishing and registering.
  for (const auto& message : messages) {
    int mid = 0;
    int rc = mosquitto_publish(m_client.get(), &mid, message.topic.c_str(),
                               static_cast<int>(message.payload.size()), message.payload.data(),
                               message.qos, message.retain);
    if (rc != MOSQ_ERR_SUCCESS) {
      m_waiting.clear();
      return core::Error{core::ErrorKind::Io, fmt::format("publish failed: {}", describe(rc))};
    }
    if (message.qos > 0) m_waiting.insert(mid);
  }
  bool done = m_cv.wait_for(
      lock, timeout, [&] { return m_waiting.empty() || m_session != session || m_stopping; });
  if (done && m_waiting.empty() && m_session == session) return core::Ok{};
  m_waiting.clear();
  if (m_session != session) {
    return core::Error{core::ErrorKind::ConnectFailed,
                       "connection lost before the broker acknowledged"};
  }
  return core::Error{core::ErrorKind::Timeout, "the broker did not acknowledge in time"};
}

core::Status MqttConnection::subscribe(const std::string& topic, int qos) {
  std::lock_guard lock(m_mutex);
  if (!m_connected) return core::Error{core::ErrorKind::ConnectFailed, "not connected"};
  int rc = mosquitto_subscribe(m_client.get(), nullptr, topic.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) return core::Error{core::ErrorKind::Io, describe(rc)};
  return core::Ok{};
}

MqttConnectionStatus MqttConnection::status() const {
  std::lock_guard lock(m_mutex);
  return {m_connected, m_connects, m_last_error};
}

bool MqttConnection::connected() const {
  std::lock_guard lock(m_mutex);
  return m_connected;
}

void MqttConnection::on_connect(mosquitto* /*client*/, void* self, int rc) {
  auto& connection = *static_cast<MqttConnection*>(self);
  if (rc != 0) {
    // Wrong credentials or a refused client id: backed off like any failure, never a tight loop.
    connection.failed(
        fmt::format("broker refused the connection: {}", mosquitto_connack_string(rc)));
    std::lock_guard lock(connection.m_mutex);
    connection.m_refused = true;
    return;
  }
  {
    std::lock_guard lock(connection.m_mutex);
    connection.m_connected = true;
    ++connection.m_connects;
    spdlog::info("mqtt: connected to {}:{}", connection.m_options.host, connection.m_options.port);
    connection.m_last_error.clear();
    connection.m_cv.notify_all();
  }
  if (connection.m_on_connected) connection.m_on_connected();
}

void MqttConnection::on_disconnect(mosquitto* /*client*/, void* self, int /*rc*/) {
  auto& connection = *static_cast<MqttConnection*>(self);
  std::lock_guard lock(connection.m_mutex);
  connection.m_connected = false;
  ++connection.m_session;
  connection.m_waiting.clear();
  connection.m_cv.notify_all();
}

void MqttConnection::on_publish(mosquitto* /*client*/, void* self, int mid) {
  auto& connection = *static_cast<MqttConnection*>(self);
  std::lock_guard lock(connection.m_mutex);
  connection.m_waiting.erase(mid);
  if (connection.m_waiting.empty()) connection.m_cv.notify_all();
}

void MqttConnection::on_message(mosquitto* /*client*/, void* self,
                                const mosquitto_message* message) {
  auto& connection = *static_cast<MqttConnection*>(self);
  if (!connection.m_on_message || message == nullptr || message->topic == nullptr) return;
  MqttMessage received;
  received.topic = message->topic;
  if (message->payload != nullptr && message->payloadlen > 0) {
    received.payload.assign(static_cast<const char*>(message->payload),
                            static_cast<std::size_t>(message->payloadlen));
  }
  received.qos = message->qos;
  received.retain = message->retain;
  connection.m_on_message(received);
}

}  // namespace tracermon::sinks
