// Request building and reply checking for the function codes a Tracer speaks.

#include "protocol/pdu.hpp"

#include <gtest/gtest.h>

#include "protocol/mbap.hpp"
#include "protocol/rtu.hpp"
#include "vectors.hpp"

using namespace tracermon::protocol;
using tracermon::core::ErrorKind;
using tracermon::test::hex;

TEST(Pdu, ReadRequestsPerTable) {
  EXPECT_EQ(make_read_request(Table::Input, 0x3104, 1), hex("04 31 04 00 01"));
  EXPECT_EQ(make_read_request(Table::Holding, 0x9000, 15), hex("03 90 00 00 0F"));
  EXPECT_EQ(make_read_request(Table::Coil, 0x0002, 1), hex("01 00 02 00 01"));
  EXPECT_EQ(make_read_request(Table::Discrete, 0x200C, 1), hex("02 20 0C 00 01"));
}

TEST(Pdu, ParsesRegisterReplies) {
  auto request = make_read_request(Table::Input, 0x3104, 1);
  auto words = parse_read_reply(request, hex("04 02 04 CE"));
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(words.value(), std::vector<std::uint16_t>{0x04CE});
}

TEST(Pdu, ParsesBitReplies) {
  auto request = make_read_request(Table::Coil, 0x0000, 10);
  auto bits = parse_read_reply(request, hex("01 02 05 02"));
  ASSERT_TRUE(bits.ok());
  EXPECT_EQ(bits.value(), (std::vector<std::uint16_t>{1, 0, 1, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(Pdu, RejectsRepliesThatDoNotFit) {
  auto request = make_read_request(Table::Input, 0x3100, 2);
  EXPECT_EQ(parse_read_reply(request, hex("04 02 00 01")).error().kind, ErrorKind::BadReply);
  EXPECT_EQ(parse_read_reply(request, hex("03 04 00 01 00 02")).error().kind, ErrorKind::BadReply);
  EXPECT_EQ(parse_read_reply(request, hex("04 05 00 01 00 02")).error().kind, ErrorKind::BadReply);
  auto e = parse_read_reply(request, hex("84 02"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::Exception);
  EXPECT_EQ(e.error().exception_code, 2);
  EXPECT_NE(e.error().message.find("illegal data address"), std::string::npos);
  EXPECT_EQ(parse_read_reply(request, hex("84 04")).error().message,
            "exception 4 (slave device failure)");
}

// The Tracer2215BN's identification in the capture: vendor, model and firmware, then serial.
TEST(Pdu, ParsesDeviceIdentificationFromCapture) {
  auto basic =
      hex("01 2B 0E 01 01 00 00 03 00 15 45 50 73 6F 6C 61 72 20 54 65 63 68 20 63 6F 2E 2C 20 4C "
          "74 64 01 0C 54 72 61 63 65 72 32 32 31 35 42 4E 02 0D 56 30 32 2E 30 35 2B 56 30 37 2E "
          "31 32 D7 D8");
  ASSERT_TRUE(crc_ok(basic));
  EXPECT_EQ(rtu_frame_length(basic, FrameDirection::Reply), basic.size());
  auto reply = parse_device_id_reply(Bytes(basic.begin() + 1, basic.end() - 2));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value().objects.at(0), "EPsolar Tech co., Ltd");
  EXPECT_EQ(reply.value().objects.at(1), "Tracer2215BN");
  EXPECT_EQ(reply.value().objects.at(2), "V02.05+V07.12");
  EXPECT_FALSE(reply.value().more_follows);

  auto regular =
      hex("01 2B 0E 02 01 00 00 01 03 10 30 30 30 32 32 30 31 33 30 31 32 30 30 30 34 35 7A 38");
  ASSERT_TRUE(crc_ok(regular));
  auto serial = parse_device_id_reply(Bytes(regular.begin() + 1, regular.end() - 2));
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(serial.value().objects.at(3), "0002201301200045");
  EXPECT_EQ(make_device_id_request(1, 0), hex("2B 0E 01 00"));
}

TEST(Pdu, RejectsMalformedDeviceIdentification) {
  EXPECT_EQ(parse_device_id_reply(hex("2B 0E 01 01 00 00 01 00 09 41")).error().kind,
            ErrorKind::BadReply);  // object longer than the reply
  EXPECT_EQ(parse_device_id_reply(hex("2B 0E 01 01 00 00 00 41")).error().kind,
            ErrorKind::BadReply);  // trailing byte
  EXPECT_EQ(parse_device_id_reply(hex("AB 01")).error().exception_code, 1);
}

TEST(Pdu, ExpectedReplySizes) {
  EXPECT_EQ(expected_reply_size(make_read_request(Table::Input, 0x3100, 16)), 34u);
  EXPECT_EQ(expected_reply_size(make_read_request(Table::Coil, 0, 9)), 4u);
  EXPECT_EQ(expected_reply_size(make_device_id_request(1, 0)), 0u);
}

TEST(Mbap, EncodesAndDecodesHeaders) {
  auto frame = encode_mbap(0x1234, 1, hex("04 31 00 00 02"));
  EXPECT_EQ(frame, hex("12 34 00 00 00 06 01 04 31 00 00 02"));
  auto header = decode_mbap_header(frame);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->transaction, 0x1234);
  EXPECT_EQ(header->pdu_size(), 5u);
  EXPECT_FALSE(decode_mbap_header(hex("12 34 00 01 00 06 01")).has_value());  // protocol 1
  EXPECT_FALSE(decode_mbap_header(hex("01 04 02 04 CE 3A 64")).has_value());  // an RTU frame
}
