#pragma once
// Totals of a site: controllers that charge one shared battery (PAL-ADP parallel kit). Sums are
// only made from fresh values of every member: a total that silently leaves out a controller
// that stopped answering would look like a drop in production, so such a sum is left out and
// the site reported incomplete instead.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "poller/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

struct SiteTotals {
  std::string site;
  std::vector<std::string> members;          // device names, in the order given
  std::vector<std::string> missing_members;  // stale, absent or lacking a value a sum needs
  std::vector<std::string> left_out;         // site fields not computed because of them
  bool complete = false;                     // every site field computed from every member
  WallTime time{};                           // newest wall time of the samples used
  std::vector<std::pair<std::string, double>> values;  // in site_fields() order; units there
};

// One site field: its key (valid as a Home Assistant sensor key and an InfluxDB field name),
// unit and meaning.
struct SiteField {
  std::string_view name;
  std::string_view unit;
  std::string_view description;
};

// Every field compute_site_totals can produce:
//   pv_power W, battery_charging_power W, load_power W: sums
//   pv_current A, battery_charging_current A, load_current A, battery_current_net A: sums
//   battery_voltage V: mean of the fresh members (one battery, so any fresh member will do)
//   battery_soc %: the first fresh member's (they share the battery)
//   generated_energy_today/total, consumed_energy_today/total kWh: sums of the controllers'
//   own counters (the "today" ones follow each controller's clock; see EnergyLedger)
std::span<const SiteField> site_fields();
// The unit of a site field ("W", "A", "V", "%", "kWh"), or nullopt for an unknown name.
std::optional<std::string_view> site_field_unit(std::string_view name);

// `members`: the latest snapshot of each member. A member that was never polled may be passed
// as a snapshot carrying only its device name; a null pointer counts as a missing member named
// "#<index>". A sample is fresh when its read_at is within `max_age` before `now`, so
// `max_age` must cover the slow poll interval for the energy sums to appear.
SiteTotals compute_site_totals(const protocol::RegisterMap& map, std::string site,
                               std::span<const SnapshotPtr> members, SteadyTime now,
                               std::chrono::milliseconds max_age);

}  // namespace tracermon::poller
