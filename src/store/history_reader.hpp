#pragma once
// The read side of the store: its own connection (WAL lets it read while the writer writes),
// which sees the last committed data. Not thread-safe: SnapshotStore serialises the calls.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "store/rollup.hpp"
#include "store/snapshot_store.hpp"
#include "store/sqlite_handle.hpp"

namespace tracermon::store {

class HistoryReader {
 public:
  // The file must exist and be migrated (HistoryWriter first). Throws StoreError.
  explicit HistoryReader(const std::filesystem::path& path);

  core::Result<History> history(const HistoryQuery& query);  // history_query.cpp
  core::Status export_range(std::string_view source, std::int64_t from_ms, std::int64_t to_ms,
                            ExportFormat format, std::ostream& out);  // export_writer.cpp

  std::vector<std::string> sources();
  std::vector<std::string> fields(std::string_view source);
  std::vector<EnergyRow> energy(std::string_view source, std::string_view kind,
                                std::string_view from_period, std::string_view to_period);
  std::optional<std::string> get_state(std::string_view key);

 private:
  std::optional<std::int64_t> source_id(std::string_view name);
  std::optional<std::uint32_t> field_id(std::string_view name);
  std::optional<std::int64_t> earliest(Level level);
  Level choose_level(std::int64_t from_ms, std::int64_t to_ms, int points);

  Database m_db;
  Statement m_source_id;
  Statement m_field_id;
  Statement m_earliest[4];
  Statement m_range[4];  // rows of one source in [from, to), per level
};

}  // namespace tracermon::store
