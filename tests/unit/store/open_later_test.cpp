// A store that cannot be opened at start (full disk): Open::OrLater starts it closed and
// buffering, commits open it once there is room, and mistakes that retrying cannot mend still
// stop the start.

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "store/snapshot_store.hpp"
#include "store/store_error.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;
using namespace std::chrono_literals;

// Less than one page: SQLite cannot write the first page of a new file.
constexpr rlim_t k_full = 1024;

StoreOptions retry_at_once(const TempDir& dir) {
  auto options = options_for(dir);
  options.reopen_first = 0ms;
  options.reopen_max = 0ms;
  return options;
}

void add_minutes(SnapshotStore& store, int from, int count) {
  for (int i = from; i < from + count; ++i) {
    store.add(record("east", k_day0 + i * k_minute, {{"battery_voltage", 25.0 + i * 0.01}}));
  }
}

std::string open_error(const StoreOptions& options, SnapshotStore::Open when, bool& transient) {
  try {
    SnapshotStore store(options, when);
  } catch (const StoreError& error) {
    transient = error.transient();
    return error.what();
  }
  return "";
}

TEST(OpenLater, AFullDiskAtStartIsATransientStartUpError) {
  TempDir dir;
  FileSizeLimit full(k_full);
  bool transient = false;
  auto error = open_error(options_for(dir), SnapshotStore::Open::Now, transient);
  EXPECT_NE(error.find(dir.db().string()), std::string::npos) << error;
  EXPECT_NE(error.find("disk I/O error"), std::string::npos) << error;
  EXPECT_TRUE(transient) << error;
}

TEST(OpenLater, AFullDiskAtStartLeavesTheStoreClosedAndBufferingUntilThereIsRoom) {
  TempDir dir;
  FileSizeLimit full(k_full);
  SnapshotStore store(retry_at_once(dir), SnapshotStore::Open::OrLater);
  EXPECT_FALSE(store.is_open());
  EXPECT_NE(store.last_error().find("disk I/O error"), std::string::npos) << store.last_error();

  add_minutes(store, 0, 10);
  auto failed = store.commit();  // tries to open again: still full
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, core::ErrorKind::Io);
  EXPECT_NE(failed.error().message.find("disk I/O error"), std::string::npos);
  EXPECT_FALSE(store.is_open());
  EXPECT_EQ(store.buffered(), 10U);
  EXPECT_EQ(store.dropped(), 0U);

  // Reads find nothing, writes say why.
  EXPECT_TRUE(store.sources().empty());
  EXPECT_TRUE(store.energy("", "day").empty());
  EXPECT_EQ(store.get_state("ledger:east"), std::nullopt);
  auto history = store.history({"east", {"battery_voltage"}, k_day0, k_day0 + k_hour, 60});
  ASSERT_FALSE(history.ok());
  EXPECT_NE(history.error().message.find("not open"), std::string::npos);
  auto put = store.put_state("ledger:east", "{}");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().message.find("disk I/O error"), std::string::npos);
  EXPECT_TRUE(store.maintain(k_day0 + 40 * k_day).ok());

  full.lift();
  add_minutes(store, 10, 5);
  ASSERT_TRUE(store.commit().ok()) << store.last_error();
  EXPECT_TRUE(store.is_open());
  EXPECT_EQ(store.buffered(), 0U);
  EXPECT_EQ(store.last_error(), "");
  EXPECT_EQ(store.sources(), std::vector<std::string>{"east"});
  auto csv = export_text(store, "east", k_day0, k_day0 + k_day);
  EXPECT_NE(csv.find("2026-11-25T00:00:00.000Z,east,battery_voltage,25\n"), std::string::npos);
  EXPECT_NE(csv.find("2026-11-25T00:14:00.000Z,east,battery_voltage,25.14\n"), std::string::npos);
  ASSERT_TRUE(store.put_state("ledger:east", "{}").ok());
  EXPECT_EQ(store.get_state("ledger:east"), "{}");
}

