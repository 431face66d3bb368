#pragma once
// What the one-shot commands (read, scan) share: link options, id lists, exit codes.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/wall_time.hpp"
#include "transport/modbus_client.hpp"
#include "transport/port_spec.hpp"

namespace tracermon::app {

// Exit statuses of the one-shot commands.
constexpr int k_exit_ok = 0;
constexpr int k_exit_usage = 2;
constexpr int k_exit_comm = 3;

// A mistake in what the user typed: printed with "tracermon: " and exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A running daemon polls the port: a one-shot command must not be a second master on it.
// Exit status 3, like other communication failures.
class PortHeldByDaemon : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LinkOptions {
  std::string port;  // empty: the single adapter under /dev/serial/by-id
  int baud = 115200;
  std::string parity = "none";
  int stop_bits = 1;
  bool rs485 = false;
  int timeout_ms = 1000;
  int gap_ms = 50;
  int retries = 2;
  int max_registers = 20;
  std::string runtime_dir;  // where a running daemon is found; default: default_runtime_dir()

  void add_to(CLI::App& command);
  // The port spec, serial settings and client options; throws UsageError.
  [[nodiscard]] transport::PortSpec port_spec() const;
  // Throws PortHeldByDaemon when a running tracermon daemon polls `port`.
  void check_no_daemon(const transport::PortSpec& port) const;
  [[nodiscard]] transport::SerialSettings serial() const;
  [[nodiscard]] transport::ClientOptions client() const;
};

// "1", "1,2,3", "1-16", "1-3,7": slave ids 1-247 in the order given, without duplicates.
// Throws UsageError naming the bad part.
std::vector<std::uint8_t> parse_ids(std::string_view text);

// The only entry of /dev/serial/by-id, or a UsageError that says why there is none.
std::string find_serial_adapter(const std::string& directory = "/dev/serial/by-id");

// Time helpers of the lower layers, as the commands spell them.
using core::epoch_ms;
using core::rfc3339;

}  // namespace tracermon::app
