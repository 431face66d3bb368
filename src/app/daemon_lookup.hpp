#pragma once
// How one-shot commands find a running daemon: it holds <runtime_dir>/daemon.lock and lists
// its ports in <runtime_dir>/daemon.json. A command must not become a second master on a bus
// the daemon polls.

#include <filesystem>
#include <optional>
#include <string>

#include "transport/port_spec.hpp"

namespace tracermon::app {

struct RunningDaemon {
  int pid = 0;
  std::string config;
  std::string http;  // base URL, empty when HTTP is off
};

// The runtime directory: $TRACERMON_RUNTIME_DIR, else /run/tracermon.
std::filesystem::path default_runtime_dir();

// The daemon running with this runtime directory, if any (whatever it polls).
std::optional<RunningDaemon> running_daemon(const std::filesystem::path& runtime_dir);

// The daemon running with this runtime directory and polling `port`, if any.
std::optional<RunningDaemon> daemon_holding(const std::filesystem::path& runtime_dir,
                                            const transport::PortSpec& port);

}  // namespace tracermon::app
