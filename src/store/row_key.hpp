#pragma once
// Rows of the sample and rollup tables are keyed by one integer, the rowid:
//   id = time_ms * 4096 + source id   (time_ms = bucket start for rollups)
// so `id >> 12` is the time and `id & 4095` the source, also in SQL.
//
// Why not a WITHOUT ROWID table with PRIMARY KEY(t, source): SQLite splits a full rowid-table
// leaf on append by starting a new page and leaving the old one full ("balance_quick"); index
// B-trees (WITHOUT ROWID) always rebalance three siblings instead. With rows arriving in time
// order that made every commit rewrite 3-4 leaves and left pages a third empty; as a rowid
// table a commit dirties the last leaf only and pages end up full.
//
// Time comes first, not the source, for the same reason: all sources append at one end of the
// tree, one hot leaf per commit. A query for one source reads the other sources' rows of its
// range too; raw samples only serve short ranges (at most `points` minutes), so that is cheap.

#include <cstdint>

namespace tracermon::store {

inline constexpr std::int64_t k_source_slots = 4096;  // source ids 1..4095
// |time_ms| beyond this does not fit the key (it is year 33658 anyway).
inline constexpr std::int64_t k_max_abs_time_ms = 1'000'000'000'000'000;

constexpr std::int64_t row_key(std::int64_t time_ms, std::int64_t source) {
  return time_ms * k_source_slots + source;
}

constexpr std::int64_t key_source(std::int64_t key) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(key) & (k_source_slots - 1));
}

constexpr std::int64_t key_time(std::int64_t key) {
  return (key - key_source(key)) / k_source_slots;
}

static_assert(key_time(row_key(-5, 7)) == -5 && key_source(row_key(-5, 7)) == 7);

}  // namespace tracermon::store
