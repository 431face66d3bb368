// Values in and out of the store: exactness, replacement, reopening, export, the buffer bound,
// energy and state.

#include "store/snapshot_store.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/store_error.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;

// The value of `field` at `time` as history() from raw samples returns it.
std::optional<double> raw_value(const SnapshotStore& store, const std::string& source,
                                const std::string& field, std::int64_t time) {
  HistoryQuery query{source, {field}, time, time + 1000, 1, HistoryQuery::Agg::Last};
  auto history = store.history(query);
  EXPECT_TRUE(history.ok());
  if (!history.ok()) return std::nullopt;
  EXPECT_EQ(history.value().resolution, "raw");
  return history.value().columns.at(0).at(0);
}

TEST(SnapshotStore, ValuesComeBackExactlyToAHundredth) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  std::vector<RecordValue> values = {{"pv_voltage", 13.45},
                                     {"battery_current", -12.5},
                                     {"generated_energy_total", 123456.78},
                                     {"big_total", 21474836.47},
                                     {"battery_temperature", -0.03},
                                     {"load_power", 0},
                                     {"rounded", 1.234}};
  store.add(record("bus1-1", k_day0, values));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(store.buffered(), 0U);
  EXPECT_EQ(raw_value(store, "bus1-1", "pv_voltage", k_day0), 13.45);
  EXPECT_EQ(raw_value(store, "bus1-1", "battery_current", k_day0), -12.5);
  EXPECT_EQ(raw_value(store, "bus1-1", "generated_energy_total", k_day0), 123456.78);
  EXPECT_EQ(raw_value(store, "bus1-1", "big_total", k_day0), 21474836.47);
  EXPECT_EQ(raw_value(store, "bus1-1", "battery_temperature", k_day0), -0.03);
  EXPECT_EQ(raw_value(store, "bus1-1", "load_power", k_day0), 0.0);
  EXPECT_EQ(raw_value(store, "bus1-1", "rounded", k_day0), 1.23);
}

TEST(SnapshotStore, ASecondRecordAtTheSameTimeReplacesTheFirst) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  store.add(record("bus1-1", k_day0, {{"a", 1}, {"b", 2}}));
  ASSERT_TRUE(store.commit().ok());
  store.add(record("bus1-1", k_day0, {{"a", 5}}));
  store.add(record("bus1-2", k_day0, {{"a", 7}}));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(raw_value(store, "bus1-1", "a", k_day0), 5.0);
  EXPECT_EQ(raw_value(store, "bus1-1", "b", k_day0), std::nullopt);
  EXPECT_EQ(raw_value(store, "bus1-2", "a", k_day0), 7.0);
}

TEST(SnapshotStore, ValuesThatCannotBeStoredAreLeftOut) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  store.add(record("s", k_day0, {{"a", std::nan("")}, {"b", 1e12}, {"c", 3}}));
  store.add(record("s", k_day0 + 1000, {{"a", std::nan("")}}));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(export_text(store, "", k_day0, k_day0 + k_day),
            "time,source,field,value\n2026-11-25T00:00:00.000Z,s,c,3\n");
}

TEST(SnapshotStore, ReopeningKeepsEverything) {
  TempDir dir;
  {
    SnapshotStore store(options_for(dir));
    store.add(record("bus1-1", k_day0, {{"pv_voltage", 20.5}, {"load_power", 3}}));
    store.add(record("site-a", k_day0, {{"battery_soc", 87}}));
    ASSERT_TRUE(store.commit().ok());
    ASSERT_TRUE(store.put_state("ledger", R"({"bus1-1":1.5})").ok());
  }
  SnapshotStore store(options_for(dir));
  EXPECT_EQ(store.sources(), (std::vector<std::string>{"bus1-1", "site-a"}));
  EXPECT_EQ(store.fields("bus1-1"), (std::vector<std::string>{"pv_voltage", "load_power"}));
  EXPECT_EQ(store.fields("site-a"), (std::vector<std::string>{"battery_soc"}));
  EXPECT_EQ(raw_value(store, "bus1-1", "pv_voltage", k_day0), 20.5);
  EXPECT_EQ(store.get_state("ledger"), R"({"bus1-1":1.5})");

  // Known names keep their ids; new ones are added.
  store.add(record("bus1-1", k_day0 + 5000, {{"load_power", 4}, {"pv_power", 9}}));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(store.fields("bus1-1"),
            (std::vector<std::string>{"pv_voltage", "load_power", "pv_power"}));
  EXPECT_EQ(raw_value(store, "bus1-1", "load_power", k_day0 + 5000), 4.0);
}

