// history(): buckets from raw samples and from each rollup, gaps, late data, retention.

#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "store/snapshot_store.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;
using Agg = HistoryQuery::Agg;

struct Sample {
  std::int64_t t;
  double value;
};

// A smooth signal like a voltage or a power, to two decimals.
double smooth(std::int64_t t, double offset) {
  double x = static_cast<double>(t) / 3.6e6;
  return std::round((offset + 8 * std::sin(x) + 3 * std::cos(7.3 * x)) * 100) / 100;
}

std::vector<Sample> series(std::int64_t from, std::int64_t to, std::int64_t step, double offset) {
  std::vector<Sample> samples;
  for (auto t = from; t < to; t += step) {
    samples.push_back({t, smooth(t, offset)});
  }
  return samples;
}

// Adds the samples of one field of one source, committing every `per_commit` records like the
// daemon does.
void ingest(SnapshotStore& store, const std::string& source, const std::string& field,
            const std::vector<Sample>& samples, std::size_t per_commit = 500) {
  std::size_t n = 0;
  for (const auto& s : samples) {
    store.add(record(source, s.t, {{field, s.value}, {"other", 1}}));
    if (++n % per_commit == 0) {
      ASSERT_TRUE(store.commit().ok()) << store.last_error();
    }
  }
  ASSERT_TRUE(store.commit().ok()) << store.last_error();
}

// What each bucket of [start, start + count * width) must show, computed from the samples.
std::vector<std::optional<double>> expected(const std::vector<Sample>& samples, std::int64_t start,
                                            std::int64_t width, std::size_t count, Agg agg) {
  struct Acc {
    std::int64_t n = 0, min = 0, max = 0, sum = 0, last = 0, last_t = 0;
  };
  std::vector<Acc> acc(count);
  for (const auto& s : samples) {
    if (s.t < start || s.t >= start + static_cast<std::int64_t>(count) * width) continue;
    auto& a = acc[static_cast<std::size_t>((s.t - start) / width)];
    auto v = std::llround(s.value * 100);
    if (a.n == 0 || v < a.min) a.min = v;
    if (a.n == 0 || v > a.max) a.max = v;
    if (a.n == 0 || s.t >= a.last_t) a.last = v, a.last_t = s.t;
    a.sum += v;
    ++a.n;
  }
  std::vector<std::optional<double>> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& a = acc[i];
    if (a.n == 0) continue;
    switch (agg) {
      case Agg::Mean:
        out[i] = static_cast<double>(a.sum) / static_cast<double>(a.n) / 100;
        break;
      case Agg::Min:
        out[i] = static_cast<double>(a.min) / 100;
        break;
      case Agg::Max:
        out[i] = static_cast<double>(a.max) / 100;
        break;
      case Agg::Last:
        out[i] = static_cast<double>(a.last) / 100;
        break;
    }
  }
  return out;
}

// Checks every aggregate of a query against the samples; returns the resolution used.
std::string check_history(const SnapshotStore& store, const std::vector<Sample>& samples,
                          HistoryQuery query, std::int64_t want_start, std::int64_t want_width) {
  std::string resolution;
  for (auto agg : {Agg::Mean, Agg::Min, Agg::Max, Agg::Last}) {
    query.agg = agg;
    SCOPED_TRACE(static_cast<int>(agg));
    auto result = store.history(query);
    EXPECT_TRUE(result.ok());
    if (!result.ok()) return "";
    const auto& h = result.value();
    EXPECT_EQ(h.bucket_ms, want_width);
    EXPECT_LE(h.time_ms.size(), static_cast<std::size_t>(query.points));
    EXPECT_FALSE(h.time_ms.empty());
    if (h.time_ms.empty()) return "";
    EXPECT_EQ(h.time_ms.front(), want_start);
    for (std::size_t i = 1; i < h.time_ms.size(); ++i) {
      EXPECT_EQ(h.time_ms[i] - h.time_ms[i - 1], want_width);
    }
    EXPECT_GE(h.time_ms.back() + h.bucket_ms, query.to_ms);
    auto want = expected(samples, want_start, want_width, h.time_ms.size(), agg);
    EXPECT_EQ(h.columns.size(), query.fields.size());
    const auto& got = h.columns.at(0);
    EXPECT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
      EXPECT_EQ(got[i].has_value(), want[i].has_value()) << "bucket " << i;
      if (got[i] && want[i]) {
        EXPECT_NEAR(*got[i], *want[i], 1e-9) << "bucket " << i;
      }
    }
    resolution = h.resolution;
  }
  return resolution;
}

