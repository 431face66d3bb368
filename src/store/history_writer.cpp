#include "store/history_writer.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <fmt/format.h>

#include "store/row_key.hpp"
#include "store/schema.hpp"
#include "store/store_error.hpp"

namespace tracermon::store {
namespace {

constexpr std::int64_t k_page_size = 4096;

std::filesystem::path prepared_path(const std::filesystem::path& path) {
  if (path.empty()) throw StoreError("history database: no path given");
  std::error_code error;
  auto status = std::filesystem::status(path, error);
  if (!error && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    throw StoreError(fmt::format(
        "history database {}: {}; the path must name a file", path.string(),
        std::filesystem::is_directory(status) ? "is a directory" : "is not a regular file"));
  }
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      // A file where a folder should be is a mistake in the path; anything else (a full or
      // read-only file system, a mount that is not there yet, permissions) may be mended
      // while the daemon runs.
      bool transient = error != std::errc::not_a_directory && error != std::errc::file_exists;
      throw StoreError(fmt::format("cannot create the directory of the history database {}: {}",
                                   path.string(), error.message()),
                       transient);
    }
  }
  return path;
}

bool valid_period(std::string_view period) {
  auto digits = [&](std::size_t from, std::size_t count) {
    for (std::size_t i = from; i < from + count; ++i) {
      if (std::isdigit(static_cast<unsigned char>(period[i])) == 0) return false;
    }
    return true;
  };
  switch (period.size()) {
    case 4:
      return digits(0, 4);
    case 7:
      return digits(0, 4) && period[4] == '-' && digits(5, 2);
    case 10:
      return digits(0, 4) && period[4] == '-' && digits(5, 2) && period[7] == '-' && digits(8, 2);
    default:
      return false;
  }
}

// Sets the connection up for the SD card and brings the schema up to date.
Database& configured(Database& db, const StoreOptions& options) {
  auto what = fmt::format("history database {}", options.path.string());
  db.exec_or_throw(fmt::format("PRAGMA page_size = {}", k_page_size), what);
  // WAL: a commit appends its pages to the -wal file and a checkpoint copies them
  // into the database later; readers never block the writer. Every WAL frame carries
  // a checksum of everything before it, so after kill -9 or a power cut SQLite
  // replays only the complete transactions at the start of the WAL: the file is
  // never corrupt, it only lacks the commits that had not reached the disk.
  // synchronous=FULL fsyncs the WAL at each commit: with NORMAL only checkpoints
  // fsync, and the ~1000 pages between checkpoints are hours of our commits that a
  // power cut could take. FULL adds no bytes written, only a flush every 30 s.
  Statement mode(db.get(), "PRAGMA journal_mode = WAL");
  auto row = mode.step();
  if (!row)
    throw StoreError(fmt::format("{}: {}", what, row.error().message), db.failed_transiently());
  if (!row.value() || mode.column_text(0) != "wal") {
    throw StoreError(fmt::format("{}: cannot switch to WAL mode", what));
  }
  mode.reset();
  db.exec_or_throw("PRAGMA synchronous = FULL", what);
  // After a big transaction (an import) the WAL shrinks back to this at checkpoint.
  db.exec_or_throw("PRAGMA journal_size_limit = 16777216", what);
  if (options.max_db_bytes > 0) {
    auto pages = std::max<std::uint64_t>(options.max_db_bytes / k_page_size, 8);
    db.exec_or_throw(fmt::format("PRAGMA max_page_count = {}", pages), what);
  }
  migrate(db, schema_migrations(), what);
  return db;
}

Level next(Level level) {
  return static_cast<Level>(static_cast<int>(level) + 1);
}

}  // namespace

// A pending minute bucket is marked by its hour, so that the mark changes once an hour.
HistoryWriter::BucketKey HistoryWriter::mark_of(const BucketKey& key) {
  auto [level, source, start] = key;
  if (level == Level::Minute) return {level, source, floor_to(start, k_hour_ms)};
  return key;
}

