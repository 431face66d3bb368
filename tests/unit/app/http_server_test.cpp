// The HTTP listener against slow, idle, oversized and too many clients (issue 12, items 5, 6, 7,
// 10), over loopback sockets. Deadlines are generous: they wait for an event, never time one.

#include "web/http_server.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <functional>
#include <future>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/control_service.hpp"
#include "core/unique_fd.hpp"
#include "model/live_state.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::web {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

constexpr auto k_generous = 20s;

// Polls `condition` until it holds or the generous deadline passes.
bool eventually(const std::function<bool()>& condition) {
  for (auto deadline = std::chrono::steady_clock::now() + k_generous;
       std::chrono::steady_clock::now() < deadline;) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);  // the polling interval, not a synchronisation
  }
  return condition();
}

// A raw loopback client: what it sends is exactly what the test writes.
class Client {
 public:
  explicit Client(int port) : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m_connected =
        ::connect(m_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }

  [[nodiscard]] bool connected() const { return m_connected; }

  bool send(const std::string& data) {
    return ::send(m_fd.get(), data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }

  // Reads until `done(received)` holds, the server closes, or the deadline.
  std::string read_until(const std::function<bool(const std::string&)>& done,
                         std::chrono::milliseconds timeout = k_generous) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(m_received)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{m_fd.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[4096];
      auto n = ::recv(m_fd.get(), chunk, sizeof(chunk), 0);
      if (n <= 0) {
        m_closed = true;
        break;
      }
      m_received.append(chunk, static_cast<std::size_t>(n));
    }
    return m_received;
  }

  // One whole answer with a Content-Length body; it is taken out of what was received.
  std::string answer() {
    auto complete = [](const std::string& r) {
      auto end = r.find("\r\n\r\n");
      if (end == std::string::npos) return false;
      auto at = r.find("Content-Length: ");
      if (at == std::string::npos || at > end) return true;
      return r.size() >= end + 4 + std::stoul(r.substr(at + 16));
    };
    read_until(complete);
    if (!complete(m_received)) return std::exchange(m_received, {});
    auto end = m_received.find("\r\n\r\n");
    auto at = m_received.find("Content-Length: ");
    auto length = at != std::string::npos && at < end ? std::stoul(m_received.substr(at + 16)) : 0;
    auto whole = m_received.substr(0, end + 4 + length);
    m_received.erase(0, whole.size());
    return whole;
  }

  // True once the server closed the connection (read until then).
  bool closed_by_server(std::chrono::milliseconds timeout = k_generous) {
    read_until([this](const std::string&) { return m_closed; }, timeout);
    return m_closed;
  }

 private:
  core::UniqueFd m_fd;
  bool m_connected = false;
  bool m_closed = false;
  std::string m_received;
};

std::string get(const std::string& path, const std::string& extra = "Connection: close\r\n") {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

int status_of(const std::string& answer) {
  return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0;
}

std::string body_of(const std::string& answer) {
  auto end = answer.find("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr(end + 4);
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    view.map = &test::map();
    view.live = &live;
    view.buses = [] { return std::vector<model::BusStatus>{}; };
    limits.api_workers = 2;
    limits.stream_workers = 1;
    limits.head_timeout = 60s;  // no slow client below is cut off by time unless a test says
    limits.idle_timeout = 60s;
    limits.write_timeout = 60s;
  }

  HttpServer& start() {
    server = std::make_unique<HttpServer>(view, limits);
    server->start("127.0.0.1", 0);
    return *server;
  }

  std::string healthz() {
    Client client(server->port());
    client.send(get("/healthz"));
    return client.answer();
  }

  model::LiveState live;
  DaemonView view;
  HttpLimits limits;
  std::unique_ptr<HttpServer> server;
};

TEST_F(HttpServerTest, AnswersAndKeepsTheConnectionAlive) {
  start();
  Client client(server->port());
  // Two requests in one write (pipelined), then a third later on the same connection.
  client.send(get("/healthz", "") + get("/no/such", ""));
  auto first = client.answer();
  EXPECT_THAT(first, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(body_of(first), "ok\n");
  EXPECT_EQ(status_of(client.answer()), 404);
  client.send(get("/healthz"));
  EXPECT_EQ(status_of(client.answer()), 200);
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, SlowHeadsDoNotTakeTheWorkers) {
  start();
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->send("GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: 1\r\n");
  }
  // Twice the workers are held by slow clients; the API still answers.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(status_of(healthz()), 200);
  // A slow client that finishes its head is answered too.
  slow.front()->send("\r\n");
  EXPECT_EQ(status_of(slow.front()->answer()), 200);
}

TEST_F(HttpServerTest, AHeadNotCompleteInTimeIs408AndClosed) {
  limits.head_timeout = 200ms;
  start();
  Client slow(server->port());
  slow.send("GET /healthz HTTP/1.1\r\nHost: slow\r\n");
  EXPECT_TRUE(slow.closed_by_server());
  auto answer = slow.read_until([](const std::string&) { return true; });
  EXPECT_EQ(status_of(answer), 408) << answer;
  EXPECT_THAT(nlohmann::json::parse(body_of(answer))["error"].get<std::string>(),
              HasSubstr("not complete"));
}

TEST_F(HttpServerTest, AnIdleKeptAliveConnectionIsClosed) {
  limits.idle_timeout = 200ms;
  start();
  Client client(server->port());
  client.send(get("/healthz", ""));
  EXPECT_EQ(status_of(client.answer()), 200);
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreRefusedWith503) {
  limits.max_connections = 4;
  start();
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 4; ++i)
    idle.push_back(std::make_unique<Client>(server->port()));
  // Only once the loop counted all four is the fifth over the limit: wait for it.
  ASSERT_TRUE(eventually([this] { return server->counters().open == 4; }));
  Client extra(server->port());
  extra.send(get("/healthz"));
  auto answer = extra.answer();
  EXPECT_EQ(status_of(answer), 503) << answer;
  EXPECT_THAT(answer, HasSubstr("Retry-After:"));
  EXPECT_THAT(body_of(answer), HasSubstr("too many connections (at most 4)"));
  EXPECT_EQ(server->counters().refused_busy, 1U);
  idle.clear();
  EXPECT_TRUE(eventually([this] { return status_of(healthz()) == 200; }));
}

