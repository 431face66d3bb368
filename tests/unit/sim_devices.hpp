#pragma once
// Three simulated controllers "c1".."c3" on one bus of their own, reached without a daemon:
// the DeviceAccess the control tests hand to a ControlService. run() counts its jobs; a test
// that must hold the bus overrides it.

#include <memory>
#include <string>
#include <vector>

#include "control/device_access.hpp"
#include "sim/sim_stream.hpp"
#include "transport/modbus_client.hpp"

namespace tracermon::test {

class SimDevices : public control::DeviceAccess {
 public:
  SimDevices()
      : m_bus(std::make_shared<sim::SimulatedBus>(sim::parse_sim_options("ids=1-3&seed=3"))),
        m_client(sim::make_instant_stream(m_bus), transport::Framing::Rtu, options()) {
    for (std::uint8_t id = 1; id <= 3; ++id)
      refs.push_back({"c" + std::to_string(id), id, "bus1", true, "", 0, 0});
  }
  [[nodiscard]] std::vector<control::DeviceRef> devices() const override { return refs; }
  core::Status run(const control::DeviceRef&, const control::BusJob& job) override {
    ++runs;
    job(m_client);
    return core::Ok{};
  }
  sim::SimulatedBus& bus() { return *m_bus; }
  transport::ModbusClient& client() { return m_client; }

  std::vector<control::DeviceRef> refs;
  int runs = 0;

 private:
  static transport::ClientOptions options() {
    transport::ClientOptions o;
    o.gap = std::chrono::milliseconds(0);
    return o;
  }
  std::shared_ptr<sim::SimulatedBus> m_bus;
  transport::ModbusClient m_client;
};

}  // namespace tracermon::test
