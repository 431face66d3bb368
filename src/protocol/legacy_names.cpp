#include "protocol/legacy_names.hpp"

#include <array>

namespace tracermon::protocol {

std::span<const LegacyName> legacy_names() {
  static constexpr std::array<LegacyName, 19> k_names = {{
      {"pvvolt", "pv_voltage"},
      {"pvamps", "pv_current"},
      {"pvwatt", "pv_power"},
      {"bavolt", "battery_voltage"},
      {"baamps", "battery_charging_current"},
      {"bawatt", "battery_charging_power"},
      {"batemp", "battery_temperature"},
      {"eptemp1", "device_temperature"},
      {"eptemp2", "power_components_temperature"},
      {"baperc", "battery_soc"},
      {"bastat", "battery_status"},
      {"epstat", "charging_equipment_status"},
      {"dcvolt", "load_voltage"},
      {"dcamps", "load_current"},
      {"dcwatt", "load_power"},
      {"pvkwhtoday", "generated_energy_today"},
      {"pvkwhtotal", "generated_energy_total"},
      {"dckwhtoday", "consumed_energy_today"},
      {"dckwhtotal", "consumed_energy_total"},
  }};
  return k_names;
}

std::string_view resolve_legacy_name(std::string_view name) {
  for (const auto& n : legacy_names()) {
    if (n.legacy == name) return n.field;
  }
  return name;
}

}  // namespace tracermon::protocol
