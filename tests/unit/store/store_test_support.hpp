#pragma once
// Helpers of the store tests: a temporary directory, records, raw SQLite access.

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <sqlite3.h>
#include <sstream>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <gtest/gtest.h>

#include "store/record.hpp"
#include "store/snapshot_store.hpp"
#include "temp_dir.hpp"

namespace tracermon::store::test {

// 2026-11-25T00:00:00Z, a UTC midnight.
inline constexpr std::int64_t k_day0 = 1'795'564'800'000;
inline constexpr std::int64_t k_minute = 60'000;
inline constexpr std::int64_t k_hour = 3'600'000;
inline constexpr std::int64_t k_day = 86'400'000;

// The shared temporary directory, with the store's file inside it.
class TempDir : public ::tracermon::test::TempDir {
 public:
  std::filesystem::path db() const { return path() / "history" / "tracermon.db"; }
};

inline Record record(std::string source, std::int64_t time_ms, std::vector<RecordValue> values) {
  return Record{std::move(source), time_ms, std::move(values)};
}

// Options for tests: rollups rewritten at every commit, unless a test is about that.
inline StoreOptions options_for(const TempDir& dir) {
  StoreOptions options;
  options.path = dir.db();
  options.open_rollup_refresh_ms = 0;
  return options;
}

inline std::string export_text(const SnapshotStore& store, std::string_view source,
                               std::int64_t from_ms, std::int64_t to_ms,
                               ExportFormat format = ExportFormat::Csv) {
  std::ostringstream out;
  auto status = store.export_range(source, from_ms, to_ms, format, out);
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().describe());
  return out.str();
}

// While it lives, this process cannot write a file beyond `bytes` (RLIMIT_FSIZE, with SIGXFSZ
// ignored so that the write fails with EFBIG instead of killing the test): to SQLite, a full
// disk. Needs no privileges; gtest's output goes to a pipe, which the limit does not cover.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &m_saved);
    m_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{bytes, m_saved.rlim_max};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) throw std::runtime_error("setrlimit failed");
  }
  ~FileSizeLimit() { lift(); }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  // Room again.
  void lift() {
    if (m_lifted) return;
    m_lifted = true;
    ::setrlimit(RLIMIT_FSIZE, &m_saved);
    std::signal(SIGXFSZ, m_handler);
  }

 private:
  rlimit m_saved{};
  void (*m_handler)(int) = nullptr;
  bool m_lifted = false;
};

// A plain SQLite connection, to look at or tamper with the file as another program would.
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    if (sqlite3_open(path.c_str(), &m_db) != SQLITE_OK) throw std::runtime_error("open failed");
  }
  ~RawDb() { sqlite3_close(m_db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }
  // The first column of the first row, as text ("" when there is none).
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(m_db));
    }
    std::string value;
    if (sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_text(statement, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return value;
  }
  std::int64_t integer(const std::string& sql) {
    auto value = text(sql);
    return value.empty() ? 0 : std::stoll(value);
  }

 private:
  sqlite3* m_db = nullptr;
};

}  // namespace tracermon::store::test
