#include "sinks/influx_writer.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "sinks/fake_influx.hpp"

namespace tracermon::sinks {
namespace {

using sinks::test::Answer;
using sinks::test::FakeInflux;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

InfluxWriterOptions v1_options(const FakeInflux& server) {
  InfluxWriterOptions options;
  options.url = server.url();
  options.gzip = false;
  options.timeout = std::chrono::seconds(30);
  return options;
}

std::vector<std::string> items(std::initializer_list<std::string> lines) {
  return {lines};
}

std::string point(int i) {
  return "m,device=d" + std::to_string(i) + " v=" + std::to_string(i) + " " +
         std::to_string(1000 + i) + "\n";
}

TEST(InfluxWriter, V1PostsToWriteWithQueryAndBasicAuth) {
  FakeInflux server;
  auto options = v1_options(server);
  options.database = "my db&x";
  options.retention_policy = "one year";
  options.username = "grafana";
  options.password = "solar";
  options.precision = format::InfluxPrecision::Seconds;
  InfluxWriter writer(options);

  auto status = writer.write(items({"m v=1 1\n", "m v=2 2\n"}));
  ASSERT_TRUE(status.ok()) << status.error().describe();

  auto received = server.received();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].path, "/write");
  EXPECT_EQ(received[0].param("db"), "my db&x");  // survived URL encoding
  EXPECT_EQ(received[0].param("rp"), "one year");
  EXPECT_EQ(received[0].param("precision"), "s");
  EXPECT_EQ(received[0].header("Authorization"), "Basic Z3JhZmFuYTpzb2xhcg==");  // grafana:solar
  EXPECT_EQ(received[0].body, "m v=1 1\nm v=2 2\n");
  EXPECT_EQ(writer.endpoint(), server.url() + "/write?db=my%20db%26x&rp=one%20year&precision=s");
}

TEST(InfluxWriter, V1WithoutUserSendsNoAuthAndNoRetentionPolicy) {
  FakeInflux server;
  InfluxWriter writer(v1_options(server));
  ASSERT_TRUE(writer.write(items({"m v=1 1\n"})).ok());
  auto received = server.received();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].param("db"), "tracermon");
  EXPECT_EQ(received[0].param("precision"), "ns");
  EXPECT_EQ(received[0].params.count("rp"), 0U);
  EXPECT_EQ(received[0].headers.count("Authorization"), 0U);
}

TEST(InfluxWriter, V2PostsWithTokenOrgAndBucket) {
  FakeInflux server;
  auto options = v1_options(server);
  options.api = InfluxApi::V2;
  options.org = "home";
  options.bucket = "solar/raw";
  options.token = "s3cr3t==";
  options.precision = format::InfluxPrecision::Milliseconds;
  InfluxWriter writer(options);

  ASSERT_TRUE(writer.write(items({"m v=1 1\n"})).ok());
  auto received = server.received();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].path, "/api/v2/write");
  EXPECT_EQ(received[0].param("org"), "home");
  EXPECT_EQ(received[0].param("bucket"), "solar/raw");
  EXPECT_EQ(received[0].param("precision"), "ms");
  EXPECT_EQ(received[0].header("Authorization"), "Token s3cr3t==");
  EXPECT_THAT(writer.endpoint(), Not(HasSubstr("s3cr3t")));
}

TEST(InfluxWriter, EndpointHidesCredentialsInTheUrl) {
  InfluxWriterOptions options;
  options.url = "https://admin:hunter2@influx.example:8086/proxy/";
  InfluxWriter writer(options);
  EXPECT_EQ(writer.endpoint(), "https://influx.example:8086/proxy/write?db=tracermon&precision=ns");
}

TEST(InfluxWriter, GzipBodyDecodesToTheLines) {
  FakeInflux server;
  auto options = v1_options(server);
  options.gzip = true;
  InfluxWriter writer(options);
  std::vector<std::string> batch;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    batch.push_back(point(i));
    expected += point(i);
  }
  ASSERT_TRUE(writer.write(batch).ok());
  auto received = server.received();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].header("Content-Encoding"), "gzip");
  // cpp-httplib inflated it (a body that is not gzip would have been refused with 400).
  EXPECT_EQ(received[0].body, expected);
  EXPECT_LT(received[0].raw_length, expected.size() / 3);  // what crossed the wire: compressed
}

