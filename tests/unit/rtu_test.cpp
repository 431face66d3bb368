// RTU framing: CRC, frame lengths and finding our reply in what the bus hands back (noise,
// our own echo, other slaves, bad CRC, truncation).

#include "protocol/rtu.hpp"

#include <gtest/gtest.h>

#include "protocol/rtu_matcher.hpp"
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
  // Cut after the id: as like our echo as our reply, but a reply that stopped all the same.
  Fixture g;
  EXPECT_FALSE(g.matcher.feed(hex("01")));
  EXPECT_TRUE(g.matcher.broken_frame_seen());
  EXPECT_NE(g.matcher.failure(1).message.find("truncated"), std::string::npos);
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

// --- late replies, another master, timing, what is counted --------------------------------

namespace {

// Requests of the same shape (FC 0x04, one register) that a late reply could be taken for.
const Bytes k_read_a = encode_rtu(1, hex("04 31 04 00 01"));  // 0x3104 x1
const Bytes k_read_b = encode_rtu(1, hex("04 31 05 00 01"));  // 0x3105 x1
const Bytes k_read_c = encode_rtu(1, hex("04 31 06 00 01"));  // 0x3106 x1
const Bytes k_reply_a = encode_rtu(1, hex("04 02 00 AA"));
const Bytes k_reply_b = encode_rtu(1, hex("04 02 00 BB"));
const Bytes k_reply_c = encode_rtu(1, hex("04 02 00 CC"));

std::vector<EarlierRequest> earlier(std::initializer_list<Bytes> frames) {
  std::vector<EarlierRequest> out;
  for (const auto& f : frames)
    out.push_back({f, 4});
  return out;
}

}  // namespace

TEST(RtuMatcher, ALateReplyToAnEarlierRequestIsNeverTakenForOurs) {
  // 0x3104 gave up; its reply arrives while we wait for 0x3105: same unit, function and size.
  RtuReplyMatcher m(k_read_b, 4, earlier({k_read_a}));
  EXPECT_FALSE(m.feed(k_reply_a));
  EXPECT_EQ(m.census().late_replies, 1u);
  EXPECT_EQ(m.answered(), std::vector<std::size_t>{0});
  EXPECT_EQ(m.failure(k_reply_a.size()).kind, ErrorKind::BadReply);
  auto both = cat({k_reply_a, k_reply_b});
  auto match = m.feed(both);
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pdu, hex("04 02 00 BB"));
  EXPECT_FALSE(match->maybe_earlier);
  EXPECT_EQ(match->end, both.size());
}

