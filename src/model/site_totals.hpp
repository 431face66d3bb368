#pragma once
// The totals of a site (controllers that charge one shared battery through a PAL-ADP parallel
// kit) and the site fields there are: what the poller computes and the outputs show.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/wall_time.hpp"

namespace tracermon::model {

struct SiteTotals {
  std::string site;
  std::vector<std::string> members;          // device names, in the order given
  std::vector<std::string> missing_members;  // stale, absent or lacking a value a sum needs
  std::vector<std::string> left_out;         // site fields not computed because of them
  bool complete = false;                     // every site field computed from every member
  core::WallTime time{};                     // newest wall time of the samples used
  // False while the host clock is not known good: shown live, never filed (see ClockWatch).
  bool clock_trusted = true;
  // In site_fields() order (units there), to 0.01: the members' resolution, without the
  // binary fraction noise of sums (compute_site_totals rounds; outputs print them as they are).
  std::vector<std::pair<std::string, double>> values;
};

// How the members' values make a site field.
enum class SiteCombine : std::uint8_t {
  Sum,    // needs every member: a partial sum would look like a drop in production
  Mean,   // battery voltage: one battery, each fresh member measures it
  First,  // battery SOC: one battery, the first fresh member's estimate
};

// One site field: its key (valid as a Home Assistant sensor key and an InfluxDB field name),
// unit, meaning, and the member field (registers.csv) it is made of.
struct SiteField {
  std::string_view name;
  std::string_view unit;
  std::string_view description;
  std::string_view source;
  SiteCombine combine = SiteCombine::Sum;
};

// Every site field:
//   pv_power W, battery_charging_power W, load_power W: sums
//   pv_current A, battery_charging_current A, load_current A, battery_current_net A: sums
//   battery_voltage V: mean of the fresh members (one battery, so any fresh member will do)
//   battery_soc %: the first fresh member's (they share the battery)
//   generated_energy_today/total, consumed_energy_today/total kWh: sums of the controllers'
//   own counters (the "today" ones follow each controller's clock; see EnergyLedger)
std::span<const SiteField> site_fields();
// The unit of a site field ("W", "A", "V", "%", "kWh"), or nullopt for an unknown name.
std::optional<std::string_view> site_field_unit(std::string_view name);

}  // namespace tracermon::model