Retention effective_retention(const StoreOptions& options) {
  auto check = [](int days, const char* name) {
    if (days < 0) {
      throw StoreError(
          fmt::format("store option {} is {}: must be 0 (forever) or more days", name, days));
    }
    return days;
  };
  // Each coarser level is recomputed from the finer one, so it must not lose data first.
  auto at_least = [](int finer, int days) {
    return finer == 0 || days == 0 ? 0 : std::max(finer, days);
  };
  Retention r;
  r.raw_days = check(options.raw_days, "raw_days");
  r.minute_days = at_least(r.raw_days, check(options.minute_days, "minute_days"));
  r.hour_days = at_least(r.minute_days, check(options.hour_days, "hour_days"));
  r.day_days = at_least(r.hour_days, check(options.day_days, "day_days"));
  return r;
}

struct HistoryWriter::Pending {
  std::vector<std::string> new_sources;
  std::vector<std::string> new_fields;
  std::vector<std::pair<std::int64_t, std::uint32_t>> new_source_fields;
  std::unordered_map<std::int64_t, std::int64_t> latest;
  std::optional<std::int64_t> last_flush;
  std::set<BucketKey> deferred;
  std::set<BucketKey> marked;
  std::size_t too_old = 0;
};

HistoryWriter::HistoryWriter(const StoreOptions& options)
    : m_options(options),
      m_retention(effective_retention(options)),
      m_db(prepared_path(options.path), false),
      m_rollups(configured(m_db, options)) {
  m_insert_sample =
      Statement(m_db.get(), "INSERT OR REPLACE INTO samples(id, data) VALUES(?1, ?2)");
  m_insert_source = Statement(m_db.get(), "INSERT INTO sources(name) VALUES(?1)");
  m_insert_field = Statement(m_db.get(), "INSERT INTO fields(name) VALUES(?1)");
  m_insert_source_field =
      Statement(m_db.get(), "INSERT OR IGNORE INTO source_fields(source, field) VALUES(?1, ?2)");
  m_clear_pending = Statement(m_db.get(), "DELETE FROM rollup_pending");
  m_insert_pending =
      Statement(m_db.get(), "INSERT INTO rollup_pending(level, source, t) VALUES(?1, ?2, ?3)");
  m_upsert_energy = Statement(m_db.get(),
                              "INSERT OR REPLACE INTO energy(source, period, generated_kwh, "
                              "consumed_kwh) VALUES(?1, ?2, ?3, ?4)");
  m_upsert_state = Statement(m_db.get(), "INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)");

  auto what = fmt::format("cannot read history database {}", options.path.string());
  auto load = [&](std::string_view sql, auto&& use) {
    Statement select(m_db.get(), sql);
    for (;;) {
      auto row = select.step();
      if (!row) {
        throw StoreError(fmt::format("{}: {}", what, row.error().message),
                         m_db.failed_transiently());
      }
      if (!row.value()) break;
      use(select);
    }
  };
  load("SELECT id, name FROM sources",
       [&](Statement& s) { m_source_ids.emplace(std::string(s.column_text(1)), s.column_int(0)); });
  load("SELECT id, name FROM fields", [&](Statement& s) {
    m_field_ids.emplace(std::string(s.column_text(1)), static_cast<std::uint32_t>(s.column_int(0)));
  });
  load("SELECT source, field FROM source_fields", [&](Statement& s) {
    m_source_fields.emplace(s.column_int(0), static_cast<std::uint32_t>(s.column_int(1)));
  });
  // Open buckets that a power cut left stale: the first write recomputes them.
  load("SELECT level, source, t FROM rollup_pending", [&](Statement& s) {
    auto level = s.column_int(0);
    if (level < static_cast<int>(Level::Minute) || level > static_cast<int>(Level::Day)) return;
    BucketKey mark{static_cast<Level>(level), s.column_int(1), s.column_int(2)};
    m_marked.insert(mark);
    if (std::get<0>(mark) != Level::Minute) {
      m_deferred.insert(mark);
      return;
    }
    for (std::int64_t minute = 0; minute < k_hour_ms; minute += k_minute_ms) {
      m_deferred.emplace(Level::Minute, std::get<1>(mark), std::get<2>(mark) + minute);
    }
  });
}

core::Result<std::int64_t> HistoryWriter::source_id(const std::string& name, Pending& pending) {
  if (auto it = m_source_ids.find(name); it != m_source_ids.end()) return it->second;
  m_insert_source.bind(1, name);
  if (auto status = m_insert_source.run(); !status) return status.error();
  auto id = sqlite3_last_insert_rowid(m_db.get());
  if (id >= k_source_slots) {
    return core::Error{core::ErrorKind::InvalidArgument,
                       fmt::format("history database: source '{}' is one too many (at most {})",
                                   name, k_source_slots - 1)};
  }
  m_source_ids.emplace(name, id);
  pending.new_sources.push_back(name);
  return id;
}

