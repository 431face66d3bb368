#include "web/time_param.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tracermon::web {
namespace {

// Expected values come from constants, not from the parser:
// 2026-11-25T00:00:00Z = 1795564800 s (python3: datetime(2026,11,25,tzinfo=timezone.utc)).
constexpr std::int64_t k_day0_ms = 1'795'564'800'000;
constexpr std::int64_t k_second = 1000;
constexpr std::int64_t k_minute = 60 * k_second;
constexpr std::int64_t k_hour = 60 * k_minute;
constexpr std::int64_t k_day = 24 * k_hour;
// "now" for the relative forms: 2026-11-25T10:00:00.123Z.
constexpr std::int64_t k_now = k_day0_ms + 10 * k_hour + 123;

std::optional<std::int64_t> parse(std::string_view text) {
  return parse_time_param(text, k_now);
}

TEST(TimeParam, NowIsTheGivenTime) {
  EXPECT_EQ(parse("now"), k_now);
}

TEST(TimeParam, RelativeTimesCountBackFromNow) {
  EXPECT_EQ(parse("-24h"), k_now - 24 * k_hour);
  EXPECT_EQ(parse("-30m"), k_now - 30 * k_minute);
  EXPECT_EQ(parse("-7d"), k_now - 7 * k_day);
  EXPECT_EQ(parse("-1w"), k_now - 7 * k_day);
  EXPECT_EQ(parse("-90s"), k_now - 90 * k_second);
  EXPECT_EQ(parse("-0h"), k_now);
}

TEST(TimeParam, TenDigitsAreEpochSecondsMoreAreMilliseconds) {
  // 1700000000 s = 2023-11-14T22:13:20Z.
  EXPECT_EQ(parse("1700000000"), 1'700'000'000'000);
  EXPECT_EQ(parse("1700000000123"), 1'700'000'000'123);
  EXPECT_EQ(parse("0"), 0);
}

TEST(TimeParam, Rfc3339InUtc) {
  EXPECT_EQ(parse("2026-11-25T10:00:00Z"), k_day0_ms + 10 * k_hour);
  EXPECT_EQ(parse("2026-11-25T23:59:59Z"), k_day0_ms + k_day - k_second);
}

TEST(TimeParam, Rfc3339OffsetsAreSubtracted) {
  // 10:00 at +01:00 is 09:00Z; 10:00 at -05:30 is 15:30Z.
  EXPECT_EQ(parse("2026-11-25T10:00:00+01:00"), k_day0_ms + 9 * k_hour);
  EXPECT_EQ(parse("2026-11-25T10:00:00-05:30"), k_day0_ms + 15 * k_hour + 30 * k_minute);
  EXPECT_EQ(parse("2026-11-25T10:00:00+00:00"), k_day0_ms + 10 * k_hour);
}

TEST(TimeParam, Rfc3339FractionalSecondsGiveMilliseconds) {
  EXPECT_EQ(parse("2026-11-25T10:00:00.5Z"), k_day0_ms + 10 * k_hour + 500);
  EXPECT_EQ(parse("2026-11-25T10:00:00.123Z"), k_day0_ms + 10 * k_hour + 123);
  // Beyond milliseconds the digits are cut, not rounded.
  EXPECT_EQ(parse("2026-11-25T10:00:00.123999Z"), k_day0_ms + 10 * k_hour + 123);
  EXPECT_EQ(parse("2026-11-25T10:00:00.25+01:00"), k_day0_ms + 9 * k_hour + 250);
}

TEST(TimeParam, DateOnlyIsUtcMidnight) {
  EXPECT_EQ(parse("2026-11-25"), k_day0_ms);
  EXPECT_EQ(parse("2026-11-26"), k_day0_ms + k_day);
}

TEST(TimeParam, RejectsJunk) {
  for (std::string_view text :
       {"", "yesterday", "abc", "12abc", "2026-13-45", "2026/11/25", "1.5", "NOW", " now"}) {
    EXPECT_EQ(parse(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(TimeParam, RejectsATimeWithoutZone) {
  EXPECT_EQ(parse("2026-11-25T10:00:00"), std::nullopt);
  EXPECT_EQ(parse("2026-11-25T10:00:00.5"), std::nullopt);
}

TEST(TimeParam, RejectsMalformedRelativeTimes) {
  for (std::string_view text :
       {"-h", "--1h", "-1x", "-1H", "-h1", "-1.5h", "24h", "+1h", "- 1h", "-1 h"}) {
    EXPECT_EQ(parse(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(TimeParam, RejectsARelativeTimeTooLargeToCompute) {
  // 9e18 hours back does not fit in 64 bits of milliseconds.
  EXPECT_EQ(parse("-9000000000000000000h"), std::nullopt);
  EXPECT_EQ(parse("-3000000000000000w"), std::nullopt);
}

TEST(TimeParam, RejectsTrailingGarbage) {
  for (std::string_view text :
       {"-24hx", "-24h ", "1700000000x", "2026-11-25T10:00:00Zx", "2026-11-25T10:00:00Z ",
        "2026-11-25T10:00:00+01:00x", "2026-11-25T10:00:00+01:0", "2026-11-25x"}) {
    EXPECT_EQ(parse(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(TimeParam, RejectsMalformedOffsetsAndFractions) {
  for (std::string_view text :
       {"2026-11-25T10:00:00+1:00", "2026-11-25T10:00:00+0100", "2026-11-25T10:00:00+01",
        "2026-11-25T10:00:00+", "2026-11-25T10:00:00+ 1:00", "2026-11-25T10:00:00.Z"}) {
    EXPECT_EQ(parse(text), std::nullopt) << "'" << text << "'";
  }
}

// Issue 12, item 4: every accepted time is inside 1970..9999; anything else is refused with a
// message that names the parameter and the range, so no caller computes with it.
TEST(TimeParam, TheAllowedRangeIs1970To9999) {
  // 253402300799999 ms = 9999-12-31T23:59:59.999Z (python3: datetime(9999,12,31,23,59,59,
  // 999000,tzinfo=timezone.utc)).
  EXPECT_EQ(k_max_time_ms, 253'402'300'799'999);
  EXPECT_EQ(time_param("to", "9999-12-31T23:59:59.999Z", k_now).value(), k_max_time_ms);
  EXPECT_EQ(time_param("from", "1970-01-01", k_now).value(), 0);
  EXPECT_EQ(time_param("from", "0", k_now).value(), 0);
  EXPECT_EQ(time_param("from", "-24h", k_now).value(), k_now - 24 * k_hour);
}

TEST(TimeParam, TimesOutsideTheRangeAreRefusedNamingTheRange) {
  using ::testing::HasSubstr;
  for (std::string_view text :
       {"9223372036854775807", "-9223372036854775807", "-9223372036854775808", "-1",
        "253402300800000", "1969-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "99999-01-01T00:00:00Z",
        "-3000y", "1000000000000000000"}) {
    auto result = time_param("from", text, k_now);
    ASSERT_FALSE(result.ok()) << text;
    EXPECT_THAT(result.error().message, HasSubstr("from: '" + std::string(text) + "'")) << text;
    EXPECT_THAT(result.error().message, HasSubstr("1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"))
        << text;
  }
}

TEST(TimeParam, AnUnreadableTimeIsRefusedNamingTheForms) {
  auto result = time_param("--to", "yesterday", k_now);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message.rfind("--to: 'yesterday' is not a time; allowed: now", 0), 0U)
      << result.error().message;
}

}  // namespace
}  // namespace tracermon::web
