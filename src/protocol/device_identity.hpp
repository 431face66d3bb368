#pragma once
// What Read Device Identification (0x2B/0x0E) tells about a device.

#include <string>

namespace tracermon::protocol {

// EPEVER: "EPsolar Tech co., Ltd", "Tracer2215BN", "V02.05+V07.12", serial number as object 3.
struct DeviceIdentity {
  std::string vendor;
  std::string product_code;
  std::string revision;
  std::string serial;  // empty when the regular category is not answered
};

}  // namespace tracermon::protocol