core::Result<std::uint32_t> HistoryWriter::field_id(const std::string& name, Pending& pending) {
  if (auto it = m_field_ids.find(name); it != m_field_ids.end()) return it->second;
  m_insert_field.bind(1, name);
  if (auto status = m_insert_field.run(); !status) return status.error();
  auto id = static_cast<std::uint32_t>(sqlite3_last_insert_rowid(m_db.get()));
  m_field_ids.emplace(name, id);
  pending.new_fields.push_back(name);
  return id;
}

core::Result<std::size_t> HistoryWriter::write(std::span<const Record> batch, bool flush_open) {
  Pending pending;
  pending.latest = m_latest;
  pending.last_flush = m_last_flush;
  pending.deferred = m_deferred;
  pending.marked = m_marked;
  Transaction transaction(m_db);
  auto status = transaction.begin();
  if (status) status = write_in_transaction(batch, flush_open, pending);
  if (status) status = transaction.commit();
  if (!status) {
    // The transaction is rolled back: forget the ids it created.
    for (const auto& name : pending.new_sources) {
      m_source_ids.erase(name);
    }
    for (const auto& name : pending.new_fields) {
      m_field_ids.erase(name);
    }
    for (const auto& pair : pending.new_source_fields) {
      m_source_fields.erase(pair);
    }
    return status.error();
  }
  m_latest = std::move(pending.latest);
  m_last_flush = pending.last_flush;
  m_deferred = std::move(pending.deferred);
  m_marked = std::move(pending.marked);
  return pending.too_old;
}

core::Status HistoryWriter::write_in_transaction(std::span<const Record> batch, bool flush_open,
                                                 Pending& pending) {
  std::set<std::pair<std::int64_t, std::int64_t>> dirty_minutes;
  std::optional<std::int64_t> newest;
  for (const auto& record : batch) {
    if (record.time_ms < m_raw_cutoff || record.time_ms < -k_max_abs_time_ms ||
        record.time_ms > k_max_abs_time_ms) {
      ++pending.too_old;
      continue;
    }
    m_values.clear();
    for (const auto& value : record.values) {
      auto centi = to_centi(value.value);
      if (!centi) continue;
      auto field = field_id(value.field, pending);
      if (!field) return field.error();
      m_values.push_back({field.value(), *centi});
    }
    if (m_values.empty()) continue;
    // Ascending ids; of a field given twice the later value wins.
    std::stable_sort(m_values.begin(), m_values.end(),
                     [](const FieldValue& a, const FieldValue& b) { return a.field < b.field; });
    auto last_of_each =
        std::unique(m_values.rbegin(), m_values.rend(),
                    [](const FieldValue& a, const FieldValue& b) { return a.field == b.field; });
    m_values.erase(m_values.begin(), last_of_each.base());

    auto source = source_id(record.source, pending);
    if (!source) return source.error();
    for (const auto& v : m_values) {
      std::pair<std::int64_t, std::uint32_t> pair{source.value(), v.field};
      if (m_source_fields.contains(pair)) continue;
      m_insert_source_field.bind(1, pair.first);
      m_insert_source_field.bind(2, static_cast<std::int64_t>(pair.second));
      if (auto status = m_insert_source_field.run(); !status) return status;
      m_source_fields.insert(pair);
      pending.new_source_fields.push_back(pair);
    }
    encode_sample(m_values, m_blob);
    m_insert_sample.bind(1, row_key(record.time_ms, source.value()));
    m_insert_sample.bind_blob(2, m_blob);
    if (auto status = m_insert_sample.run(); !status) return status;

    dirty_minutes.emplace(source.value(), floor_to(record.time_ms, k_minute_ms));
    auto [latest, inserted] = pending.latest.emplace(source.value(), record.time_ms);
    if (!inserted) latest->second = std::max(latest->second, record.time_ms);
    newest = std::max(newest.value_or(record.time_ms), record.time_ms);
  }

  // The buckets still filling (those holding their source's newest sample) are rewritten only
  // every open_rollup_refresh_ms of data time, when they close, and at shutdown: with a commit
  // every 30 s that spares most commits the pages of three rollup tables, so a commit
  // usually dirties the last leaf of `samples` alone. rollup_pending names them, at hour
  // granularity so that it changes once an hour, and a restart after a power cut recomputes
  // them from the finer data, which is always committed.
  std::int64_t refresh = m_options.open_rollup_refresh_ms;
  bool due = flush_open || refresh <= 0 || !pending.last_flush ||
             (newest && *newest >= *pending.last_flush + refresh);
  auto is_open = [&](std::int64_t source, std::int64_t start, std::int64_t width) {
    auto it = pending.latest.find(source);
    return it != pending.latest.end() && floor_to(it->second, width) == start;
  };
  std::set<std::pair<std::int64_t, std::int64_t>> dirty[3] = {std::move(dirty_minutes), {}, {}};
  for (const auto& [level, source, start] : pending.deferred) {
    dirty[static_cast<int>(level) - 1].emplace(source, start);
  }
  std::set<BucketKey> deferred;
  for (int index = 0; index < 3; ++index) {
    auto level = static_cast<Level>(index + 1);
    for (const auto& [source, start] : dirty[index]) {
      if (index < 2) dirty[index + 1].emplace(source, floor_to(start, bucket_ms(next(level))));
      if (!due && is_open(source, start, bucket_ms(level))) {
        deferred.emplace(level, source, start);
      } else if (auto status = m_rollups.recompute(level, source, start); !status) {
        return status;
      }
    }
  }
  if (due && newest) pending.last_flush = newest;

  std::set<BucketKey> marks;
  for (const auto& key : deferred) {
    marks.insert(mark_of(key));
  }
  bool covered =
      std::includes(pending.marked.begin(), pending.marked.end(), marks.begin(), marks.end());
  if (!covered || (marks.empty() && !pending.marked.empty() && flush_open)) {
    if (auto status = m_clear_pending.run(); !status) return status;
    for (const auto& [level, source, start] : marks) {
      m_insert_pending.bind(1, static_cast<std::int64_t>(level));
      m_insert_pending.bind(2, source);
      m_insert_pending.bind(3, start);
      if (auto status = m_insert_pending.run(); !status) return status;
    }
    pending.marked = std::move(marks);
  }
  pending.deferred = std::move(deferred);
  return core::Ok{};
}

