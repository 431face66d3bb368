#pragma once
// The check names of the old logtracer.py tool (LEGACY.md), so old cron and shell scripts keep
// working: `tracermon read 1 pvvolt`.

#include <span>
#include <string_view>

namespace tracermon::protocol {

struct LegacyName {
  std::string_view legacy;  // e.g. "pvvolt"
  std::string_view field;   // registers.csv name, e.g. "pv_voltage"
};

std::span<const LegacyName> legacy_names();

// The registers.csv name for a legacy check name, or the name itself when it is not one.
std::string_view resolve_legacy_name(std::string_view name);

}  // namespace tracermon::protocol