TEST(InfluxWriter, ServerRefusingGzipGetsPlainBodiesFromThenOn) {
  FakeInflux server([](const httplib::Request& request) {
    if (request.has_header("Content-Encoding")) return Answer{415, R"({"error":"no gzip"})"};
    return Answer{};
  });
  auto options = v1_options(server);
  options.gzip = true;
  InfluxWriter writer(options);

  ASSERT_TRUE(writer.write(items({point(1)})).ok());
  ASSERT_TRUE(writer.write(items({point(2)})).ok());
  auto received = server.received();
  ASSERT_EQ(received.size(), 3U);  // gzip refused, plain, plain
  EXPECT_EQ(received[0].status, 415);
  EXPECT_EQ(received[1].header("Content-Encoding"), "");
  EXPECT_EQ(received[1].body, point(1));
  EXPECT_EQ(received[2].header("Content-Encoding"), "");
  EXPECT_THAT(server.accepted_lines(), ElementsAre(point(1).substr(0, point(1).size() - 1),
                                                   point(2).substr(0, point(2).size() - 1)));
}

TEST(InfluxWriter, BadRequestAboutTheEncodingAlsoSwitchesToPlain) {
  FakeInflux server([](const httplib::Request& request) {
    if (request.has_header("Content-Encoding")) {
      return Answer{400, R"({"error":"unsupported Content-Encoding: gzip"})"};
    }
    return Answer{};
  });
  auto options = v1_options(server);
  options.gzip = true;
  InfluxWriter writer(options);
  auto status = writer.write(items({point(1)}));
  ASSERT_TRUE(status.ok()) << status.error().describe();
  auto p1 = point(1);
  EXPECT_THAT(server.accepted_lines(), ElementsAre(p1.substr(0, p1.size() - 1)));
}

TEST(InfluxWriter, NoContentIsOk) {
  FakeInflux server([](const httplib::Request&) { return Answer{204, ""}; });
  InfluxWriter writer(v1_options(server));
  EXPECT_TRUE(writer.write(items({point(1)})).ok());
  EXPECT_TRUE(writer.write({}).ok());  // nothing to send: no request
  EXPECT_EQ(server.received().size(), 1U);
}

TEST(InfluxWriter, BadDataIsRejectedWithTheServersMessage) {
  FakeInflux v1_server([](const httplib::Request&) {
    return Answer{400, R"({"error":"unable to parse 'm v=': missing field value"})"};
  });
  InfluxWriter v1(v1_options(v1_server));
  auto status = v1.write(items({"m v=\n"}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("400"));
  EXPECT_THAT(status.error().message, HasSubstr("unable to parse 'm v=': missing field value"));

  FakeInflux v2_server([](const httplib::Request&) {
    return Answer{422, R"({"code":"unprocessable entity","message":"points beyond retention"})"};
  });
  auto options = v1_options(v2_server);
  options.api = InfluxApi::V2;
  InfluxWriter v2(options);
  status = v2.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("422"));
  EXPECT_THAT(status.error().message, HasSubstr("points beyond retention"));
}

TEST(InfluxWriter, TooLargeBatchIsSplitUntilItFits) {
  constexpr std::size_t k_limit = 250;  // bytes: about ten points
  FakeInflux server([](const httplib::Request& request) {
    return request.body.size() > k_limit ? Answer{413, R"({"error":"Request Entity Too Large"})"}
                                         : Answer{};
  });
  InfluxWriter writer(v1_options(server));
  std::vector<std::string> batch;
  std::vector<std::string> expected;
  // An item of twenty lines (too large alone: split into lines), then single-line items.
  std::string many;
  for (int i = 0; i < 20; ++i) {
    many += point(i);
    expected.push_back(point(i));
  }
  batch.push_back(many);
  for (int i = 20; i < 40; ++i) {
    batch.push_back(point(i));
    expected.push_back(point(i));
  }
  for (auto& line : expected)
    line.pop_back();

  auto status = writer.write(batch);
  ASSERT_TRUE(status.ok()) << status.error().describe();
  EXPECT_EQ(server.accepted_lines(), expected);  // each once, in order
  for (const auto& r : server.received()) {
    if (r.status == 204) {
      EXPECT_LE(r.body.size(), k_limit);
    }
  }
}

