#include "web/connection_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "web/request_head.hpp"

namespace tracermon::web {

namespace {

using std::chrono::milliseconds;

// After EMFILE (out of file descriptors) the listener stays readable: accepting pauses instead
// of spinning, and connections wait in the backlog meanwhile.
constexpr milliseconds k_accept_pause{100};
constexpr std::size_t k_accepts_per_turn = 64;

int poll_timeout(std::chrono::steady_clock::time_point now,
                 std::chrono::steady_clock::time_point until) {
  if (until <= now) return 0;
  auto wait = std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1);
  return static_cast<int>(std::min<milliseconds::rep>(wait.count(), 60'000));
}

}  // namespace

ConnectionLoop::ConnectionLoop(ListenSocket listener, const HttpLimits& limits, Handler handler)
    : m_listener(std::move(listener.fd)),
      m_wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      m_limits(limits),
      m_handler(std::move(handler)) {
  if (!m_wake) throw std::runtime_error(fmt::format("http: eventfd: {}", std::strerror(errno)));
}

ConnectionLoop::~ConnectionLoop() {
  stop();
}

void ConnectionLoop::start() {
  for (std::size_t i = 0; i < m_limits.api_workers; ++i)
    m_api.threads.emplace_back([this] { work(m_api, false); });
  for (std::size_t i = 0; i < m_limits.stream_workers; ++i)
    m_streams.threads.emplace_back([this] { work(m_streams, true); });
  m_thread = std::thread([this] { run(); });
}

void ConnectionLoop::wake_loop() const {
  std::uint64_t one = 1;
  // A full counter still wakes the loop: nothing to do when the write fails.
  [[maybe_unused]] auto written = ::write(m_wake.get(), &one, sizeof(one));
}

void ConnectionLoop::stop() {
  std::vector<ConnectionPtr> dropped;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping.exchange(true)) return;
    // Every client socket a worker holds: its reads and writes fail from now on, so no client
    // can keep a worker. The fd is still open: workers remove it from the set, under this
    // lock, before they close it.
    for (int fd : m_busy_fds)
      ::shutdown(fd, SHUT_RDWR);
    for (auto* pool : {&m_api, &m_streams}) {
      for (auto& conn : pool->queue) {
        m_busy_fds.erase(conn->fd.get());
        --m_busy;
        dropped.push_back(std::move(conn));
      }
      pool->queue.clear();
      pool->wake.notify_all();
    }
  }
  dropped.clear();
  wake_loop();
  if (m_thread.joinable()) m_thread.join();
  {
    std::unique_lock lock(m_mutex);
    if (!m_idle.wait_for(lock, m_limits.stop_timeout, [this] { return m_busy == 0; })) {
      spdlog::warn("http: {} request(s) still being answered after {} ms; waiting for them", m_busy,
                   m_limits.stop_timeout.count());
    }
  }
  for (auto* pool : {&m_api, &m_streams}) {
    for (auto& thread : pool->threads) {
      if (thread.joinable()) thread.join();
    }
  }
  std::lock_guard lock(m_mutex);
  m_returned.clear();
  m_open = 0;
}

ListenerCounters ConnectionLoop::counters() const {
  ListenerCounters c;
  c.accepted = m_accepted;
  c.refused_busy = m_refused_busy;
  c.refused_requests = m_refused_requests;
  c.timed_out = m_timed_out;
  c.open = m_open;
  return c;
}

std::size_t ConnectionLoop::served_connections() const {
  std::lock_guard lock(m_mutex);
  return m_connections.size() - m_lingering + m_busy;
}

