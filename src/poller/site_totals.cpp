#include "poller/site_totals.hpp"

#include <algorithm>
#include <array>

namespace tracermon::poller {
namespace {

enum class Combine {
  Sum,    // needs every member: a partial sum would look like a drop in production
  Mean,   // battery voltage: one battery, each fresh member measures it
  First,  // battery SOC: one battery, the first fresh member's estimate
};

struct SiteFieldSpec {
  SiteField field;
  std::string_view source;  // the member field in registers.csv
  Combine combine;
};

constexpr std::array<SiteFieldSpec, 13> k_specs = {{
    {{"pv_power", "W", "PV input power of all controllers"}, "pv_power", Combine::Sum},
    {{"battery_charging_power", "W", "power charged into the battery by all controllers"},
     "battery_charging_power",
     Combine::Sum},
    {{"load_power", "W", "power of all load outputs"}, "load_power", Combine::Sum},
    {{"pv_current", "A", "PV input current of all controllers"}, "pv_current", Combine::Sum},
    {{"battery_charging_current", "A", "charging current of all controllers"},
     "battery_charging_current",
     Combine::Sum},
    {{"load_current", "A", "current of all load outputs"}, "load_current", Combine::Sum},
    {{"battery_current_net", "A", "net battery current, positive when charging"},
     "battery_current_net",
     Combine::Sum},
    {{"battery_voltage", "V", "voltage of the shared battery (mean of the controllers)"},
     "battery_voltage",
     Combine::Mean},
    {{"battery_soc", "%", "state of charge of the shared battery"}, "battery_soc", Combine::First},
    {{"generated_energy_today", "kWh", "PV energy today by the controllers' clocks"},
     "generated_energy_today",
     Combine::Sum},
    {{"generated_energy_total", "kWh", "PV energy since the counters were cleared"},
     "generated_energy_total",
     Combine::Sum},
    {{"consumed_energy_today", "kWh", "load energy today by the controllers' clocks"},
     "consumed_energy_today",
     Combine::Sum},
    {{"consumed_energy_total", "kWh", "load energy since the counters were cleared"},
     "consumed_energy_total",
     Combine::Sum},
}};

}  // namespace

std::span<const SiteField> site_fields() {
  static const auto fields = [] {
    std::array<SiteField, k_specs.size()> out{};
    std::transform(k_specs.begin(), k_specs.end(), out.begin(),
                   [](const SiteFieldSpec& spec) { return spec.field; });
    return out;
  }();
  return fields;
}

std::optional<std::string_view> site_field_unit(std::string_view name) {
  for (const auto& spec : k_specs) {
    if (spec.field.name == name) return spec.field.unit;
  }
  return std::nullopt;
}

SiteTotals compute_site_totals(const protocol::RegisterMap& map, std::string site,
                               std::span<const SnapshotPtr> members, SteadyTime now,
                               std::chrono::milliseconds max_age) {
  SiteTotals totals;
  totals.site = std::move(site);
  for (std::size_t i = 0; i < members.size(); ++i) {
    totals.members.push_back(members[i] ? members[i]->device : "#" + std::to_string(i));
  }

  auto fresh = [&](std::size_t member, protocol::FieldId id) -> const FieldSample* {
    if (!members[member]) return nullptr;
    const auto* sample = members[member]->find(id);
    if (sample == nullptr || now - sample->read_at > max_age) return nullptr;
    return sample;
  };

  std::vector<bool> missing(members.size(), false);
  for (const auto& spec : k_specs) {
    const auto* field = map.find(spec.source);
    std::vector<const FieldSample*> samples;
    std::vector<std::size_t> lacking;
    for (std::size_t i = 0; field != nullptr && i < members.size(); ++i) {
      if (const auto* sample = fresh(i, field->id)) {
        samples.push_back(sample);
      } else {
        lacking.push_back(i);
      }
    }
    // A sum needs every member; the battery fields need any one of them.
    bool computable =
        field != nullptr && !samples.empty() && (spec.combine != Combine::Sum || lacking.empty());
    if (!computable) {
      for (auto i : lacking)
        missing[i] = true;
      totals.left_out.emplace_back(spec.field.name);
      continue;
    }
    double value = 0;
    if (spec.combine == Combine::First) {
      value = samples.front()->value;
      totals.time = std::max(totals.time, samples.front()->wall_time);
    } else {
      for (const auto* sample : samples) {
        value += sample->value;
        totals.time = std::max(totals.time, sample->wall_time);
      }
      if (spec.combine == Combine::Mean) value /= static_cast<double>(samples.size());
    }
    totals.values.emplace_back(spec.field.name, value);
  }

  for (std::size_t i = 0; i < members.size(); ++i) {
    if (missing[i]) totals.missing_members.push_back(totals.members[i]);
  }
  totals.complete = totals.left_out.empty() && totals.missing_members.empty();
  return totals;
}

}  // namespace tracermon::poller
