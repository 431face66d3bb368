#pragma once
// The simulator's control channel: a Unix socket that takes one command per line, so a test or
// a user can change faults, power-cycle a controller or pull the adapter while clients read.
//
//   status                      the bus's counters and controllers, as one JSON line
//   fault NAME=RATE ...         set fault options (as --fault); "fault clear" turns all off
//   power-cycle ID              the controller restarts (a stuck one answers again)
//   drift ID PPM                the controller's clock runs PPM parts per million fast (or slow)
//   unplug MS                   the adapter (pty links and sim: ports) vanishes for MS ms
//
// Every command is answered with one line: "ok", a JSON object, or "error: ...".

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "sim/bus.hpp"

namespace tracermon::sim {

// Runs one command line against the bus; `unplug` is what "unplug MS" does (may be empty).
std::string run_control_command(SimulatedBus& bus, std::string_view line,
                                const std::function<void(double)>& unplug);

class ControlServer {
 public:
  ControlServer(SimulatedBus& bus, std::filesystem::path socket_path,
                std::function<void(double)> unplug);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

 private:
  void run();
  SimulatedBus& m_bus;
  std::filesystem::path m_path;
  std::function<void(double)> m_unplug;
  core::UniqueFd m_listener;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
};

}  // namespace tracermon::sim
