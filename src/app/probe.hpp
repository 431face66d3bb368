#pragma once
// Which controllers answer on an open link: what `scan` lists and `setup` puts in a config.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "device/field_reader.hpp"
#include "protocol/device_identity.hpp"
#include "protocol/register_map.hpp"
#include "transport/modbus_client.hpp"

namespace tracermon::app {

struct ProbedController {
  std::uint8_t id = 0;
  std::optional<protocol::DeviceIdentity> identity;  // unset when 0x2B/0x0E is not answered
  device::Reading rated;                             // k_rated_fields, as far as answered
};

// The rated values a probe reads, by registers.csv name.
inline constexpr std::array k_rated_fields = {"pv_rated_voltage", "battery_rated_voltage",
                                              "battery_rated_current", "charging_mode"};

// Asks each id for its rated values and, when it answers at all (an exception reply counts),
// for its identity. `on_found` sees each controller as soon as it is known, so a slow probe
// shows progress. The client must be open.
std::vector<ProbedController> probe_controllers(
    const protocol::RegisterMap& map, transport::ModbusClient& client, int max_registers,
    std::span<const std::uint8_t> ids,
    const std::function<void(const ProbedController&)>& on_found = {});

// One rated value with its unit ("24V"), "?" when it was not read.
std::string rated_text(const protocol::RegisterMap& map, const ProbedController& found,
                       const char* name);

// The model (product code) or "(unknown)".
std::string model_text(const ProbedController& found);

}  // namespace tracermon::app
