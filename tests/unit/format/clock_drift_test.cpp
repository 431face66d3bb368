// The controller clock's drift from a snapshot's RTC words (model/clock_drift.hpp), in the
// host's local zone, and when it cannot be told.

#include "model/clock_drift.hpp"

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "snapshot_builder.hpp"

namespace tracermon::model {
namespace {

using namespace std::chrono_literals;
using test::sample;

// 2026-06-21T12:34:36Z.
constexpr std::chrono::seconds k_read{1'782'045'276};

std::uint16_t pack(int hi, int lo) {
  return static_cast<std::uint16_t>((hi << 8) | lo);
}

// A snapshot whose clock words say `t` (controller local time), read at `read` (UTC).
DeviceSnapshot with_clock(const protocol::ControllerTime& t,
                          std::chrono::milliseconds read = k_read) {
  auto at = core::SteadyTime{} + read;
  return test::snapshot("east", 1,
                        {sample("rtc_minute_second", pack(t.minute, t.second), at),
                         sample("rtc_day_hour", pack(t.day, t.hour), at),
                         sample("rtc_year_month", pack(t.year - 2000, t.month), at)});
}

class ClockDrift : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) m_tz = tz;
    zone("UTC0");
  }
  void TearDown() override {
    if (m_tz) {
      ::setenv("TZ", m_tz->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  static void zone(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  static std::optional<double> drift(const DeviceSnapshot& s) {
    return clock_drift_s(test::map(), s);
  }

 private:
  std::optional<std::string> m_tz;
};

TEST_F(ClockDrift, ControllerMinusHostLocalTime) {
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 12, 34, 56})), 20.0);
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 12, 34, 36})), 0.0);
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 12, 30, 0})), -276.0);
  // The milliseconds of the host's time do not count (the controller has whole seconds).
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 12, 34, 36}, k_read + 999ms)), 0.0);
  // Across midnight and a year.
  EXPECT_EQ(drift(with_clock({2026, 6, 22, 0, 0, 0})), 41124.0);
  EXPECT_EQ(drift(with_clock({2025, 6, 21, 12, 34, 36})), -365.0 * 86400.0);
}

TEST_F(ClockDrift, InTheHostsLocalZone) {
  // The controller keeps local time: two hours east of UTC, 14:34:36 is right.
  zone("XST-2");
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 14, 34, 36})), 0.0);
  EXPECT_EQ(drift(with_clock({2026, 6, 21, 12, 34, 36})), -7200.0);
}

TEST_F(ClockDrift, UnknownWhenItCannotBeTold) {
  auto full = with_clock({2026, 6, 21, 12, 34, 56});
  ASSERT_TRUE(drift(full));
  // A word missing.
  for (const char* name : {"rtc_minute_second", "rtc_day_hour", "rtc_year_month"}) {
    auto s = full;
    std::erase_if(s.fields, [&](const FieldSample& f) { return f.id == test::id_of(name); });
    EXPECT_FALSE(drift(s)) << name;
  }
  // A clock never set (month 0), or day 31 of June.
  EXPECT_FALSE(drift(with_clock({2000, 0, 0, 0, 0, 0})));
  EXPECT_FALSE(drift(with_clock({2026, 6, 31, 12, 0, 0})));
  EXPECT_FALSE(drift(with_clock({2026, 6, 21, 24, 0, 0})));
  // The words from reads far apart.
  auto apart = full;
  apart.fields[1].wall_time += 10s;
  EXPECT_FALSE(drift(apart));
  // The host clock not known good yet.
  auto untrusted = full;
  untrusted.clock_trusted = false;
  EXPECT_FALSE(drift(untrusted));
}

}  // namespace
}  // namespace tracermon::model
