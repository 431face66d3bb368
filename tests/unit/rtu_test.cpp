// RTU framing: CRC, frame lengths and finding our reply in what the bus hands back (noise,
// our own echo, other slaves, bad CRC, truncation).

#include "protocol/rtu.hpp"

#include <gtest/gtest.h>

#include "vectors.hpp"

using namespace tracermon::protocol;
using tracermon::core::ErrorKind;
using tracermon::test::hex;

TEST(Rtu, CrcOfVendorFrames) {
  // Requests printed in the vendor documents and seen in the capture.
  for (const char* frame :
       {"01 04 31 04 00 01 7E F7", "01 04 33 1A 00 01 1F 49", "01 03 90 00 00 0F 28 CE",
        "01 03 90 67 00 01 18 D5", "01 03 90 6B 00 02 98 D7", "01 03 90 13 00 03 D9 0E",
        "01 04 30 00 00 01 3E CA", "01 05 00 13 FF 00 7D FF",
        "01 10 90 3D 00 03 06 00 02 02 00 02 00 F3 9F",
        "01 10 90 1E 00 04 08 01 F4 00 0A 02 58 00 0A B3 6D", "01 10 90 1E 00 04 8C CC",
        "01 10 90 13 00 03 5C CD", "01 10 90 3D 00 03 3C C4", "01 10 90 65 00 01 3C D6",
        "01 04 33 1A 00 03 9E 88", "01 2B 0E 01 00 70 77", "01 2B 0E 02 00 70 87",
        "F8 45 00 01 01 F8 89 BE"}) {
    EXPECT_TRUE(crc_ok(hex(frame))) << frame;
  }
  EXPECT_FALSE(crc_ok(hex("01 10 90 3D 00 03 3C C5")));
  EXPECT_EQ(encode_rtu(1, hex("04 31 04 00 01")), hex("01 04 31 04 00 01 7E F7"));
}

TEST(Rtu, FrameLengthByFunctionCode) {
  EXPECT_EQ(rtu_frame_length(hex("01 04 02"), FrameDirection::Reply), 7u);
  EXPECT_EQ(rtu_frame_length(hex("01 04"), FrameDirection::Reply), 0u);  // needs the count
  EXPECT_EQ(rtu_frame_length(hex("01 84"), FrameDirection::Reply), 5u);
  EXPECT_EQ(rtu_frame_length(hex("01 04"), FrameDirection::Request), 8u);
  EXPECT_EQ(rtu_frame_length(hex("01 10 90 13 00 03 06"), FrameDirection::Request), 15u);
  EXPECT_EQ(rtu_frame_length(hex("01 10"), FrameDirection::Reply), 8u);
  EXPECT_EQ(rtu_frame_length(hex("01 05"), FrameDirection::Reply), 8u);
  EXPECT_FALSE(rtu_frame_length(hex("01 43"), FrameDirection::Reply).has_value());
  EXPECT_EQ(rtu_frame_length(hex("01 2B 0E 02 01 00 00 01 03"), FrameDirection::Reply), 0u);
  EXPECT_EQ(rtu_frame_length(hex("01 2B 0E 02 01 00 00 01 03 02 41 42"), FrameDirection::Reply),
            14u);
}

namespace {

struct Fixture {
  Bytes request = hex("01 04 31 04 00 01 7E F7");
  Bytes reply = hex("01 04 02 04 CE 3A 64");
  RtuReplyMatcher matcher{request, 4};
};

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST(RtuMatcher, FindsACleanReply) {
  Fixture f;
  auto m = f.matcher.feed(f.reply);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->pdu, hex("04 02 04 CE"));
  EXPECT_EQ(m->skipped, 0u);
}

TEST(RtuMatcher, WaitsForAReplyArrivingInPieces) {
  Fixture f;
  for (std::size_t n = 0; n < f.reply.size(); ++n) {
    EXPECT_FALSE(f.matcher.feed(Bytes(f.reply.begin(), f.reply.begin() + static_cast<long>(n))))
        << n;
  }
  EXPECT_TRUE(f.matcher.feed(f.reply).has_value());
}

TEST(RtuMatcher, SkipsOurOwnEcho) {
  Fixture f;
  auto bytes = cat({f.request, f.reply});
  EXPECT_FALSE(f.matcher.feed(Bytes(bytes.begin(), bytes.begin() + 5)));  // echo arriving
  auto m = f.matcher.feed(bytes);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->skipped, 8u);
  // Only the echo: the adapter talks to itself, nobody answered.
  Fixture only;
  EXPECT_FALSE(only.matcher.feed(only.request));
  EXPECT_EQ(only.matcher.failure(8).kind, ErrorKind::Echo);
}

TEST(RtuMatcher, SkipsNoiseBeforeTheReply) {
  Fixture f;
  // Noise, including bytes that look like the start of a long reply to us (01 04 FF ...).
  auto m = f.matcher.feed(cat({hex("00 FF 13 01 04 FF 37"), f.reply}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->pdu, hex("04 02 04 CE"));
  EXPECT_EQ(m->skipped, 7u);
}

TEST(RtuMatcher, SkipsAnotherSlavesFrame) {
  Fixture f;
  auto other = encode_rtu(2, hex("04 02 00 07"));
  auto m = f.matcher.feed(cat({other, f.reply}));
  ASSERT_TRUE(m.has_value());
  Fixture only;
  EXPECT_FALSE(only.matcher.feed(other));
  EXPECT_EQ(only.matcher.failure(other.size()).kind, ErrorKind::WrongUnit);
}

TEST(RtuMatcher, ReportsBadCrc) {
  Fixture f;
  auto bad = f.reply;
  bad.back() ^= 0xFF;
  EXPECT_FALSE(f.matcher.feed(bad));
  EXPECT_EQ(f.matcher.failure(bad.size()).kind, ErrorKind::Crc);
}

TEST(RtuMatcher, ReportsTruncatedReply) {
  Fixture f;
  EXPECT_FALSE(f.matcher.feed(hex("01 04 02 04")));
  auto e = f.matcher.failure(4);
  EXPECT_EQ(e.kind, ErrorKind::Timeout);
  EXPECT_NE(e.message.find("truncated"), std::string::npos);
  Fixture none;
  EXPECT_EQ(none.matcher.failure(0).message, "no reply");
}

TEST(RtuMatcher, TakesExceptionRepliesAndSkipsStaleOnes) {
  Fixture f;
  auto exception = encode_rtu(1, hex("84 02"));
  auto m = f.matcher.feed(exception);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->pdu, hex("84 02"));
  // A valid reply of another size (to an earlier request) is not ours.
  Fixture g;
  auto stale = encode_rtu(1, hex("04 04 00 01 00 02"));
  auto m2 = g.matcher.feed(cat({stale, g.reply}));
  ASSERT_TRUE(m2.has_value());
  EXPECT_EQ(m2->skipped, stale.size());
  Fixture h;
  EXPECT_FALSE(h.matcher.feed(stale));
  EXPECT_EQ(h.matcher.failure(stale.size()).kind, ErrorKind::BadReply);
}

TEST(RtuMatcher, ReportsGarbage) {
  Fixture f;
  EXPECT_FALSE(f.matcher.feed(hex("55 AA 55 AA 13")));
  EXPECT_EQ(f.matcher.failure(5).kind, ErrorKind::BadReply);
}
