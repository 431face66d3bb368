#pragma once
// Times in query strings and on the command line: "now", relative ("-24h", "-30m", "-7d"),
// epoch seconds or milliseconds, or RFC 3339 ("2026-11-25T10:00:00Z", "...+01:00", date only
// "2026-11-25").

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace tracermon::web {

// The times a query may name: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. Nothing before
// 1970 is ever filed (the clock is not trusted before 2026), four-digit years are what RFC 3339
// and the export write, and the history can compute with any range inside (no overflow).
inline constexpr std::int64_t k_min_time_ms = 0;
inline constexpr std::int64_t k_max_time_ms = 253'402'300'799'999;
inline constexpr std::string_view k_time_range = "1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z";

// Milliseconds since the epoch, or nullopt when the text is none of the accepted forms. The
// result may lie outside the allowed range: time_param() checks it.
std::optional<std::int64_t> parse_time_param(std::string_view text, std::int64_t now_ms);

// parse_time_param within [k_min_time_ms, k_max_time_ms]; the error names `name` ("from",
// "--to"), the text and what is allowed.
core::Result<std::int64_t> time_param(std::string_view name, std::string_view text,
                                      std::int64_t now_ms);

}  // namespace tracermon::web
