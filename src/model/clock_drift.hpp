#pragma once
// How far a controller's clock is off: its three RTC words (0x9013-0x9015, polled in the slow
// class) against the host's local time when they were read. The controller keeps local time
// without a zone (protocol::local_calendar), hence the host's local zone here too.
// Pure but for the zone (localtime_r, TZ): /api/v1/status and /metrics show it.

#include <optional>

#include "model/snapshot.hpp"
#include "protocol/decode.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::model {

// The controller clock's drift in seconds (positive: the controller is ahead), or nullopt when
// it cannot be told: a word missing, an invalid date (a clock never set), words read more
// than 2 s apart (not from one request), or a host clock not yet known good.
std::optional<double> clock_drift_s(const protocol::RegisterMap& map,
                                    const DeviceSnapshot& snapshot);

}  // namespace tracermon::model
