#include "store/rollup.hpp"

#include <fmt/format.h>

#include "store/row_key.hpp"

namespace tracermon::store {

std::int64_t bucket_ms(Level level) {
  switch (level) {
    case Level::Raw:
      return 0;
    case Level::Minute:
      return k_minute_ms;
    case Level::Hour:
      return k_hour_ms;
    case Level::Day:
      return k_day_ms;
  }
  return 0;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Raw:
      return "raw";
    case Level::Minute:
      return "minute";
    case Level::Hour:
      return "hour";
    case Level::Day:
      return "day";
  }
  return "?";
}

std::string_view level_table(Level level) {
  switch (level) {
    case Level::Raw:
      return "samples";
    case Level::Minute:
      return "rollup_minute";
    case Level::Hour:
      return "rollup_hour";
    case Level::Day:
      return "rollup_day";
  }
  return "?";
}

RollupWriter::RollupWriter(Database& db) {
  for (int i = 0; i < 3; ++i) {
    auto finer = level_table(static_cast<Level>(i));
    auto table = level_table(static_cast<Level>(i + 1));
    m_select[i] = Statement(
        db.get(), fmt::format("SELECT data FROM {} WHERE id >= ?1 AND id < ?2 AND (id & {}) = ?3 "
                              "ORDER BY id",
                              finer, k_source_slots - 1));
    m_upsert[i] = Statement(
        db.get(), fmt::format("INSERT OR REPLACE INTO {}(id, data) VALUES(?1, ?2)", table));
    m_delete[i] = Statement(db.get(), fmt::format("DELETE FROM {} WHERE id = ?1", table));
  }
}

core::Status RollupWriter::recompute(Level level, std::int64_t source, std::int64_t start) {
  auto index = static_cast<int>(level) - 1;
  if (index < 0 || index > 2) {
    return core::Error{core::ErrorKind::InvalidArgument, "raw samples are not a rollup"};
  }
  for (auto& f : m_by_field) {
    f = FieldAggregate{};
  }
  auto& select = m_select[index];
  select.bind(1, row_key(start, 0));
  select.bind(2, row_key(start + bucket_ms(level), 0));
  select.bind(3, source);
  for (;;) {
    auto row = select.step();
    if (!row) return row.error();
    if (!row.value()) break;
    auto blob = select.column_blob(0);
    if (level == Level::Minute) {
      if (!decode_sample(blob, m_values)) continue;
      for (const auto& v : m_values) {
        if (v.field >= m_by_field.size()) m_by_field.resize(v.field + 1);
        m_by_field[v.field].add(v.centi);
      }
    } else {
      if (!decode_rollup(blob, m_aggregates)) continue;
      for (const auto& a : m_aggregates) {
        if (a.field >= m_by_field.size()) m_by_field.resize(a.field + 1);
        m_by_field[a.field].merge(a);
      }
    }
  }
  m_aggregates.clear();
  for (std::size_t field = 0; field < m_by_field.size(); ++field) {
    auto& f = m_by_field[field];
    if (f.count == 0) continue;
    f.field = static_cast<std::uint32_t>(field);
    m_aggregates.push_back(f);
    f = FieldAggregate{};
  }
  if (m_aggregates.empty()) {
    m_delete[index].bind(1, row_key(start, source));
    return m_delete[index].run();
  }
  encode_rollup(m_aggregates, m_blob);
  auto& upsert = m_upsert[index];
  upsert.bind(1, row_key(start, source));
  upsert.bind_blob(2, m_blob);
  return upsert.run();
}

}  // namespace tracermon::store