void ConnectionLoop::run() {
  std::vector<pollfd> fds;
  while (!m_stopping) {
    auto now = Clock::now();
    auto next = now + std::chrono::minutes(1);
    // At the limit the listener is left alone for a while: a slot may free up before the
    // connections waiting in the backlog have to be refused.
    if (served_connections() < m_limits.max_connections) {
      m_full_since.reset();
    } else if (!m_full_since) {
      m_full_since = now;
    }
    auto accept_at = m_accept_paused_until;
    if (m_full_since) accept_at = std::max(accept_at, *m_full_since + m_limits.full_grace);
    bool accepting = now >= accept_at;
    if (!accepting) next = std::min(next, accept_at);
    fds.clear();
    fds.push_back({m_listener.get(), static_cast<short>(accepting ? POLLIN : 0), 0});
    fds.push_back({m_wake.get(), POLLIN, 0});
    for (const auto& conn : m_connections) {
      fds.push_back({conn->fd.get(), POLLIN, 0});
      next = std::min(next, conn->deadline);
    }
    int ready = ::poll(fds.data(), fds.size(), poll_timeout(now, next));
    if (ready < 0 && errno != EINTR) {
      spdlog::error("http: poll: {}", std::strerror(errno));
      break;
    }
    now = Clock::now();
    auto polled = m_connections.size();
    for (std::size_t i = 0; i < polled; ++i) {
      if (fds[i + 2].revents != 0) on_readable(m_connections[i], now);
    }
    for (auto& conn : m_connections) {
      if (conn && conn->deadline <= now) expire(conn, now);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto got = ::read(m_wake.get(), &count, sizeof(count));
      take_returned(now);
    }
    // Handed over and closed ones leave before accepting, so the count is exact.
    std::erase_if(m_connections, [](const ConnectionPtr& conn) { return !conn; });
    if ((fds[0].revents & POLLIN) != 0) accept_all(now);
    std::erase_if(m_connections, [](const ConnectionPtr& conn) { return !conn; });
    std::lock_guard lock(m_mutex);
    m_open = m_connections.size() + m_busy;
  }
  m_connections.clear();
  m_listener.reset();
}

void ConnectionLoop::accept_all(Clock::time_point now) {
  for (std::size_t i = 0; i < k_accepts_per_turn; ++i) {
    int fd = ::accept4(m_listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        spdlog::warn("http: cannot accept a connection: {}", std::strerror(errno));
        m_accept_paused_until = now + k_accept_pause;
      }
      return;  // EAGAIN: no more for now
    }
    ++m_accepted;
    auto conn = std::make_unique<Connection>(fd);
    conn->deadline = now + m_limits.head_timeout;
    bool full = served_connections() >= m_limits.max_connections;
    m_connections.push_back(std::move(conn));
    if (full) {
      ++m_refused_busy;
      refuse(m_connections.back(), 503,
             fmt::format("too many connections (at most {}); try again shortly",
                         m_limits.max_connections),
             now);
    }
  }
}

void ConnectionLoop::on_readable(ConnectionPtr& conn, Clock::time_point now) {
  char chunk[8192];
  if (conn->state == Connection::State::Lingering) {
    auto n = ::recv(conn->fd.get(), chunk, sizeof(chunk), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) conn->lingered += static_cast<std::size_t>(n);
    if (n <= 0 || conn->lingered > m_limits.linger_bytes) {
      --m_lingering;
      conn.reset();
    }
    return;
  }
  // A head and, for a control POST, its body (request_head.hpp refuses a bigger one).
  const auto most = m_limits.max_head + m_limits.max_body;
  auto room = most + 1 - std::min(conn->buffer.size(), most);
  auto n = ::recv(conn->fd.get(), chunk, std::min(room, sizeof(chunk)), 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // the client left (or the connection broke)
    conn.reset();
    return;
  }
  if (conn->buffer.empty() && conn->requests > 0) {
    conn->deadline = now + m_limits.head_timeout;  // a kept-alive connection starts a request
  }
  conn->buffer.append(chunk, static_cast<std::size_t>(n));
  examine(conn, now);
}

void ConnectionLoop::examine(ConnectionPtr& conn, Clock::time_point now) {
  auto check = check_request_head(conn->buffer, m_limits);
  switch (check.verdict) {
    case HeadCheck::Verdict::Incomplete:
      return;
    case HeadCheck::Verdict::Refused:
      ++m_refused_requests;
      refuse(conn, check.status, check.reason, now);
      return;
    case HeadCheck::Verdict::Complete:
      // A body (control POSTs only, at most max_body) is read here too, within the same
      // deadline as the head: a worker gets the whole request or none.
      if (conn->buffer.size() < check.length + check.body) return;
      conn->head_length = check.length + check.body;
      dispatch(std::move(conn), check.event_stream);
      return;
  }
}

