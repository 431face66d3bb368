#pragma once
// The embedded history: an SQLite file (WAL mode, no server) holding raw samples, minute, hour
// and day rollups, energy totals per period and a little persistent state.
//
// Writing: add() only buffers (any thread, cheap); the daemon calls commit() every
// `commit_interval` (30 s), which writes everything buffered and the rollups it touched in one
// transaction, so a power cut loses at most that window. A failed commit (disk full, I/O error)
// returns the error, keeps the buffer (at most `max_buffered_records`; beyond that the oldest
// records are dropped and counted) and tries again on the next commit. No method throws after
// the constructor.
//
// Opening late (Open::OrLater, the daemon): when the database cannot be opened for a reason
// that may pass (StoreError::transient(): a full disk, an I/O error, a read-only file system,
// a lock held elsewhere), the store starts closed instead of throwing. add() buffers as
// always (bounded the same way), reads find nothing, writes return the open error, and
// commit() tries to open it again after a back-off (`reopen_first`, doubling up to
// `reopen_max`), then writes what was buffered.
//
// Reading (history, export, energy, state, sources) may happen on other threads at the same
// time: reads use their own connection and see the last committed data (nothing while the
// store is closed: no sources, no energy rows, no state; history and export return an error).
//
// Values are stored at a resolution of 0.01 (rounded); NaN, infinities and values beyond
// +-1e10 are not stored. Duplicate (source, time) replaces.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/record.hpp"

namespace tracermon::store {

struct StoreOptions {
  std::filesystem::path path;
  // Retention in days, 0 = forever. A coarser level always keeps at least as long as a finer
  // one (its buckets are recomputed from the finer level), so e.g. minute_days is raised to
  // raw_days when it is shorter.
  int raw_days = 30;
  int minute_days = 365;
  int hour_days = 0;
  int day_days = 0;
  std::size_t max_buffered_records = 100000;
  // The rollup buckets that are still filling (the current minute, hour and day) are rewritten
  // once per this much data time, when they close and at shutdown, instead of at every commit:
  // a commit then usually writes one page instead of two to four. Until then charts from
  // rollups lag by up to this much. 0 = rewrite at every commit.
  std::int64_t open_rollup_refresh_ms = 600'000;  // 10 minutes
  // 0 = no cap. Otherwise a commit that would grow the database file beyond this fails like
  // a full disk (SQLITE_FULL): a guard for small SD cards shared with other data.
  std::uint64_t max_db_bytes = 0;
  // Open::OrLater: the first commit() at least this long after a failed open tries again; each
  // failure doubles the wait up to reopen_max.
  std::chrono::milliseconds reopen_first{5000};
  std::chrono::milliseconds reopen_max{300000};
};

struct HistoryQuery {
  std::string source;
  std::vector<std::string> fields;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  int points = 500;
  enum class Agg { Mean, Min, Max, Last } agg = Agg::Mean;
};

struct History {
  std::vector<std::int64_t> time_ms;                        // bucket starts
  std::vector<std::vector<std::optional<double>>> columns;  // one per field; nullopt = no data
  std::string resolution;                                   // "raw", "minute", "hour", "day"
  std::int64_t bucket_ms = 0;
};

// CSV: "time,source,field,value", one line per value, time as ISO 8601 UTC with milliseconds
// ("2026-11-25T10:00:05.000Z"). JSON lines: one object per sample,
// {"time":"...","time_ms":N,"source":"bus1-1","values":{"field":value,...}}.
// Values are printed exactly at their stored resolution (12.5, -0.03, 123456.78).
enum class ExportFormat { Csv, JsonLines };

struct EnergyRow {
  std::string source;
  std::string period;  // "2026-11-25" (day), "2026-11" (month), "2026" (year)
  double generated_kwh = 0;
  double consumed_kwh = 0;
};

class SnapshotStore {
 public:
  enum class Open : std::uint8_t {
    Now,      // throw when the database cannot be opened
    OrLater,  // throw only when retrying cannot help (!StoreError::transient())
  };

  // Creates the parent directories and the file, migrates it to the current schema. Throws
  // StoreError when that fails (Open::Now) or fails for good (Open::OrLater: a folder at the
  // path, another program's database, a file written by a newer release, bad options).
  explicit SnapshotStore(const StoreOptions& options, Open when = Open::Now);
  // When add() was ever called: commits what is buffered, with every pending rollup (a closed
  // store tries once more to open); errors are only recorded.
  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  void add(Record record);
  // A closed store first tries to open when its back-off has passed; until it is open this
  // returns the open error and keeps the buffer.
  core::Status commit();
  // Deletes what retention no longer keeps, at whole UTC days before `now_ms`. Samples older
  // than the raw cutoff that arrive later are dropped (and counted): their rollups could no
  // longer be recomputed. Nothing to do while the store is closed.
  core::Status maintain(std::int64_t now_ms);

  bool is_open() const;
  std::size_t buffered() const;
  std::uint64_t dropped() const;
  // Of the last failed write or open; empty after a successful commit.
  std::string last_error() const;

  std::vector<std::string> sources() const;                        // sorted by name
  std::vector<std::string> fields(std::string_view source) const;  // in first-stored order

  // At most `points` buckets evenly spanning [from_ms, to_ms). Served from raw samples when a
  // bucket would be shorter than a minute, else from the finest rollup whose bucket fits in
  // one (a year at 500 points reads hour rollups), or a coarser one where retention has
  // already removed the finer data. Buckets are aligned to the rollup's grid, so the first one
  // may start before from_ms. Unknown sources and fields give columns of nullopt.
  core::Result<History> history(const HistoryQuery& query) const;

  // Raw samples in [from_ms, to_ms) of `source` (empty = all), in time order (at one time,
  // sources in the order they were first stored). An unknown source is an error.
  core::Status export_range(std::string_view source, std::int64_t from_ms, std::int64_t to_ms,
                            ExportFormat format, std::ostream& out) const;

  // Inserts or replaces, in a small transaction of its own.
  core::Status put_energy(const std::vector<EnergyRow>& rows);
  // `kind` "day", "month" or "year" (anything else: nothing); periods inclusive, "" = open.
  std::vector<EnergyRow> energy(std::string_view source, std::string_view kind,
                                std::string_view from_period = "",
                                std::string_view to_period = "") const;

  core::Status put_state(std::string_view key, std::string_view value);
  std::optional<std::string> get_state(std::string_view key) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tracermon::store
