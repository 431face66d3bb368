#pragma once
// How a simulated bus is reached from outside the process: a pseudo-terminal that any serial
// Modbus master can open (a symlink at a path of the user's choice), a Modbus TCP server, and
// a raw RTU-over-TCP server like a transparent Wi-Fi bridge. Each link runs its own threads
// and stops (and removes what it created) when destroyed.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "sim/bus.hpp"

namespace tracermon::sim {

class PtyLink {
 public:
  // Creates the pty and the symlink (replacing a stale symlink, never a regular file); throws
  // std::runtime_error saying why it cannot.
  PtyLink(SimulatedBus& bus, std::filesystem::path link);
  ~PtyLink();
  PtyLink(const PtyLink&) = delete;
  PtyLink& operator=(const PtyLink&) = delete;

  // The adapter is pulled: the pty and the symlink vanish for `ms` milliseconds, then a new
  // pty appears under the same symlink.
  void unplug(double ms);
  [[nodiscard]] std::string describe() const;

 private:
  void open_pty();
  void close_pty();
  void run();

  SimulatedBus& m_bus;
  std::filesystem::path m_link;
  std::string m_device;  // /dev/pts/N
  core::UniqueFd m_master;
  core::UniqueFd m_slave;  // held open so the master never sees a hang-up between clients
  std::atomic<bool> m_stop{false};
  std::atomic<double> m_unplug_ms{0};
  std::thread m_thread;
};

class TcpLink {
 public:
  enum class Framing : std::uint8_t { ModbusTcp, Rtu };
  // Listens on host:port (port 0: any free port); throws std::runtime_error on failure.
  TcpLink(SimulatedBus& bus, const std::string& host, std::uint16_t port, Framing framing);
  ~TcpLink();
  TcpLink(const TcpLink&) = delete;
  TcpLink& operator=(const TcpLink&) = delete;

  [[nodiscard]] std::uint16_t port() const { return m_port; }
  [[nodiscard]] std::string describe() const;

 private:
  void accept_loop();
  void serve_modbus_tcp(core::UniqueFd fd);
  void serve_rtu(core::UniqueFd fd);

  SimulatedBus& m_bus;
  Framing m_framing;
  std::string m_host;
  std::uint16_t m_port = 0;
  core::UniqueFd m_listener;
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::list<std::thread> m_clients;
  std::thread m_thread;
};

}  // namespace tracermon::sim
