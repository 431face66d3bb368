#include "store/history_reader.hpp"

#include <fmt/format.h>

#include "store/row_key.hpp"

namespace tracermon::store {

HistoryReader::HistoryReader(const std::filesystem::path& path) : m_db(path, false) {
  m_db.exec_or_throw("PRAGMA query_only = 1", fmt::format("history database {}", path.string()));
  m_source_id = Statement(m_db.get(), "SELECT id FROM sources WHERE name = ?1");
  m_field_id = Statement(m_db.get(), "SELECT id FROM fields WHERE name = ?1");
  for (int i = 0; i < 4; ++i) {
    auto table = level_table(static_cast<Level>(i));
    m_earliest[i] = Statement(m_db.get(), fmt::format("SELECT min(id) FROM {}", table));
    m_range[i] =
        Statement(m_db.get(), fmt::format("SELECT id, data FROM {} WHERE id >= ?1 AND id < ?2 "
                                          "AND (id & {}) = ?3 ORDER BY id",
                                          table, k_source_slots - 1));
  }
}

std::optional<std::int64_t> HistoryReader::source_id(std::string_view name) {
  m_source_id.bind(1, name);
  auto row = m_source_id.step();
  if (!row || !row.value()) return std::nullopt;
  auto id = m_source_id.column_int(0);
  m_source_id.reset();
  return id;
}

std::optional<std::uint32_t> HistoryReader::field_id(std::string_view name) {
  m_field_id.bind(1, name);
  auto row = m_field_id.step();
  if (!row || !row.value()) return std::nullopt;
  auto id = static_cast<std::uint32_t>(m_field_id.column_int(0));
  m_field_id.reset();
  return id;
}

std::optional<std::int64_t> HistoryReader::earliest(Level level) {
  auto& statement = m_earliest[static_cast<int>(level)];
  auto row = statement.step();
  if (!row || !row.value()) return std::nullopt;
  std::optional<std::int64_t> t;
  if (!statement.column_is_null(0)) t = key_time(statement.column_int(0));
  statement.reset();
  return t;
}

std::vector<std::string> HistoryReader::sources() {
  std::vector<std::string> names;
  Statement select(m_db.get(), "SELECT name FROM sources ORDER BY name");
  for (auto row = select.step(); row && row.value(); row = select.step()) {
    names.emplace_back(select.column_text(0));
  }
  return names;
}

std::vector<std::string> HistoryReader::fields(std::string_view source) {
  std::vector<std::string> names;
  Statement select(m_db.get(),
                   "SELECT f.name FROM source_fields sf JOIN sources s ON s.id = sf.source "
                   "JOIN fields f ON f.id = sf.field WHERE s.name = ?1 ORDER BY f.id");
  select.bind(1, source);
  for (auto row = select.step(); row && row.value(); row = select.step()) {
    names.emplace_back(select.column_text(0));
  }
  return names;
}

std::vector<EnergyRow> HistoryReader::energy(std::string_view source, std::string_view kind,
                                             std::string_view from_period,
                                             std::string_view to_period) {
  std::int64_t length = kind == "day" ? 10 : kind == "month" ? 7 : kind == "year" ? 4 : 0;
  std::vector<EnergyRow> rows;
  if (length == 0) return rows;
  Statement select(m_db.get(),
                   "SELECT source, period, generated_kwh, consumed_kwh FROM energy "
                   "WHERE length(period) = ?1 AND (?2 = '' OR source = ?2) "
                   "AND (?3 = '' OR period >= ?3) AND (?4 = '' OR period <= ?4) "
                   "ORDER BY source, period");
  select.bind(1, length);
  select.bind(2, source);
  select.bind(3, from_period);
  select.bind(4, to_period);
  for (auto row = select.step(); row && row.value(); row = select.step()) {
    rows.push_back({std::string(select.column_text(0)), std::string(select.column_text(1)),
                    select.column_double(2), select.column_double(3)});
  }
  return rows;
}

std::optional<std::string> HistoryReader::get_state(std::string_view key) {
  Statement select(m_db.get(), "SELECT value FROM state WHERE key = ?1");
  select.bind(1, key);
  auto row = select.step();
  if (!row || !row.value()) return std::nullopt;
  std::string value(select.column_text(0));
  select.reset();
  return value;
}

}  // namespace tracermon::store
