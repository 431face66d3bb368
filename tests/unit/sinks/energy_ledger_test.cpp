// Host-side energy accounting: increases of the total counters go to the host's local day,
// month and year; resets, glitches, jumps and a wall clock going back never make a period
// negative or file energy under a wrong day.

#include "sinks/energy_ledger.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "poller/validator.hpp"
#include "protocol/decode.hpp"

using namespace tracermon;
using namespace tracermon::sinks;
using namespace std::chrono;

namespace {

// Europe/Berlin as a POSIX rule (CET, CEST from the last Sunday of March 02:00 to the last
// Sunday of October 03:00), so the tests do not depend on tzdata being installed.
constexpr const char* k_berlin = "CET-1CEST,M3.5.0,M10.5.0/3";

core::WallTime utc(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  return core::WallTime{sys_days{year{y} / month{m} / day{d}}} + hours(hour) + minutes(minute);
}

class EnergyLedgerTest : public testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) m_saved_tz = tz;
    use_tz(k_berlin);
  }
  void TearDown() override {
    if (m_saved_tz) {
      setenv("TZ", m_saved_tz->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  static void use_tz(const char* tz) {
    setenv("TZ", tz, 1);
    tzset();
  }

  static double generated(const EnergyLedger& l, PeriodKind kind, const char* name) {
    auto p = l.period(kind, name);
    return p ? p->generated_kwh : 0.0;
  }
  static void expect_no_negative(const EnergyLedger& l) {
    for (auto kind : {PeriodKind::Day, PeriodKind::Month, PeriodKind::Year}) {
      for (const auto& p : l.periods(kind)) {
        EXPECT_GE(p.generated_kwh, 0) << p.period;
        EXPECT_GE(p.consumed_kwh, 0) << p.period;
      }
    }
  }

 private:
  std::optional<std::string> m_saved_tz;
};

}  // namespace

TEST_F(EnergyLedgerTest, FirstObservationIsOnlyTheBaseline) {
  EnergyLedger ledger("a");
  auto o = ledger.observe(utc(2026, 6, 21, 10), 1000, 400, false);
  EXPECT_EQ(o.generated, CounterEvent::Baseline);
  EXPECT_EQ(o.consumed, CounterEvent::Baseline);
  EXPECT_TRUE(ledger.periods(PeriodKind::Day).empty());
  EXPECT_TRUE(ledger.dirty().empty());
  auto next = ledger.observe(utc(2026, 6, 21, 11), 1000.75, 400.25, false);
  EXPECT_EQ(next.generated, CounterEvent::Counted);
  EXPECT_DOUBLE_EQ(next.generated_kwh, 0.75);
  EXPECT_EQ(ledger.periods(PeriodKind::Day),
            (std::vector<EnergyPeriod>{{PeriodKind::Day, "2026-06-21", 0.75, 0.25}}));
  EXPECT_EQ(ledger.periods(PeriodKind::Month),
            (std::vector<EnergyPeriod>{{PeriodKind::Month, "2026-06", 0.75, 0.25}}));
  EXPECT_EQ(ledger.periods(PeriodKind::Year),
            (std::vector<EnergyPeriod>{{PeriodKind::Year, "2026", 0.75, 0.25}}));
}

namespace {
// One kWh produced between two observations: which local day, month and year gets it.
struct MidnightCase {
  const char* what;
  core::WallTime before;
  core::WallTime after;
  const char* day;
  const char* month;
  const char* year;
};
void PrintTo(const MidnightCase& c, std::ostream* os) {
  *os << c.what;
}

const MidnightCase k_midnight_cases[] = {
    // Winter: local = UTC + 1. 22:58Z is 23:58 on the 14th, 23:02Z is 00:02 on the 15th.
    {"before local midnight in winter", utc(2026, 1, 14, 22, 50), utc(2026, 1, 14, 22, 58),
     "2026-01-14", "2026-01", "2026"},
    {"after local midnight, still the 14th in UTC", utc(2026, 1, 14, 22, 58),
     utc(2026, 1, 14, 23, 2), "2026-01-15", "2026-01", "2026"},
    {"local month start", utc(2026, 1, 31, 22, 58), utc(2026, 1, 31, 23, 5), "2026-02-01",
     "2026-02", "2026"},
    {"local new year", utc(2026, 12, 31, 22, 58), utc(2026, 12, 31, 23, 1), "2027-01-01", "2027-01",
     "2027"},
    // Summer: local = UTC + 2.
    {"after local midnight in summer", utc(2026, 6, 20, 21, 55), utc(2026, 6, 20, 22, 5),
     "2026-06-21", "2026-06", "2026"},
    // 2026-03-29: clocks go forward at 01:00Z; the night after, midnight is at 22:00Z.
    {"spring-forward day, evening", utc(2026, 3, 29, 21, 0), utc(2026, 3, 29, 21, 30), "2026-03-29",
     "2026-03", "2026"},
    {"night after spring-forward", utc(2026, 3, 29, 21, 30), utc(2026, 3, 29, 22, 30), "2026-03-30",
     "2026-03", "2026"},
    // 2026-10-25: clocks go back at 01:00Z; 22:30Z is 23:30 CET, still the 25th.
    {"fall-back day, late evening", utc(2026, 10, 25, 22, 0), utc(2026, 10, 25, 22, 30),
     "2026-10-25", "2026-10", "2026"},
    {"night after fall-back", utc(2026, 10, 25, 22, 30), utc(2026, 10, 25, 23, 30), "2026-10-26",
     "2026-10", "2026"},
};

class LocalMidnight : public EnergyLedgerTest, public testing::WithParamInterface<MidnightCase> {};
}  // namespace

TEST_P(LocalMidnight, IncreaseGoesToTheHostsLocalPeriod) {
  const auto& c = GetParam();
  EnergyLedger ledger("a");
  ledger.observe(c.before, 500, 100, false);
  auto o = ledger.observe(c.after, 501, 100.5, false);
  EXPECT_EQ(o.day, c.day);
  EXPECT_EQ(ledger.periods(PeriodKind::Day),
            (std::vector<EnergyPeriod>{{PeriodKind::Day, c.day, 1.0, 0.5}}));
  EXPECT_EQ(ledger.periods(PeriodKind::Month),
            (std::vector<EnergyPeriod>{{PeriodKind::Month, c.month, 1.0, 0.5}}));
  EXPECT_EQ(ledger.periods(PeriodKind::Year),
            (std::vector<EnergyPeriod>{{PeriodKind::Year, c.year, 1.0, 0.5}}));
}

INSTANTIATE_TEST_SUITE_P(Berlin, LocalMidnight, testing::ValuesIn(k_midnight_cases));

TEST_F(EnergyLedgerTest, SameInstantFilesUnderTheDayOfTheHostsZone) {
  const auto t0 = utc(2026, 1, 14, 23, 0);
  const auto t1 = utc(2026, 1, 14, 23, 30);  // 00:30 in Berlin, 18:30 in New York
  use_tz("EST5EDT,M3.2.0,M11.1.0");
  EnergyLedger ledger("a");
  ledger.observe(t0, 10, 0, false);
  EXPECT_EQ(ledger.observe(t1, 11, 0, false).day, "2026-01-14");
  use_tz(k_berlin);
  EnergyLedger berlin("a");
  berlin.observe(t0, 10, 0, false);
  EXPECT_EQ(berlin.observe(t1, 11, 0, false).day, "2026-01-15");
}

TEST_F(EnergyLedgerTest, AcrossADayEveryIncreaseLandsOnItsDay) {
  EnergyLedger ledger("a");
  // Every 10 minutes from 20:00 local on the 24th to 04:00 local on the 25th, 0.01 kWh each.
  double total = 100;
  for (auto t = utc(2026, 11, 24, 19); t <= utc(2026, 11, 25, 3); t += minutes(10)) {
    ledger.observe(t, total, 0, false);
    total += 0.01;
  }
  // 20:00-24:00 local: 24 intervals end on the 24th (the last at 24:00 is 00:00 on the 25th).
  EXPECT_NEAR(generated(ledger, PeriodKind::Day, "2026-11-24"), 0.23, 1e-9);
  EXPECT_NEAR(generated(ledger, PeriodKind::Day, "2026-11-25"), 0.25, 1e-9);
  EXPECT_NEAR(generated(ledger, PeriodKind::Month, "2026-11"), 0.48, 1e-9);
}

TEST_F(EnergyLedgerTest, ResetFlagRebaselinesWithoutANegativeDay) {
  EnergyLedger ledger("a");
  ledger.observe(utc(2026, 6, 21, 8), 1000, 50, false);
  ledger.observe(utc(2026, 6, 21, 9), 1001, 50.5, false);
  auto reset = ledger.observe(utc(2026, 6, 21, 10), 0.2, 0.1, true);
  EXPECT_EQ(reset.generated, CounterEvent::Reset);
  EXPECT_EQ(reset.generated_kwh, 0);
  ledger.observe(utc(2026, 6, 21, 11), 0.7, 0.2, false);
  EXPECT_DOUBLE_EQ(generated(ledger, PeriodKind::Day, "2026-06-21"), 1.5);
  EXPECT_DOUBLE_EQ(ledger.period(PeriodKind::Day, "2026-06-21")->consumed_kwh, 0.6);
  expect_no_negative(ledger);
}

// The daemon's path: the Validator rejects a total that went backwards until the drop has
// persisted, then flags the reset, and the ledger re-baselines on it.
TEST_F(EnergyLedgerTest, PersistentDropThroughTheValidatorIsAResetNotANegativeDay) {
  const auto& map = tracermon::protocol::RegisterMap::builtin();
  const auto& total = *map.find("generated_energy_total");
  poller::Validator validator;
  EnergyLedger ledger("a");
  const double reads[] = {1000, 1001, 0.5, 0.5, 0.6, 0.9};
  auto t = utc(2026, 6, 21, 12);
  int rejected = 0;
  for (double kwh : reads) {
    auto raw = std::llround(kwh * total.scale);
    auto verdict = validator.check(total, raw, tracermon::protocol::scaled_value(total, raw));
    if (!verdict) {
      ++rejected;
    } else {
      ledger.observe(t, kwh, std::nullopt, verdict.counter_reset);
    }
    t += minutes(5);
  }
  EXPECT_EQ(rejected, 2);
  EXPECT_EQ(validator.counter_resets(), 1u);
  // 1 kWh before the reset, 0.3 kWh after it; the 1000 kWh drop is nowhere.
  EXPECT_NEAR(generated(ledger, PeriodKind::Day, "2026-06-21"), 1.3, 1e-9);
  expect_no_negative(ledger);
}

TEST_F(EnergyLedgerTest, SingleDecreaseIsIgnoredAndTheOldBaselineKept) {
  EnergyLedger ledger("a");
  ledger.observe(utc(2026, 6, 21, 8), 1000, 10, false);
  auto dip = ledger.observe(utc(2026, 6, 21, 9), 990, 10, false);
  EXPECT_EQ(dip.generated, CounterEvent::Decrease);
  auto back = ledger.observe(utc(2026, 6, 21, 10), 1001, 10, false);
  EXPECT_EQ(back.generated, CounterEvent::Counted);
  EXPECT_DOUBLE_EQ(back.generated_kwh, 1);  // from 1000, not from 990
  expect_no_negative(ledger);
}

TEST_F(EnergyLedgerTest, PersistentDecreaseWithoutFlagRebaselines) {
  EnergyLedger ledger("a");
  auto t = utc(2026, 6, 21, 8);
  ledger.observe(t, 1000, 10, false);
  EXPECT_EQ(ledger.observe(t + hours(1), 2, 10, false).generated, CounterEvent::Decrease);
  EXPECT_EQ(ledger.observe(t + hours(2), 2, 10, false).generated, CounterEvent::Decrease);
  EXPECT_EQ(ledger.observe(t + hours(3), 2.1, 10, false).generated, CounterEvent::Reset);
  EXPECT_DOUBLE_EQ(ledger.observe(t + hours(4), 2.5, 10, false).generated_kwh, 0.4);
  EXPECT_EQ(ledger.generated_baseline_kwh(), 2.5);
  expect_no_negative(ledger);
}

namespace {
struct JumpCase {
  const char* what;
  LedgerOptions options;
  minutes elapsed;
  double increase_kwh;
  CounterEvent expected;
};
void PrintTo(const JumpCase& c, std::ostream* os) {
  *os << c.what;
}

const JumpCase k_jump_cases[] = {
    {"more than 50 kWh in one step", {}, minutes(60), 50.01, CounterEvent::Jump},
    {"50 kWh after a long outage is still counted", {}, hours(48), 50, CounterEvent::Counted},
    // 1 kW rated: 1.5 kW x (10 min + 15 min slack) = 0.625 kWh.
    {"beyond what rated power could produce",
     {.generated_max_w = 1000},
     minutes(10),
     0.7,
     CounterEvent::Jump},
    {"within what rated power could produce",
     {.generated_max_w = 1000},
     minutes(10),
     0.6,
     CounterEvent::Counted},
};

class LedgerJump : public EnergyLedgerTest, public testing::WithParamInterface<JumpCase> {};
}  // namespace

TEST_P(LedgerJump, ImpossibleIncreaseIsIgnoredAndRebaselined) {
  const auto& c = GetParam();
  EnergyLedger ledger("a", c.options);
  auto t = utc(2026, 6, 21, 6);
  ledger.observe(t, 100, std::nullopt, false);
  auto o = ledger.observe(t + c.elapsed, 100 + c.increase_kwh, std::nullopt, false);
  EXPECT_EQ(o.generated, c.expected);
  auto filed = ledger.periods(PeriodKind::Year);
  if (c.expected == CounterEvent::Jump) {
    EXPECT_TRUE(filed.empty());
    // Re-baselined: the next increase counts from the jumped value.
    auto next = ledger.observe(t + c.elapsed + minutes(10), 100 + c.increase_kwh + 0.1,
                               std::nullopt, false);
    EXPECT_EQ(next.generated, CounterEvent::Counted);
    EXPECT_NEAR(next.generated_kwh, 0.1, 1e-9);
  } else {
    ASSERT_EQ(filed.size(), 1u);
    EXPECT_NEAR(filed[0].generated_kwh, c.increase_kwh, 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, LedgerJump, testing::ValuesIn(k_jump_cases));

TEST_F(EnergyLedgerTest, ClockGoingBackStillCountsButNeverSubtracts) {
  EnergyLedger ledger("a");
  ledger.observe(utc(2026, 6, 21, 10), 100, 20, false);
  ledger.observe(utc(2026, 6, 21, 11), 101, 20.5, false);
  // The wall clock jumps back to the previous day: the energy is real, the date is not.
  auto back = ledger.observe(utc(2026, 6, 20, 11), 101.5, 20.75, false);
  EXPECT_TRUE(back.clock_went_back);
  EXPECT_EQ(back.generated, CounterEvent::Counted);
  EXPECT_EQ(back.day, "2026-06-21");
  auto later = ledger.observe(utc(2026, 6, 20, 11, 30), 102, 21, false);
  EXPECT_EQ(later.day, "2026-06-21");
  EXPECT_EQ(ledger.periods(PeriodKind::Day),
            (std::vector<EnergyPeriod>{{PeriodKind::Day, "2026-06-21", 2.0, 1.0}}));
  expect_no_negative(ledger);
}

TEST_F(EnergyLedgerTest, TimesBefore2020AreRefused) {
  EnergyLedger ledger("a");
  ledger.observe(utc(2026, 6, 21, 10), 100, 20, false);
  auto o =
      ledger.observe(core::WallTime{} + seconds(60), 200, 30, false);  // 1970: a Pi without RTC
  EXPECT_TRUE(o.refused);
  EXPECT_EQ(o.generated, CounterEvent::Absent);
  EXPECT_TRUE(ledger.periods(PeriodKind::Year).empty());
  ledger.observe(utc(2026, 6, 21, 11), 101, 20.5, false);
  EXPECT_EQ(ledger.periods(PeriodKind::Year),
            (std::vector<EnergyPeriod>{{PeriodKind::Year, "2026", 1.0, 0.5}}));
  EXPECT_TRUE(ledger.observe(utc(2019, 12, 31, 22), 102, 21, false).refused);
}

TEST_F(EnergyLedgerTest, DirtyRowsAreTheOnesChangedSinceTheLastSave) {
  EnergyLedger ledger("a");
  ledger.observe(utc(2026, 6, 30, 20), 100, 0, false);
  ledger.observe(utc(2026, 6, 30, 21), 101, 0, false);
  EXPECT_EQ(ledger.dirty().size(), 3u);  // day, month, year
  ledger.mark_saved();
  EXPECT_TRUE(ledger.dirty().empty());
  ledger.observe(utc(2026, 6, 30, 22, 30), 102, 0, false);  // 00:30 on July 1st in Berlin
  EXPECT_EQ(ledger.dirty(), (std::vector<EnergyPeriod>{{PeriodKind::Day, "2026-07-01", 1.0, 0.0},
                                                       {PeriodKind::Month, "2026-07", 1.0, 0.0},
                                                       {PeriodKind::Year, "2026", 2.0, 0.0}}));
}

TEST_F(EnergyLedgerTest, StateSurvivesARestartAsJson) {
  EnergyLedger ledger("shed", {.generated_max_w = 2000});
  ledger.observe(utc(2026, 6, 20, 12), 100, 10, false);
  ledger.observe(utc(2026, 6, 20, 13), 101.5, 10.25, false);
  ledger.observe(utc(2026, 6, 21, 13), 104, 11, false);
  auto restored = EnergyLedger::from_json(ledger.to_json(), {.generated_max_w = 2000});
  ASSERT_TRUE(restored.ok()) << restored.error().describe();
  auto& copy = restored.value();
  EXPECT_EQ(copy.source(), "shed");
  for (auto kind : {PeriodKind::Day, PeriodKind::Month, PeriodKind::Year}) {
    EXPECT_EQ(copy.periods(kind), ledger.periods(kind));
  }
  EXPECT_TRUE(copy.dirty().empty());
  EXPECT_EQ(copy.generated_baseline_kwh(), 104);
  // Counting goes on from the saved baseline, and the latest time is remembered.
  auto next = copy.observe(utc(2026, 6, 21, 14), 105, 11, false);
  EXPECT_DOUBLE_EQ(next.generated_kwh, 1);
  EXPECT_TRUE(copy.observe(utc(2026, 6, 21, 13, 30), 105.5, 11, false).clock_went_back);
}

TEST_F(EnergyLedgerTest, MalformedJsonIsAClearError) {
  for (const char* text : {"", "{not json", "[]", R"({"version":1})",
                           R"({"version":7,"source":"a","generated":{},"consumed":{}})",
                           R"({"version":1,"source":"a","generated":{"baseline_wh":"x"},
                               "consumed":{}})"}) {
    auto result = EnergyLedger::from_json(text);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_NE(result.error().message.find("energy ledger state"), std::string::npos)
        << result.error().message;
  }
}

TEST_F(EnergyLedgerTest, OldDaysArePrunedFromTheState) {
  EnergyLedger ledger("a", {.keep_days = 2});
  double total = 0;
  for (unsigned d = 1; d <= 4; ++d) {
    ledger.observe(utc(2026, 6, d, 10), total, 0, false);
    total += 1;
    ledger.observe(utc(2026, 6, d, 11), total, 0, false);
  }
  auto days = ledger.periods(PeriodKind::Day);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].period, "2026-06-03");
  EXPECT_EQ(days[1].period, "2026-06-04");
  EXPECT_DOUBLE_EQ(generated(ledger, PeriodKind::Month, "2026-06"), 4);  // months keep it all
}