TEST(RtuMatcher, TheOldestEarlierRequestClaimsFirstAsASlaveAnswersInOrder) {
  RtuReplyMatcher m(k_read_c, 4, earlier({k_read_a, k_read_b}));
  auto match = m.feed(cat({k_reply_a, k_reply_b, k_reply_c}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pdu, hex("04 02 00 CC"));
  EXPECT_EQ(m.answered(), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(m.census().late_replies, 2u);
}

TEST(RtuMatcher, AnIdenticalEarlierRequestLendsItsReplyButOursMayStillCome) {
  // A retry: the late reply to the first try holds exactly the registers we ask for again.
  RtuReplyMatcher m(k_read_a, 4, earlier({k_read_a}));
  auto match = m.feed(k_reply_a);
  ASSERT_TRUE(match.has_value());
  EXPECT_TRUE(match->maybe_earlier);
  EXPECT_EQ(m.answered(), std::vector<std::size_t>{0});
}

TEST(RtuMatcher, AnExceptionToAnEarlierRequestIsNotOurs) {
  // A late "illegal address" would otherwise mark a register we asked for as missing.
  RtuReplyMatcher m(k_read_b, 4, earlier({encode_rtu(1, hex("04 33 1B 00 01"))}));
  auto match = m.feed(cat({encode_rtu(1, hex("84 02")), k_reply_b}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pdu, hex("04 02 00 BB"));
  // Earlier requests of another unit or function do not claim it.
  RtuReplyMatcher n(k_read_b, 4, earlier({encode_rtu(2, hex("04 31 04 00 01"))}));
  auto exception = n.feed(encode_rtu(1, hex("84 02")));
  ASSERT_TRUE(exception.has_value());
  EXPECT_EQ(exception->pdu, hex("84 02"));
}

TEST(RtuMatcher, AnotherMastersRequestAndItsReplyAreSkipped) {
  // An MT50 asks the same controller for a register of the same size just before our reply.
  auto theirs = encode_rtu(1, hex("04 31 00 00 01"));
  auto their_reply = encode_rtu(1, hex("04 02 12 34"));
  RtuReplyMatcher m(k_read_b, 4);
  auto match = m.feed(cat({theirs, their_reply, k_reply_b}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pdu, hex("04 02 00 BB"));
  EXPECT_EQ(m.census().other_master, 2u);
  RtuReplyMatcher only(k_read_b, 4);
  EXPECT_FALSE(only.feed(cat({theirs, their_reply})));
  EXPECT_EQ(only.failure(16).kind, ErrorKind::WrongUnit);
}

TEST(RtuMatcher, AFrameCompleteBeforeOurRequestCouldBeAnsweredIsNotOurs) {
  RtuReplyMatcher m(k_read_b, 4);
  EXPECT_FALSE(m.feed(k_reply_a, k_reply_a.size()));
  EXPECT_EQ(m.census().late_replies, 1u);
  auto match = m.feed(cat({k_reply_a, k_reply_b}), k_reply_a.size());
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->pdu, hex("04 02 00 BB"));
}

TEST(RtuMatcher, AByteCountThatDisagreesWithTheFrameIsSaidSo) {
  // The count says 4 data bytes, two were sent, and the CRC covers what was sent.
  auto lying = encode_rtu(1, hex("04 04 00 AA"));
  RtuReplyMatcher m(k_read_b, 4);
  EXPECT_FALSE(m.feed(lying));
  EXPECT_TRUE(m.broken_frame_seen());
  auto e = m.failure(lying.size());
  EXPECT_EQ(e.kind, ErrorKind::BadReply);
  EXPECT_NE(e.message.find("byte count (4)"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("2 data bytes"), std::string::npos) << e.message;
}

TEST(RtuMatcher, ABrokenFrameIsOursUnlessAnEarlierRequestMayOwnIt) {
  auto bad = k_reply_b;
  bad.back() ^= 0x55;
  RtuReplyMatcher m(k_read_b, 4);
  EXPECT_FALSE(m.feed(bad));
  EXPECT_TRUE(m.broken_frame_seen());
  EXPECT_TRUE(m.answered_badly());
  EXPECT_EQ(m.census().bad_frames, 1u);
  RtuReplyMatcher n(k_read_b, 4, earlier({k_read_a}));
  EXPECT_FALSE(n.feed(bad));
  EXPECT_FALSE(n.answered_badly());
}

TEST(RtuMatcher, CountsEchoesAndNoiseEvenWhenTheReplyIsFound) {
  RtuReplyMatcher m(k_read_b, 4);
  auto match = m.feed(cat({k_read_b, hex("55 AA 13"), k_reply_b}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(m.census().echoes, 1u);
  EXPECT_EQ(m.census().noise_bytes, 3u);
}

TEST(RtuMatcher, DrainingBetweenRequestsSettlesEarlierRequests) {
  RtuReplyMatcher drain({}, 0, earlier({k_read_a, k_read_b}));
  EXPECT_FALSE(drain.feed(cat({k_reply_a, hex("00")})));
  EXPECT_EQ(drain.answered(), std::vector<std::size_t>{0});
  EXPECT_EQ(drain.census().late_replies, 1u);
  EXPECT_EQ(drain.census().noise_bytes, 1u);
}
