#pragma once
// What was built: the project version, the git revision and the build date. Defined in a .cpp
// generated at every build (cmake/BuildInfo.cmake), so only that file depends on them.

#include <string_view>

namespace tracermon::build_info {

extern const std::string_view k_version;   // "0.2.0"
extern const std::string_view k_revision;  // "a5b9389", "a5b9389+dirty" or "unknown" (no .git)
extern const std::string_view k_date;      // "2026-12-07" (UTC; SOURCE_DATE_EPOCH if set)
// "0.2.0 (git a5b9389, built 2026-12-07)": `tracermon --version` and the daemon's first line.
extern const std::string_view k_description;

}  // namespace tracermon::build_info
