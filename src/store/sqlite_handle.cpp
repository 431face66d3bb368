#include "store/sqlite_handle.hpp"

#include <utility>

#include <fmt/format.h>

#include "store/store_error.hpp"

namespace tracermon::store {

core::Error sqlite_error(sqlite3* db, int code, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return core::Error{core::ErrorKind::Io, fmt::format("history database: {}: {} ({})", what, detail,
                                                      sqlite3_errstr(code & 0xff))};
}

bool transient_sqlite_error(int code) {
  if (code == SQLITE_CANTOPEN_ISDIR) return false;
  switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

Database::Database(const std::filesystem::path& path, bool read_only) {
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // NOMUTEX: each connection is guarded by the store's own mutex.
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &m_db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    int code = m_db != nullptr ? sqlite3_extended_errcode(m_db) : rc;
    sqlite3_close(m_db);
    m_db = nullptr;
    throw StoreError(fmt::format("cannot open history database {}: {}", path.string(), message),
                     transient_sqlite_error(code));
  }
  sqlite3_extended_result_codes(m_db, 1);
  // A reader and the writer never wait long for each other in WAL mode; the busy timeout only
  // covers checkpoints and a second process (e.g. `tracermon export` while the daemon runs).
  sqlite3_busy_timeout(m_db, 5000);
}

Database::~Database() {
  sqlite3_close_v2(m_db);
}

core::Status Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(m_db, rc, text.substr(0, 60));
  return core::Ok{};
}

void Database::exec_or_throw(std::string_view sql, std::string_view what) {
  auto status = exec(sql);
  if (!status) {
    throw StoreError(fmt::format("{}: {}", what, status.error().message), failed_transiently());
  }
}

bool Database::failed_transiently() const {
  return transient_sqlite_error(sqlite3_extended_errcode(m_db));
}

core::Result<std::int64_t> Database::query_int(std::string_view sql) {
  Statement statement(m_db, sql);
  auto row = statement.step();
  if (!row) return row.error();
  std::int64_t value = row.value() ? statement.column_int(0) : 0;
  statement.reset();
  return value;
}

Statement::Statement(sqlite3* db, std::string_view sql) : m_sql(sql) {
  int rc = sqlite3_prepare_v3(db, m_sql.data(), static_cast<int>(m_sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &m_stmt, nullptr);
  if (rc != SQLITE_OK) {
    throw StoreError(
        fmt::format("history database: cannot prepare '{}': {}", m_sql, sqlite3_errmsg(db)),
        transient_sqlite_error(sqlite3_extended_errcode(db)));
  }
}

Statement::~Statement() {
  sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr)), m_sql(std::move(other.m_sql)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(m_stmt);
    m_stmt = std::exchange(other.m_stmt, nullptr);
    m_sql = std::move(other.m_sql);
  }
  return *this;
}

void Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(m_stmt, index, value);
}

void Statement::bind(int index, std::string_view text) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  sqlite3_bind_text(m_stmt, index, text.empty() ? "" : text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
}

void Statement::bind_blob(int index, std::span<const std::uint8_t> bytes) {
  sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int index, double value) {
  sqlite3_bind_double(m_stmt, index, value);
}

core::Result<bool> Statement::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  sqlite3* db = sqlite3_db_handle(m_stmt);
  sqlite3_reset(m_stmt);
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db, rc, m_sql.substr(0, 60));
}

core::Status Statement::run() {
  auto row = step();
  if (!row) return row.error();
  if (row.value()) reset();
  return core::Ok{};
}

void Statement::reset() {
  sqlite3_reset(m_stmt);
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int(int column) const {
  return sqlite3_column_int64(m_stmt, column);
}

double Statement::column_double(int column) const {
  return sqlite3_column_double(m_stmt, column);
}

std::string_view Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(m_stmt, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))};
}

std::span<const std::uint8_t> Statement::column_blob(int column) const {
  const auto* bytes = static_cast<const std::uint8_t*>(sqlite3_column_blob(m_stmt, column));
  if (bytes == nullptr) return {};
  return {bytes, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))};
}

Transaction::~Transaction() {
  // SQLite may have rolled back already (SQLITE_FULL does in some cases).
  if (m_open && sqlite3_get_autocommit(m_db.get()) == 0) {
    sqlite3_exec(m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

core::Status Transaction::begin() {
  auto status = m_db.exec("BEGIN IMMEDIATE");
  if (status) m_open = true;
  return status;
}

core::Status Transaction::commit() {
  auto status = m_db.exec("COMMIT");
  // A failed COMMIT (disk full while writing the WAL) leaves the transaction open: the
  // destructor rolls it back.
  if (status) m_open = false;
  return status;
}

}  // namespace tracermon::store
