#pragma once
// RAII owners of SQLite handles and the few helpers the store needs around them. Every
// failure becomes a core::Error naming the statement and SQLite's message; constructors that
// cannot return an error (opening the database) are used at start-up only and throw StoreError.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tracermon::store {

// SQLITE_FULL and SQLITE_IOERR_* map to Io; busy/locked to Io too (the caller retries later).
core::Error sqlite_error(sqlite3* db, int code, std::string_view what);
// Whether an (extended) result code may pass by itself: full, I/O error, read-only, busy,
// locked, cannot open (but not: the path is a folder), out of memory.
bool transient_sqlite_error(int code);

class Database {
 public:
  // Opens (creating) `path`; throws StoreError when SQLite cannot (transient() as the cause).
  Database(const std::filesystem::path& path, bool read_only);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* get() const { return m_db; }

  // Runs one or more statements without results.
  core::Status exec(std::string_view sql);
  // exec() for start-up: throws StoreError with `what` in the message.
  void exec_or_throw(std::string_view sql, std::string_view what);
  // Whether the last failed call on this connection failed for a reason that may pass.
  [[nodiscard]] bool failed_transiently() const;
  // The integer of a one-value query such as "PRAGMA user_version".
  core::Result<std::int64_t> query_int(std::string_view sql);

 private:
  sqlite3* m_db = nullptr;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);  // throws StoreError: our SQL is fixed text
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based like SQLite's.
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view text);
  void bind_blob(int index, std::span<const std::uint8_t> bytes);
  void bind(int index, double value);

  // SQLITE_ROW -> true, SQLITE_DONE -> false (and resets), anything else -> error (and resets).
  core::Result<bool> step();
  // step() for statements without rows.
  core::Status run();
  void reset();

  bool column_is_null(int column) const;
  std::int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string_view column_text(int column) const;
  std::span<const std::uint8_t> column_blob(int column) const;

 private:
  sqlite3_stmt* m_stmt = nullptr;
  std::string m_sql;  // for error messages
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Database& db) : m_db(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  core::Status begin();
  core::Status commit();

 private:
  Database& m_db;
  bool m_open = false;
};

}  // namespace tracermon::store
