// Figures of the history store (src/store) for 3 controllers x 45 fields:
//  1. ingest: 2 simulated days at a 5 s interval, committed every 30 s of data as the daemon
//     does (each commit is one fsync'd transaction), in values/s; then the bytes on disk per
//     stored value (file size after close, and the raw-sample table alone);
//  2. SD-card wear: bytes the process writes to the disk (/proc/self/io write_bytes, which
//     counts pages as they are dirtied; every commit fsyncs, so each rewrite counts) for one
//     simulated day at a 10 s interval with a commit every 30 s, against the data itself;
//  3. a one-year chart of one field (500 points, served from hour rollups) and shorter ones.
//     The year is ingested at a 10 min interval in daily commits: it produces the same number
//     of hour and day rollup rows, with the same fields, as a year at 5 s would (only the
//     counts in them are smaller), in seconds instead of the hours a year of 5 s samples takes.
// Run: build/bench/store_bench [directory on the disk to measure, default /var/tmp]

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sqlite3.h>
#include <stdlib.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "store/snapshot_store.hpp"

using namespace tracermon;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t k_start = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr std::int64_t k_day = 86'400'000;
constexpr int k_devices = 3;
constexpr int k_fields = 45;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Names like the register map's, so the fields table is realistic.
const std::vector<std::string>& field_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int i = 0; i < k_fields; ++i) {
      out.push_back("field_" + std::to_string(i) + "_name");
    }
    return out;
  }();
  return names;
}

double round2(double v) {
  return std::round(v * 100) / 100;
}

// Smooth synthetic values of one controller: 12 measured values following the sun with a
// little noise (voltages, currents, powers), 4 temperatures, 10 energy counters that grow,
// 19 settings and status words that hardly ever change.
store::Record snapshot(int device, std::int64_t t, std::uint64_t& noise) {
  auto jitter = [&noise](double scale) {
    noise = noise * 6364136223846793005ULL + 1442695040888963407ULL;
    return scale * (static_cast<double>(noise >> 40) / static_cast<double>(1ULL << 24) - 0.5);
  };
  double hours = static_cast<double>(t - k_start) / 3.6e6;
  double sun = std::max(0.0, std::sin((std::fmod(hours, 24.0) - 6) / 12 * M_PI));
  store::Record record{"bus1-" + std::to_string(device + 1), t, {}};
  record.values.reserve(k_fields);
  const auto& names = field_names();
  for (int i = 0; i < k_fields; ++i) {
    double value = 0;
    if (i < 12) {
      double base = i % 3 == 0 ? 12.8 : 0;
      double amplitude = i % 3 == 0 ? 1.6 : i % 3 == 1 ? 15.0 : 380.0;
      value = sun > 0 ? base + amplitude * sun + jitter(amplitude * 0.01) : base;
    } else if (i < 16) {
      value = 22 + 6 * std::sin(hours / 24 * 2 * M_PI) + jitter(0.1);
    } else if (i < 26) {
      value = 1000.0 * (i - 15) + hours * 0.2 * (i - 15) + device;
    } else {
      value = i % 4 == 0 ? 14.4 : i % 4 == 1 ? 0 : i % 4 == 2 ? 100 : 24;
    }
    record.values.push_back({names[static_cast<std::size_t>(i)], round2(value)});
  }
  return record;
}

std::uint64_t write_bytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}

std::uint64_t bytes_of_file(const std::filesystem::path& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Pages of one table (dbstat), or 0 when SQLite lacks it.
std::uint64_t table_bytes(const std::filesystem::path& path, const char* table) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::string sql = std::string("SELECT sum(pgsize) FROM dbstat WHERE name = '") + table + "'";
  sqlite3_stmt* statement = nullptr;
  std::uint64_t bytes = 0;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    bytes = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return bytes;
}

store::StoreOptions options_at(const std::filesystem::path& path) {
  store::StoreOptions options;
  options.path = path;
  return options;
}

// Adds `days` of snapshots of every device every `interval_ms`, committing every `commit_ms`
// of data time. Returns the number of values added.
std::uint64_t ingest(store::SnapshotStore& store, std::int64_t from, double days,
                     std::int64_t interval_ms, std::int64_t commit_ms) {
  std::uint64_t noise = 42;
  std::uint64_t values = 0;
  std::int64_t next_commit = from + commit_ms;
  auto to = from + static_cast<std::int64_t>(days * k_day);
  for (auto t = from; t < to; t += interval_ms) {
    if (t >= next_commit) {
      if (auto status = store.commit(); !status) {
        std::fprintf(stderr, "commit failed: %s\n", status.error().describe().c_str());
        std::exit(1);
      }
      next_commit += commit_ms;
    }
    for (int device = 0; device < k_devices; ++device) {
      store.add(snapshot(device, t, noise));
      values += k_fields;
    }
  }
  (void)store.commit();
  return values;
}

