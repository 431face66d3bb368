#include "sinks/mqtt_commands.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace tracermon::sinks {
namespace {

constexpr std::string_view k_load = "load";
constexpr std::string_view k_clock_sync = "clock_sync";

std::string trimmed(std::string_view text) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && space(text.back()))
    text.remove_suffix(1);
  return std::string(text);
}

std::string lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "<root>/<device>/set/<name>" split into device and name; nullopt for any other topic.
std::optional<std::pair<std::string, std::string>> command_parts(const std::string& root,
                                                                 const std::string& topic) {
  auto prefix = root + "/";
  if (!topic.starts_with(prefix)) return std::nullopt;
  std::string_view rest(topic);
  rest.remove_prefix(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  auto device = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  if (!rest.starts_with("set/")) return std::nullopt;
  rest.remove_prefix(4);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  return std::pair{std::string(device), std::string(rest)};
}

}  // namespace

std::optional<MqttCommand> parse_command(const format::DiscoveryOptions& topics,
                                         const std::vector<std::string>& devices,
                                         const std::string& topic, const std::string& payload,
                                         bool retained) {
  auto parts = command_parts(topics.topic_root, topic);
  if (!parts) return std::nullopt;
  const auto& [segment, name] = *parts;
  MqttCommand command;
  command.topic = topic;
  command.result_topic = fmt::format("{}/{}/result", topics.topic_root, segment);
  auto& request = command.request;
  if (name == k_load) {
    request.action = "load";
  } else if (name == k_clock_sync) {
    request.action = "clock";
    request.sync = true;
  } else {
    request.action = "set";
  }
  // A structured binding cannot be captured by C++20 lambdas in clang 14: a copy of the name.
  const std::string& device_segment = segment;
  auto configured = std::find_if(devices.begin(), devices.end(), [&](const std::string& d) {
    return format::topic_safe(d) == device_segment;
  });
  request.device = configured != devices.end() ? *configured : segment;
  auto refuse = [&](int status, std::string error) {
    command.status = status;
    command.error = std::move(error);
    return command;
  };
  if (retained) {
    return refuse(400,
                  "retained command ignored: commands are run only when they are sent, never "
                  "replayed from the broker (publish without the retain flag)");
  }
  if (configured == devices.end()) {
    return refuse(
        404, fmt::format("unknown device '{}' (devices: {})", segment, fmt::join(devices, ", ")));
  }
  if (payload.size() > k_max_command_payload) {
    return refuse(400, fmt::format("the payload has {} bytes; at most {} are read", payload.size(),
                                   k_max_command_payload));
  }
  auto value = trimmed(payload);
  if (value.empty() && name != k_clock_sync)
    return refuse(400, "the payload is empty: send the value");
  if (request.action == "load") {
    request.state = lower(value);
  } else if (request.action == "set") {
    request.settings.push_back({name, value});
  }
  return command;
}

std::string result_message(const protocol::SettingsCatalog& catalog, const control::Result& result,
                           const std::string& command_topic) {
  auto out = control::to_json(catalog, result);
  out["status"] = result.status;
  out["topic"] = command_topic;
  return out.dump();
}

MqttCommandRunner::MqttCommandRunner(control::ControlService& control, Publish publish,
                                     std::size_t capacity)
    : m_control(control), m_publish(std::move(publish)), m_capacity(capacity) {}

MqttCommandRunner::~MqttCommandRunner() {
  stop();
}

void MqttCommandRunner::start() {
  if (m_thread.joinable()) return;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = false;
  }
  // spdlog makes its registry on first use; made here, before both threads may log at once
  // (TSan sees libspdlog's unsynchronised first use otherwise).
  (void)spdlog::default_logger_raw();
  m_thread = std::thread([this] { run(); });
}

void MqttCommandRunner::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    if (!m_queue.empty()) {
      spdlog::warn("mqtt: {} command(s) not run: the daemon stops", m_queue.size());
      m_queue.clear();
    }
    m_cv.notify_all();
  }
  if (m_thread.joinable()) m_thread.join();
}

void MqttCommandRunner::answer(const MqttCommand& command, const control::Result& result) {
  if (!result.ok()) {
    spdlog::info("mqtt: {}: {} {}", command.topic, result.status, result.error);
  }
  m_publish(command.result_topic, result_message(m_control.catalog(), result, command.topic));
  std::lock_guard lock(m_mutex);
  ++m_answered;
}

void MqttCommandRunner::submit(MqttCommand command) {
  auto refused = [&](int status, std::string error) {
    control::Result result;
    result.status = status;
    result.action = command.request.action;
    result.device = command.request.device;
    result.error = std::move(error);
    answer(command, result);
  };
  if (command.status != 0) {
    auto status = command.status;
    auto error = command.error;
    refused(status, std::move(error));
    return;
  }
  bool stopping = false;
  {
    std::lock_guard lock(m_mutex);
    stopping = m_stopping;
    if (!stopping && m_queue.size() < m_capacity) {
      m_queue.push_back(std::move(command));
      m_cv.notify_all();
      return;
    }
  }
  refused(503, stopping
                   ? std::string("the daemon is stopping: not run")
                   : fmt::format("busy: {} commands are waiting; try again later", m_capacity));
}

std::size_t MqttCommandRunner::answered() const {
  std::lock_guard lock(m_mutex);
  return m_answered;
}

std::size_t MqttCommandRunner::queued() const {
  std::lock_guard lock(m_mutex);
  return m_queue.size();
}

void MqttCommandRunner::run() {
  while (true) {
    MqttCommand command;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
      if (m_stopping) return;
      command = std::move(m_queue.front());
      m_queue.pop_front();
    }
    control::Result result;
    try {
      result = m_control.handle(command.request, control::Source::Mqtt);
    } catch (const std::exception& e) {
      result.status = 500;
      result.action = command.request.action;
      result.device = command.request.device;
      result.error = fmt::format("internal error: {}", e.what());
    }
    answer(command, result);
  }
}

}  // namespace tracermon::sinks
