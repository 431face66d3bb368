#include "app/daemon_lookup.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>

#include <nlohmann/json.hpp>

#include "core/unique_fd.hpp"

namespace tracermon::app {

namespace {

// Serial ports are compared by the device they resolve to (/dev/serial/by-id/... and
// /dev/ttyUSB0 are the same port); network ports by their text.
std::string identity_of(const std::string& port_text) {
  try {
    auto spec = transport::parse_port(port_text);
    if (spec.kind == transport::LinkKind::Serial) {
      std::error_code ec;
      auto real = std::filesystem::canonical(spec.path, ec);
      return ec ? spec.path : real.string();
    }
    return spec.to_string();
  } catch (const std::exception&) {
    return port_text;
  }
}

}  // namespace

std::filesystem::path default_runtime_dir() {
  const char* env = std::getenv("TRACERMON_RUNTIME_DIR");
  return env != nullptr && *env != '\0' ? std::filesystem::path(env)
                                        : std::filesystem::path("/run/tracermon");
}

namespace {

// daemon.json of the daemon holding the runtime directory's lock; discarded when none does.
nlohmann::json running_info(const std::filesystem::path& runtime_dir) {
  auto none = nlohmann::json(nlohmann::json::value_t::discarded);
  core::UniqueFd lock(::open((runtime_dir / "daemon.lock").c_str(), O_RDONLY | O_CLOEXEC));
  if (!lock) return none;
  // The daemon holds an exclusive lock for its whole life: a shared lock we can take means
  // nobody runs there.
  if (::flock(lock.get(), LOCK_SH | LOCK_NB) == 0) return none;
  std::ifstream in(runtime_dir / "daemon.json");
  auto info = nlohmann::json::parse(in, nullptr, false);
  if (!info.is_discarded() && !info.is_object()) return none;
  return info;
}

RunningDaemon daemon_of(const nlohmann::json& info) {
  return RunningDaemon{info.value("pid", 0), info.value("config", std::string{}),
                       info.value("http", std::string{})};
}

}  // namespace

std::optional<RunningDaemon> running_daemon(const std::filesystem::path& runtime_dir) {
  auto info = running_info(runtime_dir);
  if (info.is_discarded()) return std::nullopt;
  return daemon_of(info);
}

std::optional<RunningDaemon> daemon_holding(const std::filesystem::path& runtime_dir,
                                            const transport::PortSpec& port) {
  auto info = running_info(runtime_dir);
  if (info.is_discarded() || !info.contains("ports")) return std::nullopt;
  auto wanted = identity_of(port.to_string());
  for (const auto& held : info["ports"]) {
    if (!held.is_string() || identity_of(held.get<std::string>()) != wanted) continue;
    return daemon_of(info);
  }
  return std::nullopt;
}

}  // namespace tracermon::app