void ingest_and_size(const std::filesystem::path& dir) {
  auto path = dir / "two-days.db";
  std::uint64_t values = 0;
  double elapsed = 0;
  {
    store::SnapshotStore store(options_at(path));
    auto start = Clock::now();
    values = ingest(store, k_start, 2, 5000, 30'000);
    elapsed = seconds_since(start);
  }
  auto size = bytes_of_file(path);
  std::printf("ingest, 2 days at 5 s, 3 x 45 fields, a commit per 30 s of data (5760 commits):\n");
  std::printf("  %.0f values/s (%.2f s for %llu values, %.2f ms per commit)\n",
              static_cast<double>(values) / elapsed, elapsed,
              static_cast<unsigned long long>(values), elapsed * 1000 / 5760);
  std::printf("  file %.2f MB: %.2f bytes per stored value, rollups included\n",
              static_cast<double>(size) / 1e6,
              static_cast<double>(size) / static_cast<double>(values));
  auto raw = table_bytes(path, "samples");
  if (raw > 0) {
    std::printf(
        "  raw samples table %.2f MB: %.2f bytes per value; rollups: minute %.2f MB, "
        "hour %.2f MB, day %.3f MB\n",
        static_cast<double>(raw) / 1e6, static_cast<double>(raw) / static_cast<double>(values),
        static_cast<double>(table_bytes(path, "rollup_minute")) / 1e6,
        static_cast<double>(table_bytes(path, "rollup_hour")) / 1e6,
        static_cast<double>(table_bytes(path, "rollup_day")) / 1e6);
  }
}

void disk_writes(const std::filesystem::path& dir) {
  auto path = dir / "one-day.db";
  std::uint64_t values = 0;
  std::uint64_t before = write_bytes();
  {
    store::SnapshotStore store(options_at(path));
    values = ingest(store, k_start, 1, 10'000, 30'000);
  }
  std::uint64_t written = write_bytes() - before;
  auto growth = bytes_of_file(path);
  double as_doubles = static_cast<double>(values) * 8;
  std::printf("disk writes, 1 day at 10 s, a commit every 30 s (2880 commits):\n");
  std::printf("  %.1f MB written per day (%.1f kB per commit) for %llu values\n",
              static_cast<double>(written) / 1e6, static_cast<double>(written) / 2880 / 1e3,
              static_cast<unsigned long long>(values));
  std::printf(
      "  = %.1f x the values as 8-byte doubles (%.1f MB), %.1f x the stored data "
      "(file growth %.2f MB)\n",
      static_cast<double>(written) / as_doubles, as_doubles / 1e6,
      static_cast<double>(written) / static_cast<double>(growth),
      static_cast<double>(growth) / 1e6);
}

void queries(const std::filesystem::path& dir) {
  auto path = dir / "one-year.db";
  store::SnapshotStore store(options_at(path));
  auto start = Clock::now();
  auto values = ingest(store, k_start, 365, 600'000, k_day);
  std::printf("one year at 10 min in daily commits: %.1f s for %llu values\n", seconds_since(start),
              static_cast<unsigned long long>(values));
  auto time_query = [&](const char* what, std::int64_t range_ms) {
    store::HistoryQuery query{
        "bus1-2", {"field_5_name"}, k_start + 365 * k_day - range_ms, k_start + 365 * k_day, 500};
    auto first = Clock::now();
    auto result = store.history(query);
    double cold = seconds_since(first) * 1000;
    constexpr int k_runs = 10;
    auto repeated = Clock::now();
    for (int i = 0; i < k_runs; ++i) {
      result = store.history(query);
    }
    double warm = seconds_since(repeated) * 1000 / k_runs;
    if (!result) {
      std::printf("  %s: %s\n", what, result.error().describe().c_str());
      return;
    }
    std::size_t filled = 0;
    for (const auto& v : result.value().columns[0]) {
      filled += v.has_value() ? 1 : 0;
    }
    const auto& resolution = result.value().resolution;
    std::printf("  %-8s %3zu points from %s %-7s of %6.0f s: first %.2f ms, then %.2f ms\n", what,
                filled, resolution.c_str(), resolution == "raw" ? "samples" : "rollups",
                static_cast<double>(result.value().bucket_ms) / 1000, cold, warm);
  };
  std::printf("history of one field, 500 points:\n");
  time_query("1 year", 365 * k_day);
  time_query("30 days", 30 * k_day);
  time_query("1 week", 7 * k_day);
  time_query("6 hours", 6 * 3'600'000);
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path base = argc > 1 ? argv[1] : "/var/tmp";
  std::string pattern = (base / "store-bench-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::filesystem::path dir = pattern;
  std::printf("store benchmark in %s (SQLite %s)\n", dir.c_str(), sqlite3_libversion());
  ingest_and_size(dir);
  disk_writes(dir);
  queries(dir);
  std::filesystem::remove_all(dir);
  return 0;
}
