#include "transport/port_spec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tracermon::transport {

namespace {

constexpr std::uint16_t k_modbus_tcp_port = 502;

std::uint16_t parse_tcp_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    throw std::invalid_argument(
        fmt::format("port '{}': '{}' is not a TCP port number 1-65535", whole, text));
  }
  return static_cast<std::uint16_t>(value);
}

// host, [v6host], host:port or [v6host]:port
void parse_host_port(std::string_view rest, std::string_view whole, PortSpec& spec,
                     bool port_required) {
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("port '{}': missing ']' after IPv6 address", whole));
    }
    host = rest.substr(1, close - 1);
    auto after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        throw std::invalid_argument(fmt::format("port '{}': expected ':PORT' after ']'", whole));
      }
      port = after.substr(1);
      if (port.empty()) parse_tcp_port(port, whole);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) parse_tcp_port(port, whole);
  }
  if (host.empty()) throw std::invalid_argument(fmt::format("port '{}': no host", whole));
  if (host.find('/') != std::string_view::npos) {
    throw std::invalid_argument(fmt::format("port '{}': a host name has no '/'", whole));
  }
  spec.host = std::string(host);
  if (!port.empty()) {
    spec.tcp_port = parse_tcp_port(port, whole);
  } else if (port_required) {
    throw std::invalid_argument(fmt::format(
        "port '{}': rtu+tcp:// needs a port, e.g. rtu+tcp://{}:8088 (eBox-WiFi-01) or :8899 "
        "(Elfin EW11)",
        whole, host));
  } else {
    spec.tcp_port = k_modbus_tcp_port;
  }
}

}  // namespace

PortSpec parse_port(std::string_view text) {
  if (text.empty()) {
    throw std::invalid_argument(
        "empty port: give a serial device such as /dev/ttyUSB0, "
        "tcp://HOST[:PORT] or rtu+tcp://HOST:PORT");
  }
  PortSpec spec;
  if (text.starts_with("sim:")) {
    spec.kind = LinkKind::Simulated;
    spec.path = std::string(text.substr(4));
    return spec;
  }
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    spec.kind = LinkKind::Serial;
    spec.path = std::string(text);
    return spec;
  }
  auto scheme = text.substr(0, scheme_end);
  auto rest = text.substr(scheme_end + 3);
  if (scheme == "tcp") {
    spec.kind = LinkKind::ModbusTcp;
    parse_host_port(rest, text, spec, false);
  } else if (scheme == "rtu+tcp") {
    spec.kind = LinkKind::RtuOverTcp;
    parse_host_port(rest, text, spec, true);
  } else {
    throw std::invalid_argument(fmt::format(
        "port '{}': unknown scheme '{}://' (allowed: a device path, tcp://, rtu+tcp://, sim:)",
        text, scheme));
  }
  return spec;
}

std::string PortSpec::to_string() const {
  auto host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  switch (kind) {
    case LinkKind::Serial:
      return path;
    case LinkKind::ModbusTcp:
      return fmt::format("tcp://{}:{}", host_text, tcp_port);
    case LinkKind::RtuOverTcp:
      return fmt::format("rtu+tcp://{}:{}", host_text, tcp_port);
    case LinkKind::Simulated:
      return "sim:" + path;
  }
  return path;
}

void check_baud(int baud) {
  static constexpr std::array k_rates = {1200,  2400,   4800,   9600,   19200, 38400,
                                         57600, 115200, 230400, 460800, 921600};
  if (std::find(k_rates.begin(), k_rates.end(), baud) == k_rates.end()) {
    throw std::invalid_argument(
        fmt::format("baud rate {} is not supported (allowed: {}; Tracer controllers use 115200)",
                    baud, fmt::join(k_rates, ", ")));
  }
}

Parity parse_parity(std::string_view text) {
  if (text == "none" || text == "N") return Parity::None;
  if (text == "even" || text == "E") return Parity::Even;
  if (text == "odd" || text == "O") return Parity::Odd;
  throw std::invalid_argument(
      fmt::format("parity '{}' is not none, even or odd (Tracer controllers use none)", text));
}

}  // namespace tracermon::transport
