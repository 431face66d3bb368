#include "format/site_json.hpp"

#include <cmath>

#include "core/wall_time.hpp"

namespace tracermon::format {

nlohmann::ordered_json site_json(const model::SiteTotals& totals) {
  nlohmann::ordered_json json{{"site", totals.site},
                              {"complete", totals.complete},
                              {"members", totals.members},
                              {"missing_members", totals.missing_members},
                              {"left_out", totals.left_out},
                              {"time", core::rfc3339(totals.time)},
                              {"time_ms", core::epoch_ms(totals.time)}};
  auto values = nlohmann::ordered_json::object();
  for (const auto& [name, value] : totals.values) {
    // Sums of 0.01 steps: round away the binary fraction noise (707.0899999 -> 707.09).
    values[name] = {{"value", std::round(value * 100) / 100},
                    {"unit", model::site_field_unit(name).value_or("")}};
  }
  json["values"] = std::move(values);
  return json;
}

}  // namespace tracermon::format
