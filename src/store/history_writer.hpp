#pragma once
// The write side of the store: one connection, the interned ids, the rollup bookkeeping.
// Not thread-safe: SnapshotStore serialises the calls.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "store/record.hpp"
#include "store/rollup.hpp"
#include "store/snapshot_store.hpp"
#include "store/sqlite_handle.hpp"

namespace tracermon::store {

// Retention after the rule "a coarser level keeps at least as long as a finer one".
struct Retention {
  int raw_days = 0;
  int minute_days = 0;
  int hour_days = 0;
  int day_days = 0;
};
Retention effective_retention(const StoreOptions& options);  // throws StoreError if < 0

class HistoryWriter {
 public:
  // Opens (creating) the file, sets WAL mode, migrates, and finishes rollups that a power cut
  // left pending. Throws StoreError.
  explicit HistoryWriter(const StoreOptions& options);

  // Writes `batch` and the rollups it touched in one transaction; `flush_open` also writes the
  // still-open rollup buckets. Returns how many records were skipped as older than the raw
  // retention. On failure nothing is written and nothing in memory changes.
  core::Result<std::size_t> write(std::span<const Record> batch, bool flush_open);
  core::Status prune(std::int64_t now_ms);
  core::Status put_energy(const std::vector<EnergyRow>& rows);
  core::Status put_state(std::string_view key, std::string_view value);

 private:
  using BucketKey = std::tuple<Level, std::int64_t, std::int64_t>;  // level, source, start

  struct Pending;
  static BucketKey mark_of(
      const BucketKey& key);  // ids and bookkeeping created by a write that is not committed yet

  core::Result<std::int64_t> source_id(const std::string& name, Pending& pending);
  core::Result<std::uint32_t> field_id(const std::string& name, Pending& pending);
  core::Status write_in_transaction(std::span<const Record> batch, bool flush_open,
                                    Pending& pending);

  StoreOptions m_options;
  Retention m_retention;
  Database m_db;
  Statement m_insert_sample;
  Statement m_insert_source;
  Statement m_insert_field;
  Statement m_insert_source_field;
  Statement m_clear_pending;
  Statement m_insert_pending;
  Statement m_upsert_energy;
  Statement m_upsert_state;
  RollupWriter m_rollups;

  std::unordered_map<std::string, std::int64_t> m_source_ids;
  std::unordered_map<std::string, std::uint32_t> m_field_ids;
  std::set<std::pair<std::int64_t, std::uint32_t>> m_source_fields;

  std::unordered_map<std::int64_t, std::int64_t> m_latest;  // newest time seen per source
  std::optional<std::int64_t> m_last_flush;  // data time when open buckets were last written
  std::set<BucketKey> m_deferred;            // open buckets not rewritten yet
  std::set<BucketKey> m_marked;              // rollup_pending: covers m_deferred
  std::int64_t m_raw_cutoff = INT64_MIN;     // from the last prune

  std::vector<FieldValue> m_values;
  std::vector<std::uint8_t> m_blob;
};

}  // namespace tracermon::store
