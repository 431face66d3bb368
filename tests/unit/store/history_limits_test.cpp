// History and export with ranges and sizes no caller should ask for (issue 12, item 4): an
// error, never a crash, an overflow or a huge allocation.

#include <cstdint>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>

#include "store/row_key.hpp"
#include "store_test_support.hpp"

namespace tracermon::store::test {
namespace {

constexpr auto k_max = std::numeric_limits<std::int64_t>::max();
constexpr auto k_min = std::numeric_limits<std::int64_t>::min();

class HistoryLimits : public ::testing::Test {
 protected:
  HistoryLimits() : store(options_for(dir)) {
    store.add(record("cabin", k_day0, {{"pv_voltage", 18.5}}));
    EXPECT_TRUE(store.commit().ok());
  }

  core::Result<History> history(std::int64_t from, std::int64_t to, int points = 500,
                                std::size_t fields = 1) {
    HistoryQuery query;
    query.source = "cabin";
    query.fields.assign(fields, "pv_voltage");
    query.from_ms = from;
    query.to_ms = to;
    query.points = points;
    return store.history(query);
  }

  TempDir dir;
  SnapshotStore store;
};

TEST_F(HistoryLimits, RangesBeyondTheStorableTimesAreRefused) {
  for (auto [from, to] : {std::pair{-k_max, k_max},
                          {0, k_max},
                          {k_min, 0},
                          {k_min, k_max},
                          {k_max - 1, k_max},
                          {k_min, k_min + 1}}) {
    auto result = history(from, to);
    ASSERT_FALSE(result.ok()) << from << ".." << to;
    EXPECT_EQ(result.error().kind, core::ErrorKind::InvalidArgument);
  }
}

TEST_F(HistoryLimits, TheWidestStorableRangeIsAnsweredInAtMostPointsBuckets) {
  auto result = history(-k_max_abs_time_ms, k_max_abs_time_ms, 10'000);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_LE(result.value().time_ms.size(), 10'000U);
  EXPECT_EQ(result.value().resolution, "day");
}

TEST_F(HistoryLimits, TooManyValuesForOneQueryAreRefused) {
  auto result = history(k_day0, k_day0 + k_day, 1'000'000, 32);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, core::ErrorKind::InvalidArgument);
  EXPECT_TRUE(history(k_day0, k_day0 + k_day, 10'000, 32).ok());
}

TEST_F(HistoryLimits, ExportBeyondTheStorableTimesIsAnErrorNotNothing) {
  std::ostringstream out;
  auto status = store.export_range("", 0, k_max, ExportFormat::Csv, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::InvalidArgument);
  // Within the range the sample is there.
  EXPECT_NE(export_text(store, "", 0, k_max_abs_time_ms).find("cabin"), std::string::npos);
}

}  // namespace
}  // namespace tracermon::store::test
