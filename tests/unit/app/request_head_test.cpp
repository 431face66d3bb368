// The listener's check of a request head (issue 12, item 6): complete or not, within the limits,
// without a body.

#include "web/request_head.hpp"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tracermon::web {
namespace {

using ::testing::HasSubstr;
using Verdict = HeadCheck::Verdict;

HttpLimits small_limits() {
  HttpLimits limits;
  limits.max_request_line = 64;
  limits.max_head = 256;
  limits.max_header_lines = 4;
  return limits;
}

HeadCheck check(const std::string& received) {
  return check_request_head(received, small_limits());
}

TEST(RequestHead, AControlPostTakesABodyWithinMaxBody) {
  auto limits = small_limits();
  limits.max_body = 100;
  auto head = std::string("POST /api/v1/control/set HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
  auto ok = check_request_head(head, limits);
  EXPECT_EQ(ok.verdict, Verdict::Complete);
  EXPECT_EQ(ok.length, head.size());
  EXPECT_EQ(ok.body, 100U);
  for (const char* length : {"101", "99999999999999999999999999", "0000000000000000000101"}) {
    auto big = check_request_head(
        std::string("POST /api/v1/control/set HTTP/1.1\r\nContent-Length: ") + length + "\r\n\r\n",
        limits);
    EXPECT_EQ(big.status, 413) << length;
    EXPECT_THAT(big.reason, HasSubstr("larger than 100 bytes")) << length;
  }
  EXPECT_EQ(
      check_request_head("POST /api/v1/control/set HTTP/1.1\r\nContent-Length: 007\r\n\r\n", limits)
          .body,
      7U);
  EXPECT_EQ(check_request_head("POST /api/v1/control/set HTTP/1.1\r\nContent-Length: 5\r\n"
                               "Content-Length: 6\r\n\r\n",
                               limits)
                .status,
            400);
  EXPECT_EQ(check_request_head("POST /api/v1/control/set HTTP/1.1\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n",
                               limits)
                .status,
            413);
}

TEST(RequestHead, CompleteAtTheBlankLine) {
  std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(check(head.substr(0, head.size() - 1)).verdict, Verdict::Incomplete);
  EXPECT_EQ(check("").verdict, Verdict::Incomplete);
  auto complete = check(head);
  EXPECT_EQ(complete.verdict, Verdict::Complete);
  EXPECT_EQ(complete.length, head.size());
  EXPECT_FALSE(complete.event_stream);
  // A pipelined second request does not belong to the first head.
  EXPECT_EQ(check(head + "GET / HTTP/1.1\r\n").length, head.size());
}

TEST(RequestHead, EventStreamsAreRecognised) {
  EXPECT_TRUE(check("GET /api/v1/events HTTP/1.1\r\n\r\n").event_stream);
  EXPECT_TRUE(check("GET /api/v1/events?x=1 HTTP/1.1\r\n\r\n").event_stream);
  EXPECT_FALSE(check("HEAD /api/v1/events HTTP/1.1\r\n\r\n").event_stream);
  EXPECT_FALSE(check("GET /api/v1/eventsx HTTP/1.1\r\n\r\n").event_stream);
}

TEST(RequestHead, ALongRequestLineIs414AsSoonAsItIsTooLong) {
  auto line = "GET /" + std::string(100, 'a');
  auto refused = check(line);  // no CRLF yet: refused without waiting for the rest
  EXPECT_EQ(refused.verdict, Verdict::Refused);
  EXPECT_EQ(refused.status, 414);
  EXPECT_THAT(refused.reason, HasSubstr("64 bytes"));
  EXPECT_EQ(check(line + " HTTP/1.1\r\n\r\n").status, 414);
}

TEST(RequestHead, ALongHeadIs431AsSoonAsItIsTooLong) {
  auto head = "GET / HTTP/1.1\r\nX: " + std::string(300, 'v');
  auto refused = check(head);
  EXPECT_EQ(refused.verdict, Verdict::Refused);
  EXPECT_EQ(refused.status, 431);
  EXPECT_THAT(refused.reason, HasSubstr("256 bytes"));
  EXPECT_EQ(check(head + "\r\n\r\n").status, 431);
}

TEST(RequestHead, TooManyHeaderLinesAre431EvenWhenShort) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 4; ++i)
    head += "a:b\r\n";
  EXPECT_EQ(check(head + "\r\n").verdict, Verdict::Complete);
  head += "a:b\r\n";
  EXPECT_EQ(check(head).status, 431);  // before the blank line
  EXPECT_EQ(check(head + "\r\n").status, 431);
  EXPECT_THAT(check(head).reason, HasSubstr("more than 4 header lines"));
}

TEST(RequestHead, ABodyIsRefusedFromTheHead) {
  for (const char* header : {"Content-Length: 300000000", "content-length:1",
                             "Transfer-Encoding: chunked", "TRANSFER-ENCODING: gzip"}) {
    auto refused = check(std::string("POST /api/v1/status HTTP/1.1\r\n") + header + "\r\n\r\n");
    EXPECT_EQ(refused.verdict, Verdict::Refused) << header;
    EXPECT_EQ(refused.status, 413) << header;
    EXPECT_THAT(refused.reason, HasSubstr("body not accepted")) << header;
  }
  EXPECT_EQ(check("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").verdict, Verdict::Complete);
  // A GET to a control path takes no body either.
  EXPECT_EQ(check("GET /api/v1/control/set HTTP/1.1\r\nContent-Length: 5\r\n\r\n").status, 413);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n").verdict, Verdict::Complete);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status, 400);
  EXPECT_EQ(check("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n").status, 400);
}

TEST(RequestHead, DefaultLimits) {
  HttpLimits limits;
  std::string line = "X-Fill: " + std::string(1000, 'f') + "\r\n";
  std::string head = "GET / HTTP/1.1\r\n";
  while (head.size() + line.size() + 2 <= 16 * 1024)
    head += line;
  EXPECT_EQ(check_request_head(head + "\r\n", limits).verdict, Verdict::Complete);
  EXPECT_EQ(check_request_head(head + line, limits).status, 431);
}

TEST(Refusal, IsACompleteAnswerThatClosesTheConnection) {
  auto answer = refusal(413, "say \"no\"");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0U) << answer;
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  auto body = answer.substr(answer.find("\r\n\r\n") + 4);
  EXPECT_THAT(answer, HasSubstr("Content-Length: " + std::to_string(body.size()) + "\r\n"));
  EXPECT_EQ(nlohmann::json::parse(body)["error"], "say \"no\"");
  EXPECT_THAT(refusal(503, "busy"), HasSubstr("Retry-After:"));
}

}  // namespace
}  // namespace tracermon::web
