// Schema version and forward migrations.

#include "store/schema.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "store/snapshot_store.hpp"
#include "store/store_error.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;

std::string start_up_error(const StoreOptions& options) {
  try {
    SnapshotStore store(options);
  } catch (const StoreError& error) {
    return error.what();
  }
  return "";
}

TEST(Schema, ANewFileGetsTheCurrentSchemaInWalMode) {
  TempDir dir;
  { SnapshotStore store(options_for(dir)); }
  RawDb db(dir.db());
  EXPECT_EQ(db.integer("PRAGMA user_version"), schema_version());
  EXPECT_EQ(db.integer("PRAGMA application_id"), k_application_id);
  EXPECT_EQ(db.text("PRAGMA journal_mode"), "wal");
  for (const char* table : {"sources", "fields", "samples", "rollup_minute", "rollup_hour",
                            "rollup_day", "energy", "state"}) {
    EXPECT_EQ(
        db.integer(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table + "'"),
        1)
        << table;
  }
}

TEST(Schema, AnEmptyFileIsMigratedFromScratch) {
  TempDir dir;
  std::filesystem::create_directories(dir.db().parent_path());
  std::ofstream(dir.db()).close();
  SnapshotStore store(options_for(dir));
  store.add(record("bus1-1", k_day0, {{"a", 1}}));
  EXPECT_TRUE(store.commit().ok());
}

TEST(Schema, ADatabaseOfANewerReleaseIsRefused) {
  TempDir dir;
  { SnapshotStore store(options_for(dir)); }
  {
    RawDb db(dir.db());
    db.exec("PRAGMA user_version = " + std::to_string(schema_version() + 1));
  }
  auto message = start_up_error(options_for(dir));
  EXPECT_NE(message.find("schema version " + std::to_string(schema_version() + 1)),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("newer"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.db().string()), std::string::npos) << message;
}

TEST(Schema, AnotherApplicationsDatabaseIsRefused) {
  TempDir dir;
  std::filesystem::create_directories(dir.db().parent_path());
  {
    RawDb db(dir.db());
    db.exec("PRAGMA application_id = 42; CREATE TABLE samples(x)");
  }
  auto message = start_up_error(options_for(dir));
  EXPECT_NE(message.find("not a tracermon history"), std::string::npos) << message;
}

// The mechanism a later release relies on: steps after the file's version run in order, in
// one transaction; a failing step changes nothing.
TEST(Schema, MigrationsRunForwardInOrderAndAllOrNothing) {
  TempDir dir;
  auto path = dir.path() / "m.db";
  const Migration first[] = {{1, "CREATE TABLE t(a INTEGER); INSERT INTO t VALUES(1);"}};
  const Migration second[] = {first[0],
                              {2, "ALTER TABLE t ADD COLUMN b INTEGER DEFAULT 7;"},
                              {3, "UPDATE t SET b = b * 2;"}};
  const Migration broken[] = {second[0], second[1], second[2], {4, "CREATE TABLE t(a)"}};
  {
    Database db(path, false);
    migrate(db, first, "test db");
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
  }
  {
    Database db(path, false);
    migrate(db, second, "test db");
    migrate(db, second, "test db");  // nothing left to do
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 3);
    EXPECT_EQ(raw.text("SELECT a || ',' || b FROM t"), "1,14");
  }
  {
    Database db(path, false);
    EXPECT_THROW(migrate(db, broken, "test db"), StoreError);
  }
  {
    RawDb raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), 3);
    EXPECT_EQ(raw.text("SELECT a || ',' || b FROM t"), "1,14");
  }
  {
    Database db(path, false);
    try {
      migrate(db, first, "test db");
      FAIL() << "a version-1 program opened a version-3 file";
    } catch (const StoreError& error) {
      EXPECT_NE(std::string(error.what()).find("schema version 3"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace tracermon::store
