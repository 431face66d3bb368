#include "model/site_totals.hpp"

#include <array>

namespace tracermon::model {
namespace {

constexpr std::array<SiteField, 13> k_fields = {{
    {"pv_power", "W", "PV input power of all controllers", "pv_power", SiteCombine::Sum},
    {"battery_charging_power", "W", "power charged into the battery by all controllers",
     "battery_charging_power", SiteCombine::Sum},
    {"load_power", "W", "power of all load outputs", "load_power", SiteCombine::Sum},
    {"pv_current", "A", "PV input current of all controllers", "pv_current", SiteCombine::Sum},
    {"battery_charging_current", "A", "charging current of all controllers",
     "battery_charging_current", SiteCombine::Sum},
    {"load_current", "A", "current of all load outputs", "load_current", SiteCombine::Sum},
    {"battery_current_net", "A", "net battery current, positive when charging",
     "battery_current_net", SiteCombine::Sum},
    {"battery_voltage", "V", "voltage of the shared battery (mean of the controllers)",
     "battery_voltage", SiteCombine::Mean},
    {"battery_soc", "%", "state of charge of the shared battery", "battery_soc",
     SiteCombine::First},
    {"generated_energy_today", "kWh", "PV energy today by the controllers' clocks",
     "generated_energy_today", SiteCombine::Sum},
    {"generated_energy_total", "kWh", "PV energy since the counters were cleared",
     "generated_energy_total", SiteCombine::Sum},
    {"consumed_energy_today", "kWh", "load energy today by the controllers' clocks",
     "consumed_energy_today", SiteCombine::Sum},
    {"consumed_energy_total", "kWh", "load energy since the counters were cleared",
     "consumed_energy_total", SiteCombine::Sum},
}};

}  // namespace

std::span<const SiteField> site_fields() {
  return k_fields;
}

std::optional<std::string_view> site_field_unit(std::string_view name) {
  for (const auto& field : k_fields) {
    if (field.name == name) return field.unit;
  }
  return std::nullopt;
}

}  // namespace tracermon::model
