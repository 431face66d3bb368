#pragma once
// The two clocks of tracermon. Scheduling and staleness use the monotonic clock; what is filed,
// published and shown carries the host's wall clock, which can jump (a Pi without an RTC).

#include <chrono>
#include <cstdint>
#include <string>

namespace tracermon::core {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Milliseconds since the epoch (UTC): how times travel in files, the store and the API.
inline std::int64_t epoch_ms(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

inline WallTime from_epoch_ms(std::int64_t ms) {
  return WallTime{std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms))};
}
// The host's wall clock now, in epoch milliseconds.
inline std::int64_t wall_now_ms() {
  return epoch_ms(std::chrono::system_clock::now());
}

// RFC 3339 in local time with offset and milliseconds: 2026-11-24T10:00:00.123+01:00.
std::string rfc3339(WallTime time);
// `time` in local time by a strftime format ("%Y%m%d-%H%M%S"), for names and notes people read.
std::string local_text(WallTime time, const char* strftime_format);

}  // namespace tracermon::core
