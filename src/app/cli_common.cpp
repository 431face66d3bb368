#include "app/cli_common.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/daemon_lookup.hpp"
#include "sim/sim_stream.hpp"

namespace tracermon::app {

void LinkOptions::add_to(CLI::App& command) {
  command.add_option("--port,-p", port,
                     "Serial device (/dev/ttyUSB0), tcp://HOST[:PORT] (Modbus TCP) or "
                     "rtu+tcp://HOST:PORT (transparent bridge); default: the single adapter "
                     "under /dev/serial/by-id");
  command.add_option("--baud,-b", baud, "Serial baud rate")->capture_default_str();
  command.add_option("--parity", parity, "Serial parity: none, even, odd")->capture_default_str();
  command.add_option("--stop-bits", stop_bits, "Serial stop bits: 1 or 2")->capture_default_str();
  command.add_flag("--rs485", rs485, "Switch the adapter to RS-485 mode (TIOCSRS485)");
  command.add_option("--timeout,-t", timeout_ms, "Reply timeout in milliseconds")
      ->capture_default_str();
  command.add_option("--gap", gap_ms, "Idle milliseconds between requests")->capture_default_str();
  command.add_option("--retries", retries, "Extra tries after a timeout or bad reply")
      ->capture_default_str();
  command.add_option("--max-registers", max_registers, "Registers per request at most")
      ->capture_default_str();
  command.add_option("--runtime-dir", runtime_dir,
                     "Where a running daemon is found (default $TRACERMON_RUNTIME_DIR or "
                     "/run/tracermon)");
}

void LinkOptions::check_no_daemon(const transport::PortSpec& spec) const {
  auto dir = runtime_dir.empty() ? default_runtime_dir() : std::filesystem::path(runtime_dir);
  auto daemon = daemon_holding(dir, spec);
  if (!daemon) return;
  throw PortHeldByDaemon(fmt::format(
      "the tracermon daemon (pid {}, config {}) polls {}: a second master would garble its "
      "traffic. Read its latest values with `tracermon get DEVICE FIELD`{}",
      daemon->pid, daemon->config, spec.to_string(),
      daemon->http.empty() ? "" : fmt::format(" or {}api/v1/latest", daemon->http)));
}

transport::PortSpec LinkOptions::port_spec() const {
  try {
    auto spec = transport::parse_port(port.empty() ? find_serial_adapter() : port);
    if (spec.kind == transport::LinkKind::Simulated) sim::parse_sim_options(spec.path);
    return spec;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

transport::SerialSettings LinkOptions::serial() const {
  transport::SerialSettings s;
  try {
    transport::check_baud(baud);
    s.baud = baud;
    s.parity = transport::parse_parity(parity);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (stop_bits != 1 && stop_bits != 2) {
    throw UsageError(fmt::format("--stop-bits {} is not 1 or 2", stop_bits));
  }
  s.stop_bits = stop_bits;
  s.rs485 = rs485;
  return s;
}

transport::ClientOptions LinkOptions::client() const {
  if (timeout_ms < 1 || timeout_ms > 60000) {
    throw UsageError(fmt::format("--timeout {} is not 1-60000 ms", timeout_ms));
  }
  if (gap_ms < 0 || gap_ms > 10000)
    throw UsageError(fmt::format("--gap {} is not 0-10000 ms", gap_ms));
  if (retries < 0 || retries > 10)
    throw UsageError(fmt::format("--retries {} is not 0-10", retries));
  if (max_registers < 2 || max_registers > 125) {
    throw UsageError(fmt::format("--max-registers {} is not 2-125", max_registers));
  }
  transport::ClientOptions o;
  o.timeout = std::chrono::milliseconds(timeout_ms);
  o.gap = std::chrono::milliseconds(gap_ms);
  o.retries = retries;
  return o;
}

namespace {
int parse_id(std::string_view text, std::string_view whole) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < 1 ||
      value > 247) {
    throw UsageError(fmt::format("bad id '{}' in '{}': slave ids are 1-247", text, whole));
  }
  return value;
}
}  // namespace

std::vector<std::uint8_t> parse_ids(std::string_view text) {
  std::vector<std::uint8_t> ids;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto part = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    auto dash = part.find('-');
    int first = parse_id(part.substr(0, dash), text);
    int last = dash == std::string_view::npos ? first : parse_id(part.substr(dash + 1), text);
    if (last < first)
      throw UsageError(fmt::format("bad id range '{}': {} > {}", part, first, last));
    for (int id = first; id <= last; ++id) {
      auto u = static_cast<std::uint8_t>(id);
      if (std::find(ids.begin(), ids.end(), u) == ids.end()) ids.push_back(u);
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return ids;
}

std::string find_serial_adapter(const std::string& directory) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    found.push_back(entry.path().string());
  }
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return found.front();
  if (found.empty()) {
    throw UsageError(
        fmt::format("no serial adapter found under {}: plug one in or give --port "
                    "(a device, tcp://HOST[:PORT] or rtu+tcp://HOST:PORT)",
                    directory));
  }
  throw UsageError(fmt::format("several serial adapters found, choose one with --port: {}",
                               fmt::join(found, ", ")));
}

}  // namespace tracermon::app
