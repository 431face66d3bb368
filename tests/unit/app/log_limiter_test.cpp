#include "core/log_limiter.hpp"

#include <chrono>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tracermon::core {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const LogLimiter::Clock::time_point k_t0 = LogLimiter::Clock::time_point{} + 100h;

TEST(LogLimiter, FirstOccurrenceIsLoggedAsIs) {
  LogLimiter limiter(60s);
  EXPECT_EQ(limiter.admit("bus1", "bus1: timeout", k_t0), "bus1: timeout");
}

TEST(LogLimiter, RepeatsWithinTheQuietPeriodAreSuppressed) {
  LogLimiter limiter(60s);
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0));
  EXPECT_EQ(limiter.admit("bus1", "bus1: timeout", k_t0 + 1s), std::nullopt);
  EXPECT_EQ(limiter.admit("bus1", "bus1: timeout", k_t0 + 59s), std::nullopt);
}

TEST(LogLimiter, AfterTheQuietPeriodLoggedAgainWithTheCount) {
  LogLimiter limiter(60s);
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + i * 10s));
  }
  auto line = limiter.admit("bus1", "bus1: timeout", k_t0 + 60s);
  ASSERT_TRUE(line);
  EXPECT_THAT(*line, ::testing::StartsWith("bus1: timeout"));
  EXPECT_THAT(*line, HasSubstr("3 more like this"));
  // The count starts again from that line, and so does the quiet period.
  EXPECT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + 61s));
  EXPECT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + 119s));
  auto next = limiter.admit("bus1", "bus1: timeout", k_t0 + 120s);
  ASSERT_TRUE(next);
  EXPECT_THAT(*next, HasSubstr("2 more like this"));
}

TEST(LogLimiter, NothingSuppressedMeansNoSuffix) {
  LogLimiter limiter(60s);
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0));
  EXPECT_EQ(limiter.admit("bus1", "bus1: timeout", k_t0 + 10min), "bus1: timeout");
}

TEST(LogLimiter, KeysAreIndependent) {
  LogLimiter limiter(60s);
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0));
  EXPECT_EQ(limiter.admit("bus2", "bus2: timeout", k_t0 + 1s), "bus2: timeout");
  EXPECT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + 2s));
}

TEST(LogLimiter, ClearReportsTheSuppressedCountAndForgets) {
  LogLimiter limiter(60s);
  EXPECT_EQ(limiter.clear("bus1"), std::nullopt);  // never logged
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0));
  EXPECT_EQ(limiter.clear("bus1"), 0u);
  ASSERT_TRUE(limiter.admit("bus1", "bus1: timeout", k_t0 + 1s));  // forgotten: logged again
  ASSERT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + 2s));
  ASSERT_FALSE(limiter.admit("bus1", "bus1: timeout", k_t0 + 3s));
  EXPECT_EQ(limiter.clear("bus1"), 2u);
  EXPECT_EQ(limiter.clear("bus1"), std::nullopt);
}

}  // namespace
}  // namespace tracermon::core
