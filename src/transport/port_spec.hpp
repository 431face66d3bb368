#pragma once
// Where a bus is: a serial device path, tcp://host[:port] (Modbus TCP),
// rtu+tcp://host:port (RTU frames over a transparent TCP bridge such as the eBox-WiFi-01) or
// sim:[OPTIONS] (simulated controllers inside this process, e.g. sim:ids=1,2,3&speed=60).

#include <cstdint>
#include <string>
#include <string_view>

namespace tracermon::transport {

enum class LinkKind : std::uint8_t { Serial, ModbusTcp, RtuOverTcp, Simulated };

struct PortSpec {
  LinkKind kind = LinkKind::Serial;
  std::string path;  // serial device, or the options of a sim: port
  std::string host;  // TCP links
  std::uint16_t tcp_port = 0;

  [[nodiscard]] std::string to_string() const;
};

// Throws std::invalid_argument with a message that says what is wrong and what is allowed.
PortSpec parse_port(std::string_view text);

enum class Parity : std::uint8_t { None, Even, Odd };

struct SerialSettings {
  int baud = 115200;
  Parity parity = Parity::None;
  int stop_bits = 1;
  bool rs485 = false;  // switch the adapter to RS-485 mode with TIOCSRS485
};

// Throws std::invalid_argument for a rate the Linux termios interface cannot set.
void check_baud(int baud);
Parity parse_parity(std::string_view text);

}  // namespace tracermon::transport
