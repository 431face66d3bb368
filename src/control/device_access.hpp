#pragma once
// What the control service needs from whoever holds the bus: the devices it may address and
// a way to run a job on a device's bus as the one master there. The daemon answers through
// its bus workers' queues (app/daemon_control.cpp); a CLI without a daemon opens the port
// itself (app/control_command.cpp).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "transport/modbus_client.hpp"

namespace tracermon::control {

struct DeviceRef {
  std::string name;  // configured name; the slave id as text without a configuration
  std::uint8_t unit = 1;
  std::string bus;
  bool online = true;      // answered its last poll (always true without a daemon)
  std::string health;      // for messages: "offline since ...: timeout"
  double error_ratio = 0;  // failed requests over requests lately (0..1)
  std::uint64_t recent_requests = 0;
  std::uint16_t max_registers = 16;  // the bus's limit per read request
};

using BusJob = std::function<void(transport::ModbusClient&)>;

class DeviceAccess {
 public:
  virtual ~DeviceAccess() = default;
  [[nodiscard]] virtual std::vector<DeviceRef> devices() const = 0;
  // Runs `job` on the device's bus with the bus to itself; Ok once it ran, else why it did
  // not (the bus was busy past the deadline, the daemon stops).
  virtual core::Status run(const DeviceRef& device, const BusJob& job) = 0;
};

}  // namespace tracermon::control