TEST(SnapshotStore, CommitsAlsoWhatIsBufferedAtShutdown) {
  TempDir dir;
  {
    SnapshotStore store(options_for(dir));
    store.add(record("bus1-1", k_day0, {{"a", 1}}));
    EXPECT_EQ(store.buffered(), 1U);
  }
  SnapshotStore store(options_for(dir));
  EXPECT_EQ(raw_value(store, "bus1-1", "a", k_day0), 1.0);
}

TEST(SnapshotStore, TheBufferDropsTheOldestRecordsBeyondItsBound) {
  TempDir dir;
  auto options = options_for(dir);
  options.max_buffered_records = 3;
  SnapshotStore store(options);
  for (int i = 0; i < 5; ++i) {
    store.add(record("s", k_day0 + i * 1000, {{"n", static_cast<double>(i)}}));
  }
  EXPECT_EQ(store.buffered(), 3U);
  EXPECT_EQ(store.dropped(), 2U);
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(export_text(store, "s", k_day0, k_day0 + k_minute),
            "time,source,field,value\n"
            "2026-11-25T00:00:02.000Z,s,n,2\n"
            "2026-11-25T00:00:03.000Z,s,n,3\n"
            "2026-11-25T00:00:04.000Z,s,n,4\n");
}

TEST(SnapshotStoreExport, CsvHasOneLinePerValueInTimeOrder) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  store.add(record("bus1-2", k_day0 + 5250, {{"pv_voltage", 20}}));
  store.add(record("bus1-1", k_day0 + 5250, {{"pv_voltage", 13.4}, {"battery_current", -1.05}}));
  store.add(record("bus1-1", k_day0, {{"energy_total", 123456.78}}));
  store.add(record("odd,name", k_day0 + 10'000, {{"x", 1}}));
  store.add(record("bus1-1", k_day0 + k_minute, {{"pv_voltage", 1}}));  // outside the range
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(export_text(store, "", k_day0, k_day0 + k_minute),
            "time,source,field,value\n"
            "2026-11-25T00:00:00.000Z,bus1-1,energy_total,123456.78\n"
            "2026-11-25T00:00:05.250Z,bus1-2,pv_voltage,20\n"
            "2026-11-25T00:00:05.250Z,bus1-1,pv_voltage,13.4\n"
            "2026-11-25T00:00:05.250Z,bus1-1,battery_current,-1.05\n"
            "2026-11-25T00:00:10.000Z,\"odd,name\",x,1\n");
  EXPECT_EQ(export_text(store, "bus1-2", k_day0, k_day0 + k_day),
            "time,source,field,value\n"
            "2026-11-25T00:00:05.250Z,bus1-2,pv_voltage,20\n");
}

TEST(SnapshotStoreExport, JsonLinesHaveOneObjectPerSample) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  store.add(record("bus1-1", k_day0 + 5000, {{"pv_voltage", 13.45}, {"battery_current", -2}}));
  store.add(record("bus1-1", k_day0 + 10'000, {{"energy_total", 123456.78}}));
  ASSERT_TRUE(store.commit().ok());
  std::istringstream lines(
      export_text(store, "bus1-1", k_day0, k_day0 + k_minute, ExportFormat::JsonLines));
  std::vector<nlohmann::json> objects;
  for (std::string line; std::getline(lines, line);) {
    objects.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(objects.size(), 2U);
  EXPECT_EQ(objects[0]["time"], "2026-11-25T00:00:05.000Z");
  EXPECT_EQ(objects[0]["time_ms"], k_day0 + 5000);
  EXPECT_EQ(objects[0]["source"], "bus1-1");
  EXPECT_EQ(objects[0]["values"],
            nlohmann::json::parse(R"({"pv_voltage":13.45,"battery_current":-2})"));
  EXPECT_EQ(objects[1]["values"]["energy_total"].get<double>(), 123456.78);
}

TEST(SnapshotStoreExport, AnUnknownSourceIsAnError) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  std::ostringstream out;
  auto status = store.export_range("nope", 0, k_day0, ExportFormat::Csv, out);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("nope"), std::string::npos);
}

TEST(SnapshotStoreEnergy, RowsRoundTripAndFilterByKindSourceAndPeriod) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  ASSERT_TRUE(store
                  .put_energy({{"bus1-1", "2026-11-24", 1.25, 0.5},
                               {"bus1-1", "2026-11-25", 2.5, 1.0},
                               {"bus1-1", "2026-11", 3.75, 1.5},
                               {"bus1-1", "2026", 100.5, 40.25},
                               {"site-a", "2026-11-25", 4.0, 3.0}})
                  .ok());
  ASSERT_TRUE(store.put_energy({{"bus1-1", "2026-11-25", 2.75, 1.25}}).ok());  // replaces

  auto days = store.energy("bus1-1", "day");
  ASSERT_EQ(days.size(), 2U);
  EXPECT_EQ(days[0].period, "2026-11-24");
  EXPECT_EQ(days[1].period, "2026-11-25");
  EXPECT_EQ(days[1].generated_kwh, 2.75);
  EXPECT_EQ(days[1].consumed_kwh, 1.25);

  auto all_days = store.energy("", "day", "2026-11-25", "2026-11-25");
  ASSERT_EQ(all_days.size(), 2U);
  EXPECT_EQ(all_days[0].source, "bus1-1");
  EXPECT_EQ(all_days[1].source, "site-a");

  auto months = store.energy("", "month");
  ASSERT_EQ(months.size(), 1U);
  EXPECT_EQ(months[0].generated_kwh, 3.75);
  auto years = store.energy("bus1-1", "year", "2025");
  ASSERT_EQ(years.size(), 1U);
  EXPECT_EQ(years[0].consumed_kwh, 40.25);
  EXPECT_TRUE(store.energy("bus1-1", "week").empty());
}

