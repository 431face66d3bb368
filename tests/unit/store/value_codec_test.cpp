#include "store/value_codec.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace tracermon::store {
namespace {

TEST(ValueCodec, ValuesAreKeptInHundredths) {
  EXPECT_EQ(to_centi(123456.78), 12345678);
  EXPECT_EQ(to_centi(-12.5), -1250);
  EXPECT_EQ(to_centi(1.234), 123);  // rounded to 0.01
  EXPECT_EQ(to_centi(-0.006), -1);
  EXPECT_EQ(from_centi(12345678), 123456.78);
  EXPECT_EQ(from_centi(-3), -0.03);
}

TEST(ValueCodec, ValuesThatCannotBeStoredAreRefused) {
  EXPECT_FALSE(to_centi(std::nan("")));
  EXPECT_FALSE(to_centi(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(to_centi(-1e11));
  EXPECT_TRUE(to_centi(4294967.29));  // the largest 32-bit register at scale 100
}

TEST(ValueCodec, SampleRoundTripWithRunsAndJumpsOfFieldIds) {
  std::vector<FieldValue> values = {{1, 0},
                                    {2, -1},
                                    {3, 1345},
                                    {10, 12345678},
                                    {11, -2147483648},
                                    {300, 1'000'000'000'000},
                                    {301, -1'000'000'000'000}};
  std::vector<std::uint8_t> blob;
  encode_sample(values, blob);
  std::vector<FieldValue> back;
  ASSERT_TRUE(decode_sample(blob, back));
  ASSERT_EQ(back.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(back[i].field, values[i].field);
    EXPECT_EQ(back[i].centi, values[i].centi);
  }
}

TEST(ValueCodec, ARunOfSmallValuesCostsOneByteEach) {
  std::vector<FieldValue> values;
  for (std::uint32_t field = 1; field <= 45; ++field) {
    values.push_back({field, field % 3});
  }
  std::vector<std::uint8_t> blob;
  encode_sample(values, blob);
  EXPECT_EQ(blob.size(), 45U);
}

TEST(ValueCodec, TruncatedBlobsAreRejected) {
  std::vector<FieldValue> values = {{5, 12345678}};
  std::vector<std::uint8_t> blob;
  encode_sample(values, blob);
  blob.pop_back();
  std::vector<FieldValue> back;
  EXPECT_FALSE(decode_sample(blob, back));
}

TEST(ValueCodec, RollupRoundTrip) {
  auto aggregate = [](std::uint32_t field, std::vector<std::int64_t> values) {
    FieldAggregate a;
    a.field = field;
    for (auto v : values) {
      a.add(v);
    }
    return a;
  };
  std::vector<FieldAggregate> fields = {
      aggregate(1, {5, 5, 5, 5}),           // constant
      aggregate(2, {-300, 200, -100, 50}),  // negative min, last inside the range
      aggregate(3, {12345678, 12345690, 12345699, 12345700}),
      aggregate(9, {7}),  // own count, id jump
      aggregate(10, {0, -2147483648, 2147483647, 1}),
  };
  std::vector<std::uint8_t> blob;
  encode_rollup(fields, blob);
  std::vector<FieldAggregate> back;
  ASSERT_TRUE(decode_rollup(blob, back));
  ASSERT_EQ(back.size(), fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(back[i].field, fields[i].field);
    EXPECT_EQ(back[i].count, fields[i].count);
    EXPECT_EQ(back[i].min, fields[i].min);
    EXPECT_EQ(back[i].max, fields[i].max);
    EXPECT_EQ(back[i].sum, fields[i].sum);
    EXPECT_EQ(back[i].last, fields[i].last);
  }
}

TEST(ValueCodec, MergingBucketsEqualsAggregatingTheirValues) {
  std::vector<std::int64_t> first = {4, -2, 9};
  std::vector<std::int64_t> second = {3, 11, 1};
  FieldAggregate a;
  FieldAggregate b;
  FieldAggregate all;
  for (auto v : first) {
    a.add(v);
    all.add(v);
  }
  for (auto v : second) {
    b.add(v);
    all.add(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(a.min, -2);
  EXPECT_EQ(a.max, 11);
  EXPECT_EQ(a.sum, 26);
  EXPECT_EQ(a.last, 1);
  EXPECT_EQ(all.sum, a.sum);
}

}  // namespace
}  // namespace tracermon::store
