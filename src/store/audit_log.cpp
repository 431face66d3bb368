#include "store/audit_log.hpp"

namespace tracermon::store {

namespace {

constexpr std::string_view k_schema = R"sql(
CREATE TABLE IF NOT EXISTS control_audit (
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  device TEXT NOT NULL,
  action TEXT NOT NULL,
  setting TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL,
  result TEXT NOT NULL,
  message TEXT NOT NULL
);
)sql";

}  // namespace

AuditLog::AuditLog(const std::filesystem::path& path) : m_db(path, false) {
  m_db.exec_or_throw("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
                     "setting up the audit database");
  m_db.exec_or_throw(k_schema, "creating the audit table");
  m_insert = Statement(m_db.get(),
                       "INSERT INTO control_audit (time_ms, source, device, action, setting, "
                       "old_value, new_value, result, message) VALUES (?,?,?,?,?,?,?,?,?)");
  m_select = Statement(m_db.get(),
                       "SELECT time_ms, source, device, action, setting, old_value, new_value, "
                       "result, message FROM control_audit ORDER BY id DESC LIMIT ?");
}

core::Status AuditLog::append(const model::AuditRecord& r) {
  std::lock_guard lock(m_mutex);
  m_insert.bind(1, core::epoch_ms(r.time));
  m_insert.bind(2, std::string_view(r.source));
  m_insert.bind(3, std::string_view(r.device));
  m_insert.bind(4, std::string_view(r.action));
  m_insert.bind(5, std::string_view(r.setting));
  m_insert.bind(6, std::string_view(r.old_value));
  m_insert.bind(7, std::string_view(r.new_value));
  m_insert.bind(8, std::string_view(r.result));
  m_insert.bind(9, std::string_view(r.message));
  return m_insert.run();
}

core::Result<std::vector<model::AuditRecord>> AuditLog::recent(std::size_t limit) const {
  std::lock_guard lock(m_mutex);
  m_select.bind(1, static_cast<std::int64_t>(limit));
  std::vector<model::AuditRecord> out;
  for (;;) {
    auto row = m_select.step();
    if (!row) return row.error();
    if (!row.value()) break;
    model::AuditRecord r;
    r.time = core::from_epoch_ms(m_select.column_int(0));
    r.source = m_select.column_text(1);
    r.device = m_select.column_text(2);
    r.action = m_select.column_text(3);
    r.setting = m_select.column_text(4);
    r.old_value = m_select.column_text(5);
    r.new_value = m_select.column_text(6);
    r.result = m_select.column_text(7);
    r.message = m_select.column_text(8);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tracermon::store