core::Status HistoryWriter::prune(std::int64_t now_ms) {
  auto cutoff = [&](int days) { return floor_to(now_ms - days * k_day_ms, k_day_ms); };
  Transaction transaction(m_db);
  auto status = transaction.begin();
  const std::pair<Level, int> levels[] = {{Level::Raw, m_retention.raw_days},
                                          {Level::Minute, m_retention.minute_days},
                                          {Level::Hour, m_retention.hour_days},
                                          {Level::Day, m_retention.day_days}};
  for (const auto& [level, days] : levels) {
    if (!status || days == 0) continue;
    status = m_db.exec(
        fmt::format("DELETE FROM {} WHERE id < {}", level_table(level), row_key(cutoff(days), 0)));
  }
  if (status) status = transaction.commit();
  if (status && m_retention.raw_days > 0) m_raw_cutoff = cutoff(m_retention.raw_days);
  return status;
}

core::Status HistoryWriter::put_energy(const std::vector<EnergyRow>& rows) {
  for (const auto& row : rows) {
    if (row.source.empty() || !valid_period(row.period)) {
      return core::Error{core::ErrorKind::InvalidArgument,
                         fmt::format("energy row of source '{}': period '{}' is not YYYY, "
                                     "YYYY-MM or YYYY-MM-DD (or the source is empty)",
                                     row.source, row.period)};
    }
  }
  Transaction transaction(m_db);
  auto status = transaction.begin();
  for (const auto& row : rows) {
    if (!status) break;
    m_upsert_energy.bind(1, row.source);
    m_upsert_energy.bind(2, row.period);
    m_upsert_energy.bind(3, row.generated_kwh);
    m_upsert_energy.bind(4, row.consumed_kwh);
    status = m_upsert_energy.run();
  }
  if (status) status = transaction.commit();
  return status;
}

core::Status HistoryWriter::put_state(std::string_view key, std::string_view value) {
  m_upsert_state.bind(1, key);
  m_upsert_state.bind(2, value);
  return m_upsert_state.run();
}

}  // namespace tracermon::store
