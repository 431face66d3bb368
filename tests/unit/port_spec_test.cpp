// The port strings users type: serial paths, tcp:// and rtu+tcp://, and clear errors.

#include "transport/port_spec.hpp"

#include <gtest/gtest.h>

using namespace tracermon::transport;

TEST(PortSpec, BarePathsAreSerial) {
  for (const char* path : {"/dev/ttyUSB0", "/dev/ttyXRUSB0", "/dev/ttyACM0",
                           "/dev/serial/by-id/usb-Exar_XR21B1411-if00", "./ttyA"}) {
    auto spec = parse_port(path);
    EXPECT_EQ(spec.kind, LinkKind::Serial);
    EXPECT_EQ(spec.path, path);
    EXPECT_EQ(spec.to_string(), path);
  }
}

TEST(PortSpec, ModbusTcpDefaultsToPort502) {
  auto spec = parse_port("tcp://192.0.2.7");
  EXPECT_EQ(spec.kind, LinkKind::ModbusTcp);
  EXPECT_EQ(spec.host, "192.0.2.7");
  EXPECT_EQ(spec.tcp_port, 502);
  EXPECT_EQ(parse_port("tcp://gw.local:1502").tcp_port, 1502);
  auto v6 = parse_port("tcp://[::1]:1502");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.to_string(), "tcp://[::1]:1502");
}

TEST(PortSpec, RtuOverTcpNeedsAPort) {
  auto ebox = parse_port("rtu+tcp://ebox:8088");
  EXPECT_EQ(ebox.kind, LinkKind::RtuOverTcp);
  EXPECT_EQ(ebox.tcp_port, 8088);
  try {
    parse_port("rtu+tcp://ebox");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("needs a port"), std::string::npos);
  }
}

TEST(PortSpec, RejectsMalformedPorts) {
  for (const char* bad :
       {"", "tcp://", "tcp://:502", "tcp://host:", "tcp://host:0", "tcp://host:65536",
        "tcp://host:12ab", "foo://x", "rtu+tcp://h:port", "tcp://[::1", "tcp://a/b"}) {
    EXPECT_THROW(parse_port(bad), std::invalid_argument) << bad;
  }
  try {
    parse_port("foo://x");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown scheme 'foo://'"), std::string::npos);
  }
}

TEST(PortSpec, SerialSettings) {
  EXPECT_NO_THROW(check_baud(115200));
  EXPECT_NO_THROW(check_baud(9600));
  EXPECT_THROW(check_baud(115201), std::invalid_argument);
  EXPECT_EQ(parse_parity("none"), Parity::None);
  EXPECT_EQ(parse_parity("even"), Parity::Even);
  EXPECT_THROW(parse_parity("mark"), std::invalid_argument);
}