TEST_F(HttpServerTest, ABodyIsRefusedBeforeItIsSent) {
  start();
  Client client(server->port());
  client.send("POST /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n");
  auto answer = client.answer();
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, OversizedHeadsAreRefused) {
  start();
  Client flood(server->port());
  flood.send("GET /healthz HTTP/1.1\r\n");
  std::string lines;
  for (int i = 0; i < 200; ++i)
    lines += "X-Header-" + std::to_string(i) + ": value\r\n";
  flood.send(lines);
  EXPECT_EQ(status_of(flood.answer()), 431);
  Client long_line(server->port());
  long_line.send("GET /" + std::string(20'000, 'a'));
  EXPECT_EQ(status_of(long_line.answer()), 414);
}

TEST_F(HttpServerTest, NotFoundIsJsonWhateverThePath) {
  start();
  Client client(server->port());
  client.send(get("/a%22,%22injected%22:%22x"));
  auto answer = client.answer();
  EXPECT_EQ(status_of(answer), 404);
  auto body = nlohmann::json::parse(body_of(answer));
  EXPECT_EQ(body, nlohmann::json({{"error", "no such path: /a\",\"injected\":\"x"}}));
}

TEST_F(HttpServerTest, RangesAreIgnored) {
  start();
  Client client(server->port());
  client.send(get("/healthz", "Range: bytes=0-0,0-0,0-0\r\nConnection: close\r\n"));
  auto answer = client.answer();
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_EQ(body_of(answer), "ok\n");
}

TEST_F(HttpServerTest, EventStreamsBeyondTheirThreadsAre503AndTheApiAnswers) {
  start();
  Client stream(server->port());
  stream.send(get("/api/v1/events", ""));
  auto hello = stream.read_until(
      [](const std::string& r) { return r.find("retry: 3000") != std::string::npos; });
  EXPECT_THAT(hello, StartsWith("HTTP/1.1 200"));
  Client second(server->port());
  second.send(get("/api/v1/events"));
  auto refused = second.answer();
  EXPECT_EQ(status_of(refused), 503) << refused;
  EXPECT_THAT(body_of(refused), HasSubstr("/api/v1/latest"));
  EXPECT_EQ(status_of(healthz()), 200);
  server->publish({"device", "{\"device\":\"east\"}"});
  auto event = stream.read_until(
      [](const std::string& r) { return r.find("{\"device\":\"east\"}") != std::string::npos; });
  EXPECT_THAT(event, HasSubstr("event: device"));
}

TEST_F(HttpServerTest, StopNeverWaitsForAClient) {
  start();
  Client stream(server->port());
  stream.send(get("/api/v1/events", ""));
  stream.read_until(
      [](const std::string& r) { return r.find("retry: 3000") != std::string::npos; });
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<Client>(server->port()));
    slow.back()->send("GET /healthz HTTP/1.1\r\nHost: slow\r\n");
  }
  Client kept(server->port());
  kept.send(get("/healthz", ""));
  EXPECT_EQ(status_of(kept.answer()), 200);
  // Every timeout above is a minute: stop() must not wait for any of them.
  auto stopped = std::async(std::launch::async, [this] { server->stop(); });
  ASSERT_EQ(stopped.wait_for(k_generous), std::future_status::ready);
  EXPECT_TRUE(stream.closed_by_server());
  EXPECT_TRUE(kept.closed_by_server());
  for (auto& client : slow)
    EXPECT_TRUE(client->closed_by_server());
}