TEST(History, ShortRangesComeFromRawSamples) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto mine = series(k_day0, k_day0 + 10 * k_minute, 5000, 20);
  auto theirs = series(k_day0, k_day0 + 10 * k_minute, 5000, 50);
  ingest(store, "bus1-1", "pv_voltage", mine, 7);
  ingest(store, "bus1-2", "pv_voltage", theirs, 7);
  HistoryQuery query{"bus1-1", {"pv_voltage"}, k_day0 + 2500, k_day0 + 10 * k_minute, 60};
  // 597.5 s in 60 points: 9958 ms buckets from the first millisecond asked for.
  EXPECT_EQ(check_history(store, mine, query, k_day0 + 2500, 9959), "raw");
}

TEST(History, MinuteRollupsServeRangesOfHours) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto mine = series(k_day0, k_day0 + 3 * k_hour, 5000, 20);
  ingest(store, "bus1-1", "pv_voltage", mine, 6);
  ingest(store, "bus1-2", "pv_voltage", series(k_day0, k_day0 + 3 * k_hour, 5000, 60));
  HistoryQuery query{"bus1-1", {"pv_voltage"}, k_day0, k_day0 + 3 * k_hour, 180};
  EXPECT_EQ(check_history(store, mine, query, k_day0, k_minute), "minute");
  // 90 points: two-minute buckets, from the minute before from_ms.
  query = {"bus1-1", {"pv_voltage"}, k_day0 + 30'000, k_day0 + 3 * k_hour, 90};
  EXPECT_EQ(check_history(store, mine, query, k_day0, 2 * k_minute), "minute");
}

TEST(History, HourRollupsServeRangesOfDays) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto mine = series(k_day0, k_day0 + 2 * k_day, 60'000, 20);
  ingest(store, "bus1-1", "pv_power", mine);
  ingest(store, "site-a", "pv_power", series(k_day0, k_day0 + 2 * k_day, 60'000, 90));
  HistoryQuery query{"bus1-1", {"pv_power"}, k_day0, k_day0 + 2 * k_day, 48};
  EXPECT_EQ(check_history(store, mine, query, k_day0, k_hour), "hour");
}

TEST(History, DayRollupsServeRangesOfMonths) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto mine = series(k_day0, k_day0 + 20 * k_day, 10 * k_minute, 20);
  ingest(store, "bus1-1", "battery_soc", mine);
  HistoryQuery query{"bus1-1", {"battery_soc"}, k_day0, k_day0 + 20 * k_day, 20};
  EXPECT_EQ(check_history(store, mine, query, k_day0, k_day), "day");
}

TEST(History, AYearAt500PointsReadsHourRollups) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto mine = series(k_day0, k_day0 + 365 * k_day, 6 * k_hour, 20);
  ingest(store, "bus1-1", "pv_power", mine, 1000);
  HistoryQuery query{"bus1-1", {"pv_power"}, k_day0, k_day0 + 365 * k_day, 500};
  // 8760 h / 500 points = 17.52 h, rounded up to whole hours.
  EXPECT_EQ(check_history(store, mine, query, k_day0, 18 * k_hour), "hour");
}

TEST(History, GapsStayGapsAtEveryResolution) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  std::vector<Sample> samples;
  for (const auto& s : series(k_day0, k_day0 + 3 * k_day, 30'000, 20)) {
    bool missing_minutes = s.t >= k_day0 + 70 * k_minute && s.t < k_day0 + 80 * k_minute;
    bool missing_hours = s.t >= k_day0 + 30 * k_hour && s.t < k_day0 + 33 * k_hour;
    bool missing_day = s.t >= k_day0 + k_day * 2;
    if (!missing_minutes && !missing_hours && !missing_day) samples.push_back(s);
  }
  ingest(store, "bus1-1", "pv_power", samples);

  HistoryQuery minutes{"bus1-1", {"pv_power"}, k_day0 + k_hour, k_day0 + 2 * k_hour, 60};
  ASSERT_EQ(check_history(store, samples, minutes, k_day0 + k_hour, k_minute), "minute");
  auto h = store.history(minutes).value();
  EXPECT_TRUE(h.columns[0][9].has_value());
  EXPECT_FALSE(h.columns[0][10].has_value());
  EXPECT_FALSE(h.columns[0][19].has_value());
  EXPECT_TRUE(h.columns[0][20].has_value());

  HistoryQuery hours{"bus1-1", {"pv_power"}, k_day0, k_day0 + 2 * k_day, 48};
  ASSERT_EQ(check_history(store, samples, hours, k_day0, k_hour), "hour");
  h = store.history(hours).value();
  EXPECT_TRUE(h.columns[0][29].has_value());
  EXPECT_FALSE(h.columns[0][30].has_value());
  EXPECT_FALSE(h.columns[0][32].has_value());
  EXPECT_TRUE(h.columns[0][33].has_value());

  HistoryQuery days{"bus1-1", {"pv_power"}, k_day0, k_day0 + 4 * k_day, 4};
  ASSERT_EQ(check_history(store, samples, days, k_day0, k_day), "day");
  h = store.history(days).value();
  EXPECT_TRUE(h.columns[0][1].has_value());
  EXPECT_FALSE(h.columns[0][2].has_value());
}

