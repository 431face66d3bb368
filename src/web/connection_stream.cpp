#include "web/connection_stream.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace tracermon::web {

namespace {

void address_of(const sockaddr_storage& address, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    port = ntohs(in.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    port = ntohs(in6.sin6_port);
  }
  ip = text;
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, std::string_view head, const std::atomic<bool>& stopping,
                                   std::chrono::milliseconds write_timeout,
                                   std::optional<std::chrono::milliseconds> response_timeout)
    : m_fd(fd),
      m_head(head),
      m_stopping(stopping),
      m_write_timeout(write_timeout),
      m_response_timeout(response_timeout) {}

bool ConnectionStream::is_readable() const {
  return m_read < m_head.size();
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  auto n = std::min(size, m_head.size() - m_read);
  std::memcpy(ptr, m_head.data() + m_read, n);
  m_read += n;
  return static_cast<ssize_t>(n);
}

bool ConnectionStream::wait_writable() const {
  if (m_stopping) return false;
  auto wait = m_write_timeout;
  if (m_deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*m_deadline - Clock::now());
    wait = std::min(wait, left);
  }
  if (wait.count() <= 0) return false;
  pollfd p{m_fd, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&p, 1, static_cast<int>(wait.count()));
  } while (ready < 0 && errno == EINTR);
  // stop() shuts the socket down, which wakes this poll with POLLHUP or POLLERR.
  return ready == 1 && (p.revents & POLLOUT) != 0 && (p.revents & (POLLERR | POLLHUP)) == 0 &&
         !m_stopping;
}

bool ConnectionStream::is_writable() const {
  return !m_failed && wait_writable();
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (m_response_timeout && !m_deadline) m_deadline = Clock::now() + *m_response_timeout;
  std::size_t done = 0;
  while (!m_failed && done < size) {
    if (m_stopping || (m_deadline && Clock::now() >= *m_deadline)) {
      m_failed = true;
      break;
    }
    auto n = ::send(m_fd, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_writable()) m_failed = true;
    } else {
      m_failed = true;
    }
  }
  return m_failed ? -1 : static_cast<ssize_t>(size);
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    address_of(address, ip, port);
  }
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    address_of(address, ip, port);
  }
}

}  // namespace tracermon::web
