#pragma once
// The control audit in SQLite: one row per setting written or refused. Its own database file
// (audit.db beside the history) with its own connection, so a record is on disk when the write
// is reported, whatever the history's batched transactions are doing.

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/result.hpp"
#include "model/audit_record.hpp"
#include "store/sqlite_handle.hpp"

namespace tracermon::store {

class AuditLog {
 public:
  // Opens (creating) the database; throws StoreError when it cannot.
  explicit AuditLog(const std::filesystem::path& path);

  // Thread-safe. Durable when it returns Ok.
  core::Status append(const model::AuditRecord& record);
  // The newest `limit` records, newest first.
  [[nodiscard]] core::Result<std::vector<model::AuditRecord>> recent(std::size_t limit) const;

 private:
  mutable std::mutex m_mutex;
  Database m_db;
  mutable Statement m_insert;
  mutable Statement m_select;
};

}  // namespace tracermon::store
