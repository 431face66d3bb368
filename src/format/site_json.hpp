#pragma once
// A site's totals as JSON: `/api/v1/latest`'s "sites" entries and the dashboard's live "site"
// events use this one shape.

#include <nlohmann/json.hpp>

#include "model/site_totals.hpp"

namespace tracermon::format {

// {"site","complete","members","missing_members","left_out","time","time_ms",
//  "values":{name:{value,unit}}}
nlohmann::ordered_json site_json(const model::SiteTotals& totals);

}  // namespace tracermon::format