TEST(History, UnknownSourcesAndFieldsGiveEmptyColumns) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  ingest(store, "bus1-1", "pv_power", series(k_day0, k_day0 + k_hour, 5000, 20));
  HistoryQuery query{"bus1-1", {"nope", "pv_power"}, k_day0, k_day0 + k_hour, 60};
  auto h = store.history(query).value();
  ASSERT_EQ(h.columns.size(), 2U);
  for (const auto& v : h.columns[0]) {
    EXPECT_FALSE(v.has_value());
  }
  for (const auto& v : h.columns[1]) {
    EXPECT_TRUE(v.has_value());
  }
  query.source = "bus9-9";
  h = store.history(query).value();
  for (const auto& v : h.columns[1]) {
    EXPECT_FALSE(v.has_value());
  }
}

TEST(History, AnEmptyRangeIsAnError) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  EXPECT_FALSE(store.history({"s", {"f"}, k_day0, k_day0, 10}).ok());
  EXPECT_FALSE(store.history({"s", {"f"}, k_day0, k_day0 + 1000, 0}).ok());
}

// The host clock jumped back: samples arrive for buckets that were already rolled up, and one
// time is written twice.
TEST(History, LateAndRepeatedSamplesFixEveryRollup) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  auto all = series(k_day0, k_day0 + 2 * k_day, 20'000, 20);
  std::vector<Sample> on_time;
  std::vector<Sample> late;
  for (const auto& s : all) {
    bool is_late = s.t >= k_day0 + 5 * k_hour + 10 * k_minute && s.t < k_day0 + 6 * k_hour;
    (is_late ? late : on_time).push_back(s);
  }
  ingest(store, "bus1-1", "pv_power", on_time);
  HistoryQuery minutes{"bus1-1", {"pv_power"}, k_day0 + 5 * k_hour, k_day0 + 6 * k_hour, 60};
  HistoryQuery hours{"bus1-1", {"pv_power"}, k_day0, k_day0 + 2 * k_day, 48};
  HistoryQuery days{"bus1-1", {"pv_power"}, k_day0, k_day0 + 2 * k_day, 2};
  ASSERT_EQ(check_history(store, on_time, minutes, k_day0 + 5 * k_hour, k_minute), "minute");
  EXPECT_FALSE(store.history(minutes).value().columns[0][30].has_value());

  ingest(store, "bus1-1", "pv_power", late, 50);
  // The same time again with another value replaces it.
  auto& replaced = all[static_cast<std::size_t>(5 * k_hour / 20'000) + 40];
  replaced.value = -99.5;
  store.add(record("bus1-1", replaced.t, {{"pv_power", replaced.value}}));
  ASSERT_TRUE(store.commit().ok());

  EXPECT_EQ(check_history(store, all, minutes, k_day0 + 5 * k_hour, k_minute), "minute");
  EXPECT_EQ(check_history(store, all, hours, k_day0, k_hour), "hour");
  EXPECT_EQ(check_history(store, all, days, k_day0, k_day), "day");
}

TEST(Retention, OldRawSamplesGoButRollupsStay) {
  TempDir dir;
  auto options = options_for(dir);
  options.raw_days = 2;
  options.minute_days = 4;
  SnapshotStore store(options);
  auto samples = series(k_day0, k_day0 + 6 * k_day, 10 * k_minute, 20);
  ingest(store, "bus1-1", "pv_power", samples);
  ASSERT_TRUE(store.maintain(k_day0 + 6 * k_day + k_hour).ok());

  // Raw samples from day 4 on, minutes from day 2 on, hours and days forever.
  auto csv = export_text(store, "", k_day0, k_day0 + 7 * k_day);
  EXPECT_EQ(csv.find("2026-11-28T"), std::string::npos);
  EXPECT_NE(csv.find("2026-11-29T00:00:00.000Z"), std::string::npos);
  // An hour in 120 points (30 s) would come from raw samples; where they are gone, from the
  // finest rollup that still has the range.
  auto hour_of_day = [](int day) {
    auto from = k_day0 + day * k_day + 7 * k_hour;
    return HistoryQuery{"bus1-1", {"pv_power"}, from, from + k_hour, 120};
  };
  auto start_of = [](int day) { return k_day0 + day * k_day + 7 * k_hour; };
  EXPECT_EQ(check_history(store, samples, hour_of_day(5), start_of(5), 30'000), "raw");
  EXPECT_EQ(check_history(store, samples, hour_of_day(3), start_of(3), k_minute), "minute");
  EXPECT_EQ(check_history(store, samples, hour_of_day(1), start_of(1), k_hour), "hour");
  HistoryQuery everything{"bus1-1", {"pv_power"}, k_day0, k_day0 + 6 * k_day, 6};
  EXPECT_EQ(check_history(store, samples, everything, k_day0, k_day), "day");

  // A sample older than the raw retention arrives late: it is dropped, the rollups stay right.
  store.add(record("bus1-1", k_day0 + 3 * k_hour + 1000, {{"pv_power", 500}}));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(store.dropped(), 1U);
  EXPECT_EQ(check_history(store, samples, everything, k_day0, k_day), "day");
}

TEST(Retention, ForeverKeepsEverything) {
  TempDir dir;
  auto options = options_for(dir);
  options.raw_days = 0;
  options.minute_days = 1;  // raised to forever: minutes are computed from raw samples
  SnapshotStore store(options);
  auto samples = series(k_day0, k_day0 + k_hour, 10 * k_minute, 20);
  ingest(store, "bus1-1", "pv_power", samples);
  ASSERT_TRUE(store.maintain(k_day0 + 400 * k_day).ok());
  HistoryQuery raw{"bus1-1", {"pv_power"}, k_day0, k_day0 + k_hour, 120};
  EXPECT_EQ(check_history(store, samples, raw, k_day0, 30'000), "raw");
}

// Hour and day buckets still filling are rewritten every open_rollup_refresh_ms of data time.
TEST(History, OpenHourBucketsLagByAtMostTheRefreshInterval) {
  TempDir dir;
  auto options = options_for(dir);
  options.open_rollup_refresh_ms = 10 * k_minute;
  std::vector<Sample> samples;  // the value is the index: "last" tells which sample it was
  for (std::int64_t t = k_day0; t < k_day0 + 3 * k_hour; t += 30'000) {
    samples.push_back({t, static_cast<double>(samples.size())});
  }
  HistoryQuery hours{"bus1-1", {"pv_power"}, k_day0, k_day0 + 3 * k_hour, 3, Agg::Last};
  {
    SnapshotStore store(options);
    for (const auto& s : samples) {
      store.add(record("bus1-1", s.t, {{"pv_power", s.value}}));
      ASSERT_TRUE(store.commit().ok());
      auto h = store.history(hours).value();
      auto open = static_cast<std::size_t>((s.t - k_day0) / k_hour);
      // Closed hours are complete as soon as the next one has begun.
      for (std::size_t i = 0; i < open; ++i) {
        EXPECT_EQ(h.columns[0][i], static_cast<double>((i + 1) * 120 - 1)) << i;
      }
      // The open one lags by less than the refresh interval.
      auto shown = h.columns[0][open];
      auto since_start = s.t - k_day0 - static_cast<std::int64_t>(open) * k_hour;
      if (since_start >= 10 * k_minute) {
        ASSERT_TRUE(shown.has_value()) << s.t;
      }
      if (shown) {
        auto shown_t = samples.at(static_cast<std::size_t>(*shown)).t;
        EXPECT_LT(s.t - shown_t, 10 * k_minute) << s.t;
      }
    }
  }
  SnapshotStore store(options);  // shutdown wrote the open buckets
  EXPECT_EQ(check_history(store, samples, hours, k_day0, k_hour), "hour");
}

}  // namespace
}  // namespace tracermon::store