TEST(InfluxWriter, ALineTooLargeEvenAloneIsRejected) {
  FakeInflux server([](const httplib::Request& request) {
    return request.body.size() > 40 ? Answer{413, ""} : Answer{};
  });
  InfluxWriter writer(v1_options(server));
  std::string huge = "m,device=d v=\"" + std::string(100, 'x') + "\" 1\n";
  auto status = writer.write(items({point(1), huge, point(2)}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("413"));
  // The lines that fit were still written.
  auto p1 = point(1);
  auto p2 = point(2);
  EXPECT_THAT(server.accepted_lines(),
              ElementsAre(p1.substr(0, p1.size() - 1), p2.substr(0, p2.size() - 1)));
}

TEST(InfluxWriter, ServerErrorsAndCredentialsAreRetryable) {
  FakeInflux server_error([](const httplib::Request&) {
    return Answer{500, R"({"error":"timeout waiting for the write lock"})"};
  });
  InfluxWriter writer(v1_options(server_error));
  auto status = writer.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("500"));
  EXPECT_THAT(status.error().message, HasSubstr("timeout waiting for the write lock"));

  FakeInflux unauthorized([](const httplib::Request&) {
    return Answer{401, R"({"error":"authorization failed"})"};
  });
  auto options = v1_options(unauthorized);
  options.username = "grafana";
  options.password = "wrong-password";
  InfluxWriter bad_login(options);
  status = bad_login.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("401"));
  EXPECT_THAT(status.error().message, HasSubstr("authorization failed"));
  EXPECT_THAT(status.error().message, Not(HasSubstr("wrong-password")));

  FakeInflux proxy([](const httplib::Request&) {
    return Answer{503, std::string(500, 'z')};  // not JSON, long: shortened
  });
  InfluxWriter behind_proxy(v1_options(proxy));
  status = behind_proxy.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().kind, core::ErrorKind::Rejected);
  EXPECT_THAT(status.error().message, HasSubstr("503"));
  EXPECT_THAT(status.error().message, HasSubstr(std::string(200, 'z')));
  EXPECT_THAT(status.error().message, Not(HasSubstr(std::string(201, 'z'))));
}

TEST(InfluxWriter, MissingDatabaseIsCreatedAndTheWriteRetried) {
  std::atomic<bool> created{false};
  FakeInflux server([&created](const httplib::Request& request) {
    if (request.path == "/query") {
      created = request.get_param_value("q") == "CREATE DATABASE \"sol\\\"ar\"";
      return Answer{200, R"({"results":[{"statement_id":0}]})"};
    }
    if (!created) return Answer{404, R"({"error":"database not found: \"sol\"ar\""})"};
    return Answer{};
  });
  auto options = v1_options(server);
  options.database = "sol\"ar";
  InfluxWriter writer(options);
  auto status = writer.write(items({point(1)}));
  ASSERT_TRUE(status.ok()) << status.error().describe();
  auto received = server.received();
  ASSERT_EQ(received.size(), 3U);
  EXPECT_EQ(received[1].path, "/query");
  EXPECT_TRUE(created);
  auto p1 = point(1);
  EXPECT_THAT(server.accepted_lines(), ElementsAre(p1.substr(0, p1.size() - 1)));
}

TEST(InfluxWriter, MissingDatabaseWithoutCreateIsRetryable) {
  FakeInflux server([](const httplib::Request&) {
    return Answer{404, R"({"error":"database not found: \"tracermon\""})"};
  });
  auto options = v1_options(server);
  options.create_database = false;
  InfluxWriter writer(options);
  auto status = writer.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::Io);
  EXPECT_THAT(status.error().message, HasSubstr("database not found"));
  EXPECT_EQ(server.received().size(), 1U);  // no CREATE DATABASE
}

TEST(InfluxWriter, ConnectionRefusedIsRetryable) {
  // A bound socket that does not listen: connecting to it is refused, and no other program
  // can take the port meanwhile.
  core::UniqueFd socket_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(socket_fd);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);

  InfluxWriterOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  InfluxWriter writer(options);
  auto status = writer.write(items({point(1)}));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, core::ErrorKind::ConnectFailed);
  EXPECT_THAT(status.error().message, HasSubstr(options.url));
}

}  // namespace
}  // namespace tracermon::sinks
