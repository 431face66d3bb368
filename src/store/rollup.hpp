#pragma once
// Resolutions of the history and the rollup of one bucket. Buckets are aligned to the UTC
// epoch (days are UTC days). A bucket is always recomputed from the next finer level (minute
// from raw samples, hour from minutes, day from hours), never updated incrementally: data that
// arrives late or twice (the host clock jumped back) leaves every bucket right.

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite_handle.hpp"
#include "store/value_codec.hpp"

namespace tracermon::store {

enum class Level : std::uint8_t { Raw, Minute, Hour, Day };

inline constexpr std::int64_t k_minute_ms = 60'000;
inline constexpr std::int64_t k_hour_ms = 3'600'000;
inline constexpr std::int64_t k_day_ms = 86'400'000;

std::int64_t bucket_ms(Level level);        // 0 for Raw
std::string_view level_name(Level level);   // "raw", "minute", "hour", "day"
std::string_view level_table(Level level);  // "samples", "rollup_minute" ...

// Floor to a multiple of `width`, also for times before 1970.
constexpr std::int64_t floor_to(std::int64_t t, std::int64_t width) {
  std::int64_t q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

// Recomputes rollup buckets on one (write) connection, inside the caller's transaction.
class RollupWriter {
 public:
  explicit RollupWriter(Database& db);

  // Rewrites bucket `start` of `level` (Minute, Hour or Day) for `source` from the finer
  // level; removes the row when the finer level has nothing there.
  core::Status recompute(Level level, std::int64_t source, std::int64_t start);

 private:
  Statement m_select[3];  // finer rows of a bucket: raw, minute, hour
  Statement m_upsert[3];  // minute, hour, day
  Statement m_delete[3];
  std::vector<FieldAggregate> m_by_field;  // indexed by field id
  std::vector<FieldValue> m_values;
  std::vector<FieldAggregate> m_aggregates;
  std::vector<std::uint8_t> m_blob;
};

}  // namespace tracermon::store
