#include "app/daemon_control.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/daemon.hpp"

namespace tracermon::app {

namespace {

std::uint64_t failures(const model::DeviceCounters& c) {
  return c.timeouts + c.crc_errors + c.bad_replies + c.link_errors;
}

}  // namespace

std::vector<control::DeviceRef> DaemonDeviceAccess::devices() const {
  std::vector<control::DeviceRef> out;
  auto now = std::chrono::steady_clock::now();
  for (const auto& worker : m_workers) {
    auto bus = worker->status();
    for (const auto& d : bus.devices) {
      m_errors.observe(d.name, now, d.counters.requests, failures(d.counters));
      auto recent = m_errors.recent(d.name);
      control::DeviceRef ref;
      ref.name = d.name;
      ref.unit = d.unit;
      ref.bus = bus.name;
      // Not polled yet counts as online: the write's own fresh read tells.
      ref.online = bus.rounds == 0 || (bus.link_up && d.health != model::Health::Offline);
      ref.health = !bus.link_up ? fmt::format("port {}: {}", bus.port, bus.link_error)
                                : fmt::format("{}{}", model::to_string(d.health),
                                              d.last_error.empty() ? "" : ": " + d.last_error);
      ref.error_ratio = recent.ratio();
      ref.recent_requests = recent.requests;
      ref.max_registers = worker->setup().max_registers;
      out.push_back(std::move(ref));
    }
  }
  return out;
}

core::Status DaemonDeviceAccess::run(const control::DeviceRef& device, const control::BusJob& job) {
  for (const auto& worker : m_workers) {
    if (worker->setup().name != device.bus) continue;
    return worker->run_command(device.unit, m_queue_timeout, job).get();
  }
  return core::Error{core::ErrorKind::InvalidArgument, fmt::format("no bus '{}'", device.bus)};
}

void DaemonDeviceAccess::sample() {
  auto now = std::chrono::steady_clock::now();
  for (const auto& worker : m_workers) {
    for (const auto& d : worker->status().devices)
      m_errors.observe(d.name, now, d.counters.requests, failures(d.counters));
  }
}

// --- the daemon's control set-up ------------------------------------------------------------

namespace {

// The bearer token of HTTP control: a file only the daemon's user may read.
std::string read_token(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw std::runtime_error(
        fmt::format("control.token_file {}: not a readable regular file", file.string()));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error(fmt::format(
        "control.token_file {}: mode {:04o} lets others read it; chmod 600 it (the token "
        "switches loads and changes battery settings)",
        file.string(), st.st_mode & 07777));
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto token = text.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())) != 0)
    token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())) != 0)
    token.erase(token.begin());
  if (token.size() < 16 || token.find_first_of(" \t\r\n") != std::string::npos) {
    throw std::runtime_error(fmt::format(
        "control.token_file {}: the token must be one word of at least 16 characters (e.g. "
        "`openssl rand -hex 24`)",
        file.string()));
  }
  return token;
}

}  // namespace

void Daemon::setup_control() {
  if (m_config.store.enabled) {
    auto path = m_config.store.path.parent_path() / "audit.db";
    try {
      m_audit = std::make_unique<store::AuditLog>(path);
    } catch (const std::exception& e) {
      spdlog::warn("control: no audit database ({}); writes are audited in the log only", e.what());
    }
  }
  if (m_config.control.enabled) m_control_token = read_token(m_config.control.token_file);
  m_control_access = std::make_unique<DaemonDeviceAccess>(m_workers);
  control::ControlOptions options;
  options.max_error_ratio = m_config.control.max_error_ratio;
  options.trust_host_clock = m_config.control.trust_host_clock;
  m_control = std::make_unique<control::ControlService>(protocol::SettingsCatalog::builtin(),
                                                        *m_control_access, m_audit.get(), options);
}

void Daemon::sync_clocks() {
  // Daily: once a day per device. Drift: looked at every 10 minutes, written past the limit.
  static constexpr auto k_daily = std::chrono::hours(24);
  static constexpr auto k_look = std::chrono::minutes(10);
  auto& last = m_clock_checked;
  auto now = std::chrono::steady_clock::now();
  bool daily = m_config.control.clock_sync == "daily";
  for (const auto& device : m_control_access->devices()) {
    auto it = last.find(device.name);
    if (it != last.end() && now - it->second < (daily ? k_daily : k_look)) continue;
    if (!device.online) continue;
    last[device.name] = now;
    control::Request request;
    request.action = "clock";
    request.device = device.name;
    request.sync = daily;
    if (!daily) {
      auto looked = m_control->handle(request, control::Source::Auto);
      if (!looked.ok() || !looked.clock) continue;
      double limit = static_cast<double>(m_config.control.clock_max_drift.count());
      if (std::abs(looked.clock->drift_s) <= limit) continue;
      request.sync = true;
    }
    (void)m_control->handle(request, control::Source::Auto);
  }
}

}  // namespace tracermon::app
