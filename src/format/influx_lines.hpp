#pragma once
// InfluxDB line protocol for tracermon's schema (docs/outputs.md, "Schema").
// Pure: no I/O, no clock. Every function returns whole lines, each ending with '\n', or ""
// when there is nothing to write (a line without fields is never made).
//
// Escaping follows the line-protocol reference: measurement names escape comma and space; tag
// keys, tag values and field keys escape comma, equals sign and space; string field values
// escape double quote and backslash. Line protocol cannot carry a line break in a name, so one
// becomes a space. Floats are printed shortest round-trip; NaN and infinities are left out.
// Timestamps are the wall time floored to the precision.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "model/device_status.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::format {

enum class InfluxPrecision : std::uint8_t { Seconds, Milliseconds, Microseconds, Nanoseconds };

// "s", "ms", "us", "ns" (the spellings of the write API's precision parameter).
std::optional<InfluxPrecision> parse_influx_precision(std::string_view text);
std::string_view to_string(InfluxPrecision precision);

// One line per register-map group of the snapshot (`<prefix>_<group>`, groups "rtc" and
// "coils" left out), tagged bus, device, device_id and site (when set), at snapshot.time.
// Numbers are floats; status words are the raw word as an integer plus each flag as a boolean
// (status_flag_key) and each multi-bit state as its meaning text, named by its key (a key that
// more than one status word has, such as input_voltage, is named like a flag:
// charging_equipment_input_voltage); single-bit enums are booleans, other enums and packed
// words raw integers.
std::string device_lines(const protocol::RegisterMap& map, const model::DeviceSnapshot& snapshot,
                         std::string_view prefix, InfluxPrecision precision);

// `<prefix>_site`, tag site, every computed site field as a float, at totals.time.
std::string site_lines(const model::SiteTotals& totals, std::string_view prefix,
                       InfluxPrecision precision);

// `<prefix>_comm`: the device's cumulative communication counters (integers; which ones and
// their names: format/counters.hpp), mean and maximum latency (floats, latency_ms_mean and
// latency_ms_max) and health (string); tags and time from `cycle`.
std::string comm_lines(const model::DeviceStatus& status, const model::DeviceSnapshot& cycle,
                       std::string_view prefix, InfluxPrecision precision);

// The old tool's point: no tags; PVvolt, PVamps, BAvolt, BAamps, BAperc (SOC as a fraction),
// DCvolt, DCamps from the first member; PVwatt, DCwatt, PVkwh, DCkwh, PVkwh2d, DCkwh2d summed
// over every member. A field is left out unless all its inputs were read within `max_age`
// before `now`; the time is the newest wall time of the samples used.
std::string legacy_line(const protocol::RegisterMap& map,
                        std::span<const model::SnapshotPtr> members, core::SteadyTime now,
                        std::chrono::milliseconds max_age, std::string_view measurement,
                        InfluxPrecision precision);

}  // namespace tracermon::format