TEST(SnapshotStoreEnergy, BadPeriodsAreRefusedAndNothingIsWritten) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto status = store.put_energy({{"bus1-1", "2026-11-25", 1, 1}, {"bus1-1", "25.11.2026", 1, 1}});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::InvalidArgument);
  EXPECT_NE(status.error().message.find("25.11.2026"), std::string::npos);
  EXPECT_TRUE(store.energy("", "day").empty());
}

TEST(SnapshotStoreState, KeysRoundTripAndOverwrite) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  EXPECT_EQ(store.get_state("baselines"), std::nullopt);
  ASSERT_TRUE(store.put_state("baselines", R"({"a":1})").ok());
  ASSERT_TRUE(store.put_state("baselines", R"({"a":2})").ok());
  ASSERT_TRUE(store.put_state("other", "").ok());
  EXPECT_EQ(store.get_state("baselines"), R"({"a":2})");
  EXPECT_EQ(store.get_state("other"), "");
}

TEST(SnapshotStoreOptions, NegativeRetentionIsRefusedAtStartUp) {
  TempDir dir;
  auto options = options_for(dir);
  options.minute_days = -1;
  EXPECT_THROW(SnapshotStore{options}, StoreError);
}

TEST(SnapshotStoreOptions, AnUnusablePathIsAStartUpError) {
  TempDir dir;
  auto options = options_for(dir);
  std::filesystem::create_directories(dir.path() / "a-directory");
  options.path = dir.path() / "a-directory";
  try {
    SnapshotStore store(options);
    FAIL() << "opened a directory as a database";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("a-directory"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace tracermon::store
