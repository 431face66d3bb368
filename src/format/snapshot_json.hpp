#pragma once
// A device's latest values as JSON: the state file each cycle writes, `/api/v1/latest` and
// `tracermon get` all use this one shape, so a script sees the same thing everywhere.

#include <nlohmann/json.hpp>

#include "model/poll_intervals.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::format {

// {"device","bus","site","id","health","time","fields":{name:{value,unit,time,time_ms,
//  max_age_s,raw}},"status":{...},"missing":{name:reason}}
nlohmann::ordered_json snapshot_json(const protocol::RegisterMap& map,
                                     const model::DeviceSnapshot& snapshot,
                                     const model::PollIntervals& intervals);

// A site's latest totals: the site's entry in `/api/v1/latest` and its live event.
// {"site","complete","members","missing_members","left_out","time","time_ms",
//  "values":{name:{value,unit}}}
nlohmann::ordered_json site_totals_json(const model::SiteTotals& totals);

}  // namespace tracermon::format
