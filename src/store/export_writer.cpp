// HistoryReader::export_range: raw samples as CSV or JSON lines.

#include <chrono>
#include <unordered_map>

#include <fmt/format.h>

#include "store/history_reader.hpp"
#include "store/row_key.hpp"

namespace tracermon::store {
namespace {

// "2026-11-25T10:00:05.000Z"
std::string iso_time(std::int64_t time_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> time{milliseconds{time_ms}};
  auto day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss clock{time - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                     clock.subseconds().count());
}

// The stored value exactly: 12, 12.5, -0.03, 123456.78.
std::string decimal(std::int64_t centi) {
  std::uint64_t magnitude =
      centi < 0 ? 0 - static_cast<std::uint64_t>(centi) : static_cast<std::uint64_t>(centi);
  std::string text = fmt::format("{}{}", centi < 0 ? "-" : "", magnitude / 100);
  auto fraction = magnitude % 100;
  if (fraction % 10 != 0) {
    text += fmt::format(".{:02}", fraction);
  } else if (fraction != 0) {
    text += fmt::format(".{}", fraction / 10);
  }
  return text;
}

// RFC 4180 quoting where needed.
std::string csv_cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

std::string json_string(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      quoted += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      quoted += c;
    }
  }
  return quoted + '"';
}

}  // namespace

core::Status HistoryReader::export_range(std::string_view source, std::int64_t from_ms,
                                         std::int64_t to_ms, ExportFormat format,
                                         std::ostream& out) {
  // Beyond this the row keys overflow and the range would silently select nothing.
  if (from_ms < -k_max_abs_time_ms || to_ms > k_max_abs_time_ms) {
    return core::Error{
        core::ErrorKind::InvalidArgument,
        fmt::format("export: range [{}, {}) beyond +-{} ms", from_ms, to_ms, k_max_abs_time_ms)};
  }
  std::unordered_map<std::int64_t, std::string> source_names;
  std::unordered_map<std::int64_t, std::string> field_names;
  for (auto [table, names] : {std::pair{"sources", &source_names}, {"fields", &field_names}}) {
    Statement select(m_db.get(), fmt::format("SELECT id, name FROM {}", table));
    for (;;) {
      auto row = select.step();
      if (!row) return row.error();
      if (!row.value()) break;
      names->emplace(select.column_int(0), select.column_text(1));
    }
  }
  std::optional<std::int64_t> only;
  if (!source.empty()) {
    only = source_id(source);
    if (!only) {
      return core::Error{core::ErrorKind::InvalidArgument,
                         fmt::format("export: no source '{}' in the history", source)};
    }
  }

  Statement select(m_db.get(),
                   fmt::format("SELECT id, data FROM samples WHERE id >= ?1 AND id < ?2 "
                               "AND (?3 IS NULL OR (id & {}) = ?3) ORDER BY id",
                               k_source_slots - 1));
  select.bind(1, row_key(from_ms, 0));
  select.bind(2, row_key(to_ms, 0));
  if (only) select.bind(3, *only);
  if (format == ExportFormat::Csv) out << "time,source,field,value\n";
  std::vector<FieldValue> values;
  for (;;) {
    auto row = select.step();
    if (!row) return row.error();
    if (!row.value()) break;
    if (!decode_sample(select.column_blob(1), values)) continue;
    auto time_ms = key_time(select.column_int(0));
    auto time = iso_time(time_ms);
    const auto& name = source_names[key_source(select.column_int(0))];
    if (format == ExportFormat::Csv) {
      auto prefix = fmt::format("{},{},", time, csv_cell(name));
      for (const auto& v : values) {
        out << prefix << csv_cell(field_names[v.field]) << ',' << decimal(v.centi) << '\n';
      }
    } else {
      out << fmt::format(R"({{"time":"{}","time_ms":{},"source":{},"values":{{)", time, time_ms,
                         json_string(name));
      const char* separator = "";
      for (const auto& v : values) {
        out << separator << json_string(field_names[v.field]) << ':' << decimal(v.centi);
        separator = ",";
      }
      out << "}}\n";
    }
  }
  if (!out) {
    return core::Error{core::ErrorKind::Io, "export: writing the output failed"};
  }
  return core::Ok{};
}

}  // namespace tracermon::store
