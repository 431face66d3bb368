#pragma once
// A scripted InfluxDB for the writer and sink tests: a cpp-httplib server on 127.0.0.1 that
// records every POST and answers what the test's responder says (default: 204). cpp-httplib
// (built with zlib) inflates gzip bodies itself, so `body` is always the decoded text and
// `raw_length` the bytes on the wire (Content-Length).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <httplib.h>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tracermon::sinks::test {

// Only a safety net so that a broken writer fails the test instead of hanging it.
constexpr auto k_give_up = std::chrono::seconds(60);

struct Answer {
  int status = 204;
  std::string body;  // JSON
};

struct Received {
  std::string path;
  std::string body;
  std::size_t raw_length = 0;
  httplib::Params params;
  httplib::Headers headers;
  int status = 0;  // what the server answered

  [[nodiscard]] std::string param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? std::string() : it->second;
  }
  [[nodiscard]] std::string header(const std::string& key) const {
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  }
};

class FakeInflux {
 public:
  using Responder = std::function<Answer(const httplib::Request&)>;

  // `port` 0 takes any free port; another binds exactly that one (a server coming back).
  explicit FakeInflux(Responder responder = {}, int port = 0) : m_responder(std::move(responder)) {
    // One request per connection: stop() then never waits for an idle keep-alive connection.
    m_server.set_keep_alive_max_count(1);
    m_server.Post(R"(.*)", [this](const httplib::Request& request, httplib::Response& response) {
      Answer answer = m_responder ? m_responder(request) : Answer{};
      response.status = answer.status;
      if (!answer.body.empty()) response.set_content(answer.body, "application/json");
      Received received{
          request.path,
          request.body,
          static_cast<std::size_t>(std::stoull(request.get_header_value("Content-Length").empty()
                                                   ? "0"
                                                   : request.get_header_value("Content-Length"))),
          request.params,
          request.headers,
          answer.status};
      std::lock_guard lock(m_mutex);
      m_received.push_back(std::move(received));
      m_cv.notify_all();
    });
    if (port == 0) {
      m_port = m_server.bind_to_any_port("127.0.0.1");
    } else if (m_server.bind_to_port("127.0.0.1", port)) {
      m_port = port;
    }
    if (m_port <= 0) throw std::runtime_error("fake influx: cannot bind");
    // The socket listens from here on: a request made before the thread runs waits in the
    // backlog.
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  ~FakeInflux() { stop(); }
  FakeInflux(const FakeInflux&) = delete;
  FakeInflux& operator=(const FakeInflux&) = delete;

  void stop() {
    if (!m_thread.joinable()) return;
    // stop() before the accept loop started would be lost and join() would hang.
    while (!m_server.is_running())
      std::this_thread::yield();
    m_server.stop();
    m_thread.join();
  }

  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  [[nodiscard]] std::vector<Received> received() const {
    std::lock_guard lock(m_mutex);
    return m_received;
  }

  // Waits until `done(received)` holds; false when the safety timeout passed first. `done`
  // runs under the lock: it must use its argument, not call back into the server.
  bool wait_for(const std::function<bool(const std::vector<Received>&)>& done) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, k_give_up, [&] { return done(m_received); });
  }

  // The lines of the writes the server accepted (2xx), in arrival order.
  [[nodiscard]] std::vector<std::string> accepted_lines() const { return lines_of(received()); }
  static std::vector<std::string> lines_of(const std::vector<Received>& received) {
    std::vector<std::string> lines;
    for (const auto& r : received) {
      if (r.status < 200 || r.status >= 300 || !r.path.ends_with("/write")) continue;
      std::size_t start = 0;
      while (start < r.body.size()) {
        auto end = r.body.find('\n', start);
        if (end == std::string::npos) end = r.body.size();
        lines.push_back(r.body.substr(start, end - start));
        start = end + 1;
      }
    }
    return lines;
  }

 private:
  Responder m_responder;
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<Received> m_received;
};

}  // namespace tracermon::sinks::test
