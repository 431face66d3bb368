// The slave side finds requests by length and CRC; silence only resynchronises.

#include <gtest/gtest.h>

#include "protocol/rtu.hpp"
#include "slave/request_framer.hpp"
#include "vectors.hpp"

using namespace tracermon::slave;
using tracermon::test::hex;
using Clock = RtuRequestFramer::Clock;

TEST(SlaveFramer, FrameSplitIntoPiecesIsOneRequest) {
  RtuRequestFramer f(20);
  auto t = Clock::now();
  auto frame = hex("01 04 31 00 00 10 FF 3A");
  f.feed(std::span(frame).first(3), t);
  EXPECT_FALSE(f.next(t));
  f.feed(std::span(frame).subspan(3), t + std::chrono::milliseconds(5));
  auto got = f.next(t + std::chrono::milliseconds(5));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame);
}

TEST(SlaveFramer, NoiseAndBadFramesAreSkipped) {
  RtuRequestFramer f(20);
  auto t = Clock::now();
  auto good = tracermon::protocol::encode_rtu(2, hex("03 90 00 00 0F"));
  auto bad = good;
  bad.back() ^= 0xFF;
  auto stream = hex("FF 00");
  stream.insert(stream.end(), bad.begin(), bad.end());
  stream.insert(stream.end(), good.begin(), good.end());
  f.feed(stream, t);
  auto got = f.next(t);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, good);
  EXPECT_FALSE(f.next(t));
  EXPECT_GT(f.dropped(), 0U);
}

TEST(SlaveFramer, WriteMultipleIsSizedByItsByteCount) {
  RtuRequestFramer f(20);
  auto t = Clock::now();
  auto frame = tracermon::protocol::encode_rtu(1, hex("10 90 13 00 03 06 30 35 13 00 0F 06"));
  f.feed(frame, t);
  auto got = f.next(t);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 15U);
}

TEST(SlaveFramer, IncompleteBytesGoOnlyAfterSilence) {
  RtuRequestFramer f(20);
  auto t = Clock::now();
  f.feed(hex("01 04 31"), t);
  EXPECT_FALSE(f.next(t + std::chrono::milliseconds(5)));
  EXPECT_TRUE(f.resync_deadline());
  EXPECT_FALSE(f.next(t + std::chrono::milliseconds(25)));
  EXPECT_FALSE(f.resync_deadline());  // thrown away: the next request starts clean
  auto frame = hex("01 04 31 00 00 10 FF 3A");
  f.feed(frame, t + std::chrono::milliseconds(30));
  EXPECT_TRUE(f.next(t + std::chrono::milliseconds(30)));
}
