#pragma once
// The HTTP listener's connections: one poll() thread accepts them and reads request heads into
// a bounded buffer per connection with a deadline; only a complete, checked head is handed to
// a worker thread (request_head.hpp), and a kept-alive connection comes back to the loop while
// it waits for its next request. So a slow or idle client costs a socket and a buffer, never a
// thread; beyond `max_connections` a new connection is answered 503 and closed; and stop()
// shuts every client socket down instead of waiting for a client.
//
// Threads: the loop, `api_workers` for requests, `stream_workers` for event streams (a GET of
// /api/v1/events goes to them while one is free), so open dashboards never take the API's.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/unique_fd.hpp"
#include "web/http_limits.hpp"
#include "web/listen_socket.hpp"

namespace tracermon::web {

struct Connection {
  using Clock = std::chrono::steady_clock;
  enum class State { Reading, Lingering };

  explicit Connection(int socket) : fd(socket) {}

  core::UniqueFd fd;
  std::string buffer;  // received and not answered yet (at most max_head + max_body + 1 bytes)
  // For a worker: the checked head, and the body of a control POST, at the start of `buffer`.
  std::size_t head_length = 0;
  std::size_t requests = 0;  // answered on this connection
  State state = State::Reading;
  Clock::time_point deadline;  // in the loop: when it is given up
  std::size_t lingered = 0;    // Lingering: bytes read and dropped after a refusal
};

class ConnectionLoop {
 public:
  // Answers the request whose head is at the start of conn.buffer (conn.head_length bytes),
  // on a worker thread; returns whether the connection may wait for another request.
  // `stream_worker`: called on one of the event-stream threads.
  using Handler = std::function<bool(Connection& conn, bool stream_worker)>;

  ConnectionLoop(ListenSocket listener, const HttpLimits& limits, Handler handler);
  ~ConnectionLoop();
  ConnectionLoop(const ConnectionLoop&) = delete;
  ConnectionLoop& operator=(const ConnectionLoop&) = delete;

  void start();
  // Closes the listener, shuts every client socket down (their reads and writes fail at
  // once), and joins the threads; waits for handlers still computing an answer only.
  void stop();

  // Set by stop(): a handler's writes fail from then on.
  [[nodiscard]] const std::atomic<bool>& stopping() const { return m_stopping; }
  [[nodiscard]] ListenerCounters counters() const;

 private:
  using Clock = Connection::Clock;
  using ConnectionPtr = std::unique_ptr<Connection>;
  struct Pool {
    std::vector<std::thread> threads;
    std::deque<ConnectionPtr> queue;
    std::size_t running = 0;  // requests being answered
    std::condition_variable wake;
    [[nodiscard]] bool has_free_thread() const { return running + queue.size() < threads.size(); }
  };

  void run();
  void accept_all(Clock::time_point now);
  void on_readable(ConnectionPtr& conn, Clock::time_point now);
  void examine(ConnectionPtr& conn, Clock::time_point now);
  void refuse(ConnectionPtr& conn, int status, std::string_view reason, Clock::time_point now);
  void expire(ConnectionPtr& conn, Clock::time_point now);
  void dispatch(ConnectionPtr conn, bool event_stream);
  void take_returned(Clock::time_point now);
  void work(Pool& pool, bool stream_worker);
  void wake_loop() const;
  [[nodiscard]] std::size_t served_connections() const;  // loop thread only

  core::UniqueFd m_listener;
  core::UniqueFd m_wake;  // eventfd: workers hand connections back, stop() ends the loop
  HttpLimits m_limits;
  Handler m_handler;
  std::atomic<bool> m_stopping{false};
  std::thread m_thread;

  // Loop thread only.
  std::vector<ConnectionPtr> m_connections;
  std::size_t m_lingering = 0;
  Clock::time_point m_accept_paused_until{};
  std::optional<Clock::time_point> m_full_since;  // at the connection limit since

  // Shared with the workers.
  mutable std::mutex m_mutex;
  std::condition_variable m_idle;  // m_busy reached 0
  Pool m_api;
  Pool m_streams;
  std::set<int> m_busy_fds;  // sockets of queued or running requests: stop() shuts them down
  std::size_t m_busy = 0;
  std::vector<ConnectionPtr> m_returned;

  std::atomic<std::uint64_t> m_accepted{0};
  std::atomic<std::uint64_t> m_refused_busy{0};
  std::atomic<std::uint64_t> m_refused_requests{0};
  std::atomic<std::uint64_t> m_timed_out{0};
  std::atomic<std::size_t> m_open{0};
};

}  // namespace tracermon::web