TEST(OpenLater, AnExistingDatabaseOnAFullDiskOpensLaterWithItsHistory) {
  TempDir dir;
  {
    SnapshotStore store(options_for(dir));
    add_minutes(store, 0, 3);
    ASSERT_TRUE(store.commit().ok());
    ASSERT_TRUE(store.put_state("ledger:east", "saved").ok());
  }
  FileSizeLimit full(k_full);
  SnapshotStore store(retry_at_once(dir), SnapshotStore::Open::OrLater);
  EXPECT_FALSE(store.is_open()) << "opened a database whose WAL index cannot be written";
  EXPECT_EQ(store.get_state("ledger:east"), std::nullopt);
  add_minutes(store, 3, 2);
  EXPECT_FALSE(store.commit().ok());
  full.lift();
  ASSERT_TRUE(store.commit().ok()) << store.last_error();
  EXPECT_EQ(store.get_state("ledger:east"), "saved");
  auto csv = export_text(store, "east", k_day0, k_day0 + k_day);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 5);
}

TEST(OpenLater, WhileClosedTheBufferIsBoundedAsWhenCommitsFail) {
  TempDir dir;
  FileSizeLimit full(k_full);
  auto options = retry_at_once(dir);
  options.max_buffered_records = 10;
  SnapshotStore store(options, SnapshotStore::Open::OrLater);
  add_minutes(store, 0, 15);
  EXPECT_FALSE(store.commit().ok());
  EXPECT_EQ(store.buffered(), 10U);
  EXPECT_EQ(store.dropped(), 5U);
  full.lift();
  ASSERT_TRUE(store.commit().ok()) << store.last_error();
  auto csv = export_text(store, "east", k_day0, k_day0 + k_day);
  EXPECT_EQ(csv.find("T00:04:00"), std::string::npos) << "the oldest were dropped";
  EXPECT_NE(csv.find("T00:05:00"), std::string::npos);
}

TEST(OpenLater, CommitsWaitForTheBackOffAndShutdownTriesOnceMore) {
  TempDir dir;
  FileSizeLimit full(k_full);
  auto options = options_for(dir);
  options.reopen_first = 1h;  // longer than the test: no commit may try
  {
    SnapshotStore store(options, SnapshotStore::Open::OrLater);
    add_minutes(store, 0, 4);
    full.lift();
    EXPECT_FALSE(store.commit().ok());
    EXPECT_FALSE(store.is_open());
    EXPECT_EQ(store.buffered(), 4U);
  }  // the destructor opens it regardless and files the buffer
  SnapshotStore reopened(options);
  auto csv = export_text(reopened, "east", k_day0, k_day0 + k_day);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 4);
}

TEST(OpenLater, MistakesThatRetryingCannotMendStillStopTheStart) {
  TempDir dir;
  bool transient = true;
  auto options = options_for(dir);

  std::filesystem::create_directories(dir.path() / "a-directory");
  options.path = dir.path() / "a-directory";
  auto error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
  EXPECT_FALSE(transient);

  std::ofstream(dir.path() / "a-file") << "x";
  options.path = dir.path() / "a-file" / "history.db";
  transient = true;
  error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_NE(error.find("a-file"), std::string::npos) << error;
  EXPECT_FALSE(transient);

  options = options_for(dir);
  { SnapshotStore store(options); }
  RawDb(options.path).exec("PRAGMA user_version = 999");
  transient = true;
  error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_FALSE(transient);

  options.path = dir.path() / "other.db";
  RawDb(options.path).exec("PRAGMA application_id = 42; CREATE TABLE t(x)");
  transient = true;
  error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_NE(error.find("not a tracermon history database"), std::string::npos) << error;
  EXPECT_FALSE(transient);

  options.path = dir.path() / "garbage.db";
  std::ofstream(options.path) << std::string(8192, 'g');
  transient = true;
  error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(transient) << error;

  options = options_for(dir);
  options.raw_days = -1;
  transient = true;
  error = open_error(options, SnapshotStore::Open::OrLater, transient);
  EXPECT_NE(error.find("raw_days"), std::string::npos) << error;
  EXPECT_FALSE(transient);
}

}  // namespace
}  // namespace tracermon::store
