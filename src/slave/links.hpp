#pragma once
// How a slave (a RequestHandler: the simulated bus, a gateway) is reached from outside the
// process: a pseudo-terminal that any serial Modbus master can open (a symlink at a path of the
// user's choice), a Modbus TCP server, and a raw RTU-over-TCP server like a transparent Wi-Fi
// bridge. The links frame requests, hand them to the handler and put its replies on the wire
// with the timing it asks for (wire time at its baud, turnaround); what to answer, and every
// fault, is the handler's. Each link runs its own threads and stops (and removes what it
// created) when destroyed; the handler must outlive it. `log_name` prefixes its log lines.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"
#include "slave/request_handler.hpp"

namespace tracermon::slave {

class PtyLink {
 public:
  // Creates the pty and the symlink (replacing a stale symlink, never a regular file); throws
  // std::runtime_error saying why it cannot.
  PtyLink(RequestHandler& handler, std::filesystem::path link, std::string log_name = "slave");
  ~PtyLink();
  PtyLink(const PtyLink&) = delete;
  PtyLink& operator=(const PtyLink&) = delete;

  // The adapter is pulled: the pty and the symlink vanish for `ms` milliseconds, then a new
  // pty appears under the same symlink. A Transmission with `unplug` does the same.
  void unplug(double ms);
  [[nodiscard]] std::string describe() const;

 private:
  void open_pty();
  void close_pty();
  void run();

  RequestHandler& m_handler;
  std::filesystem::path m_link;
  std::string m_log_name;
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
  TcpLink(RequestHandler& handler, const std::string& host, std::uint16_t port, Framing framing,
          std::string log_name = "slave");
  ~TcpLink();
  TcpLink(const TcpLink&) = delete;
  TcpLink& operator=(const TcpLink&) = delete;

  [[nodiscard]] std::uint16_t port() const { return m_port; }
  [[nodiscard]] std::string describe() const;

 private:
  void accept_loop();
  void serve_modbus_tcp(core::UniqueFd fd);
  void serve_rtu(core::UniqueFd fd);

  RequestHandler& m_handler;
  Framing m_framing;
  std::string m_log_name;
  std::string m_host;
  std::uint16_t m_port = 0;
  core::UniqueFd m_listener;
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::list<std::thread> m_clients;
  std::thread m_thread;
};

}  // namespace tracermon::slave