void ConnectionLoop::refuse(ConnectionPtr& conn, int status, std::string_view reason,
                            Clock::time_point now) {
  spdlog::debug("http: refused a request: {} {}", status, reason);
  auto answer = refusal(status, reason);
  // A few hundred bytes into an empty socket buffer: one send, never a wait.
  [[maybe_unused]] auto sent =
      ::send(conn->fd.get(), answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(conn->fd.get(), SHUT_WR);
  std::string().swap(conn->buffer);  // the memory goes back now
  // Closing with unread input would reset the connection, and the client might never see the
  // answer: what it still sends is read and dropped for a while (bounded in time and bytes,
  // and in how many connections linger at once).
  if (m_lingering >= m_limits.max_connections) {
    conn.reset();
    return;
  }
  ++m_lingering;
  conn->state = Connection::State::Lingering;
  conn->deadline = now + m_limits.linger_timeout;
}

void ConnectionLoop::expire(ConnectionPtr& conn, Clock::time_point now) {
  if (conn->state == Connection::State::Lingering) {
    --m_lingering;
    conn.reset();
  } else if (conn->buffer.empty()) {
    conn.reset();  // idle, or opened and never used: nothing to answer
  } else {
    ++m_timed_out;
    refuse(conn, 408,
           fmt::format(
               "request not complete within {} s",
               std::chrono::duration_cast<std::chrono::seconds>(m_limits.head_timeout).count()),
           now);
  }
}

void ConnectionLoop::dispatch(ConnectionPtr conn, bool event_stream) {
  std::unique_lock lock(m_mutex);
  if (m_stopping) return;
  // An event stream holds its thread while it lasts: it goes to a stream thread while one is
  // free; otherwise an API thread answers it (503: too many streams).
  auto& pool = event_stream && m_streams.has_free_thread() ? m_streams : m_api;
  m_busy_fds.insert(conn->fd.get());
  ++m_busy;
  pool.queue.push_back(std::move(conn));
  pool.wake.notify_one();
}

void ConnectionLoop::take_returned(Clock::time_point now) {
  std::vector<ConnectionPtr> returned;
  {
    std::lock_guard lock(m_mutex);
    returned.swap(m_returned);
  }
  for (auto& conn : returned) {
    if (conn->buffer.empty()) {
      std::string().swap(conn->buffer);
      conn->deadline = now + m_limits.idle_timeout;
    } else {
      conn->deadline = now + m_limits.head_timeout;
    }
    m_connections.push_back(std::move(conn));
    // A pipelined request may be complete already.
    if (!m_connections.back()->buffer.empty()) examine(m_connections.back(), now);
  }
}

void ConnectionLoop::work(Pool& pool, bool stream_worker) {
  std::unique_lock lock(m_mutex);
  for (;;) {
    pool.wake.wait(lock, [&] { return m_stopping || !pool.queue.empty(); });
    if (m_stopping) return;
    auto conn = std::move(pool.queue.front());
    pool.queue.pop_front();
    ++pool.running;
    lock.unlock();
    bool keep = false;
    try {
      keep = m_handler(*conn, stream_worker);
    } catch (const std::exception& e) {
      spdlog::error("http: {}", e.what());
    }
    conn->buffer.erase(0, conn->head_length);
    conn->head_length = 0;
    ++conn->requests;
    lock.lock();
    --pool.running;
    m_busy_fds.erase(conn->fd.get());
    if (keep && !m_stopping) m_returned.push_back(std::move(conn));
    conn.reset();  // closes it, after it left m_busy_fds
    wake_loop();   // a connection to take back, or a free slot
    if (--m_busy == 0) m_idle.notify_all();
  }
}

}  // namespace tracermon::web
