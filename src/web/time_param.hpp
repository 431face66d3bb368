#pragma once
// Times in query strings: "now", relative ("-24h", "-30m", "-7d"), epoch seconds or
// milliseconds, or RFC 3339 ("2026-11-25T10:00:00Z", "...+01:00", date only "2026-11-25").

#include <cstdint>
#include <optional>
#include <string_view>

namespace tracermon::web {

// Milliseconds since the epoch, or nullopt when the text is none of the accepted forms.
std::optional<std::int64_t> parse_time_param(std::string_view text, std::int64_t now_ms);

}  // namespace tracermon::web