TEST_F(HttpServerTest, ASecondServerOnThePortSaysWhoHoldsIt) {
  start();
  HttpServer second(view, limits);
  try {
    second.start("127.0.0.1", server->port());
    FAIL() << "a second server listened on the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(server->port())));
    EXPECT_THAT(e.what(), HasSubstr("address in use"));
    EXPECT_THAT(e.what(), HasSubstr("pid " + std::to_string(::getpid())));
  }
  EXPECT_EQ(status_of(healthz()), 200);
}

std::string post(const std::string& path, const std::string& body,
                 const std::string& extra = "Connection: close\r\n") {
  return "POST " + path + " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

TEST_F(HttpServerTest, ControlPostsTakeABodyWithinTheLimit) {
  limits.max_body = 64;
  start();
  // Control is off: the body is read and the answer is the JSON 404, not a 413.
  Client client(server->port());
  const std::string body = R"({"device": "east", "state": "on"})";
  // Sent in two pieces, then a pipelined GET on the same connection.
  auto request = post("/api/v1/control/load", body, "");
  client.send(request.substr(0, request.size() - 10));
  client.send(request.substr(request.size() - 10) + get("/healthz"));
  auto answer = client.answer();
  EXPECT_EQ(status_of(answer), 404) << answer;
  EXPECT_THAT(body_of(answer), HasSubstr("[control] enabled = true"));
  EXPECT_EQ(status_of(client.answer()), 200);

  Client big(server->port());
  big.send(post("/api/v1/control/set", std::string(65, ' ')));
  auto refused = big.answer();
  EXPECT_EQ(status_of(refused), 413) << refused;
  EXPECT_THAT(body_of(refused), HasSubstr("larger than 64 bytes"));
  Client chunked(server->port());
  chunked.send(
      "POST /api/v1/control/set HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(status_of(chunked.answer()), 413);
  Client elsewhere(server->port());
  elsewhere.send(post("/api/v1/status", "{}"));
  EXPECT_EQ(status_of(elsewhere.answer()), 413);
}

// A bus that holds every job until released: a write that takes long.
class HeldAccess : public control::DeviceAccess {
 public:
  [[nodiscard]] std::vector<control::DeviceRef> devices() const override {
    return {{"east", 1, "bus1", true, "", 0, 0}};
  }
  core::Status run(const control::DeviceRef&, const control::BusJob&) override {
    ++entered;
    released.wait();
    return core::Error{core::ErrorKind::InvalidArgument, "held"};
  }
  std::atomic<int> entered{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
};

TEST_F(HttpServerTest, AWriteHoldsOneThreadAndTheApiAnswers) {
  HeldAccess access;
  control::ControlService service(protocol::SettingsCatalog::builtin(), access, nullptr);
  view.control = &service;
  view.control_token = "0123456789abcdef";
  limits.api_workers = 2;
  start();
  Client writer(server->port());
  writer.send(post("/api/v1/control/load", R"({"device": "east", "state": "on"})",
                   "Authorization: Bearer 0123456789abcdef\r\nConnection: close\r\n"));
  ASSERT_TRUE(eventually([&] { return access.entered == 1; }));
  // The write waits for its bus; the other thread answers everything else meanwhile.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(status_of(healthz()), 200);
  Client status(server->port());
  status.send(get("/api/v1/status"));
  EXPECT_EQ(status_of(status.answer()), 200);
  // A wrong token over the wire: 401 with its challenge, and no cookie either way.
  Client wrong(server->port());
  wrong.send(get("/api/v1/control", "Authorization: Bearer nope\r\nConnection: close\r\n"));
  auto refused = wrong.answer();
  EXPECT_EQ(status_of(refused), 401) << refused;
  EXPECT_THAT(refused, HasSubstr("WWW-Authenticate: Bearer"));
  EXPECT_THAT(refused, ::testing::Not(HasSubstr("Set-Cookie")));
  access.release.set_value();
  auto answer = writer.answer();
  EXPECT_EQ(status_of(answer), 503) << answer;  // the held bus "could not run it"
  EXPECT_THAT(body_of(answer), HasSubstr("held"));
}

}  // namespace
}  // namespace tracermon::web
