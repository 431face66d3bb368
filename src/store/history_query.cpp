// HistoryReader::history: buckets for charts, from raw samples or a rollup.

#include <algorithm>

#include <fmt/format.h>

#include "store/history_reader.hpp"
#include "store/row_key.hpp"

namespace tracermon::store {
namespace {

// For a >= 0 and b > 0 (history() checks its inputs first); no a + b - 1 to overflow.
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a / b + (a % b != 0 ? 1 : 0);
}

// Buckets times fields: what one query may allocate (the API asks for at most 10000 x 32).
constexpr std::int64_t k_max_cells = 1'000'000;

}  // namespace

Level HistoryReader::choose_level(std::int64_t from_ms, std::int64_t to_ms, int points) {
  // The finest level whose bucket fits in one point: a year at 500 points (17.5 h a point)
  // reads 8760 hour rows per source instead of 525600 minute rows.
  std::int64_t width = ceil_div(to_ms - from_ms, points);
  Level level = width < k_minute_ms ? Level::Raw
                : width < k_hour_ms ? Level::Minute
                : width < k_day_ms  ? Level::Hour
                                    : Level::Day;
  // Where retention has removed the finer level before from_ms but the coarser one still
  // reaches further back, the coarser one shows more of the range.
  while (level != Level::Day) {
    auto coarser = static_cast<Level>(static_cast<int>(level) + 1);
    auto fine_start = earliest(level);
    auto coarse_start = earliest(coarser);
    if (!coarse_start) break;
    bool fine_misses = !fine_start || (from_ms < *fine_start &&
                                       floor_to(*fine_start, bucket_ms(coarser)) > *coarse_start);
    if (!fine_misses) break;
    level = coarser;
  }
  return level;
}

core::Result<History> HistoryReader::history(const HistoryQuery& query) {
  if (query.to_ms <= query.from_ms || query.points <= 0) {
    return core::Error{core::ErrorKind::InvalidArgument,
                       fmt::format("history of '{}': empty range [{}, {}) or points {} < 1",
                                   query.source, query.from_ms, query.to_ms, query.points)};
  }
  // Inside the keys' range every difference below fits in 64 bits.
  if (query.from_ms < -k_max_abs_time_ms || query.to_ms > k_max_abs_time_ms) {
    return core::Error{core::ErrorKind::InvalidArgument,
                       fmt::format("history of '{}': range [{}, {}) beyond +-{} ms", query.source,
                                   query.from_ms, query.to_ms, k_max_abs_time_ms)};
  }
  auto cells = static_cast<std::int64_t>(query.points) *
               std::max<std::int64_t>(static_cast<std::int64_t>(query.fields.size()), 1);
  if (cells > k_max_cells) {
    return core::Error{core::ErrorKind::InvalidArgument,
                       fmt::format("history of '{}': {} points x {} fields is more than {} values",
                                   query.source, query.points, query.fields.size(), k_max_cells)};
  }
  Level level = choose_level(query.from_ms, query.to_ms, query.points);
  std::int64_t grid = std::max<std::int64_t>(bucket_ms(level), 1);
  std::int64_t start = floor_to(query.from_ms, grid);
  std::int64_t width = ceil_div(ceil_div(query.to_ms - start, query.points), grid) * grid;
  auto count = static_cast<std::size_t>(ceil_div(query.to_ms - start, width));

  History result;
  result.resolution = std::string(level_name(level));
  result.bucket_ms = width;
  result.time_ms.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    result.time_ms.push_back(start + static_cast<std::int64_t>(i) * width);
  }
  result.columns.assign(query.fields.size(), std::vector<std::optional<double>>(count));

  auto source = source_id(query.source);
  if (!source) return result;
  // Column of each wanted field id (a field may be asked for twice).
  std::vector<std::pair<std::uint32_t, std::size_t>> wanted;
  for (std::size_t column = 0; column < query.fields.size(); ++column) {
    if (auto id = field_id(query.fields[column])) wanted.emplace_back(*id, column);
  }
  if (wanted.empty()) return result;
  std::sort(wanted.begin(), wanted.end());

  std::vector<FieldAggregate> buckets(count * query.fields.size());
  auto at = [&](std::size_t bucket, std::size_t column) -> FieldAggregate& {
    return buckets[bucket * query.fields.size() + column];
  };
  std::vector<FieldValue> values;
  std::vector<FieldAggregate> aggregates;
  auto& select = m_range[static_cast<int>(level)];
  select.bind(1, row_key(start, 0));
  select.bind(2, row_key(query.to_ms, 0));
  select.bind(3, *source);
  for (;;) {
    auto row = select.step();
    if (!row) return row.error();
    if (!row.value()) break;
    auto bucket = static_cast<std::size_t>((key_time(select.column_int(0)) - start) / width);
    auto blob = select.column_blob(1);
    // Both lists are sorted by field id: one merge pass per row.
    auto w = wanted.begin();
    if (level == Level::Raw) {
      if (!decode_sample(blob, values)) continue;
      for (const auto& v : values) {
        while (w != wanted.end() && w->first < v.field) {
          ++w;
        }
        for (auto m = w; m != wanted.end() && m->first == v.field; ++m) {
          at(bucket, m->second).add(v.centi);
        }
      }
    } else {
      if (!decode_rollup(blob, aggregates)) continue;
      for (const auto& a : aggregates) {
        while (w != wanted.end() && w->first < a.field) {
          ++w;
        }
        for (auto m = w; m != wanted.end() && m->first == a.field; ++m) {
          at(bucket, m->second).merge(a);
        }
      }
    }
  }

  for (std::size_t bucket = 0; bucket < count; ++bucket) {
    for (std::size_t column = 0; column < query.fields.size(); ++column) {
      const auto& a = at(bucket, column);
      if (a.count == 0) continue;
      double value = 0;
      switch (query.agg) {
        case HistoryQuery::Agg::Mean:
          value = static_cast<double>(a.sum) / static_cast<double>(a.count) / 100.0;
          break;
        case HistoryQuery::Agg::Min:
          value = from_centi(a.min);
          break;
        case HistoryQuery::Agg::Max:
          value = from_centi(a.max);
          break;
        case HistoryQuery::Agg::Last:
          value = from_centi(a.last);
          break;
      }
      result.columns[column][bucket] = value;
    }
  }
  return result;
}

}  // namespace tracermon::store
