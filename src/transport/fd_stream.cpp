#include "transport/fd_stream.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/fd_write.hpp"

namespace tracermon::transport {

using core::Error;
using core::ErrorKind;

Error os_error(int error_number, std::string_view what) {
  return Error{ErrorKind::Io, fmt::format("{}: {}", what, std::strerror(error_number))};
}

core::Status FdStream::wait(short events, Deadline deadline) const {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    pollfd p{m_fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) {
      if ((p.revents & (POLLERR | POLLNVAL)) != 0) {
        return Error{ErrorKind::Io, "the port reported an error (unplugged?)"};
      }
      return core::Ok{};
    }
    if (n == 0) return Error{ErrorKind::Timeout, ""};
    if (errno != EINTR) return os_error(errno, "poll");
  }
}

core::Status FdStream::write_all(std::span<const std::uint8_t> bytes, Deadline deadline) {
  if (m_fd < 0) return Error{ErrorKind::Io, "port is not open"};
  while (!bytes.empty()) {
    ssize_t n = core::write_no_sigpipe(m_fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto ready = wait(POLLOUT, deadline);
      if (!ready) return ready;
      continue;
    }
    return os_error(errno, "write");
  }
  return core::Ok{};
}

core::Status FdStream::read_some(Bytes& out, Deadline deadline) {
  if (m_fd < 0) return Error{ErrorKind::Io, "port is not open"};
  auto ready = wait(POLLIN, deadline);
  if (!ready) return ready;
  std::array<std::uint8_t, 512> buffer{};
  for (;;) {
    ssize_t n = ::read(m_fd, buffer.data(), buffer.size());
    if (n > 0) {
      out.insert(out.end(), buffer.begin(), buffer.begin() + n);
      return core::Ok{};
    }
    if (n == 0) return Error{ErrorKind::Io, "the other end closed the connection"};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Error{ErrorKind::Timeout, ""};
    return os_error(errno, "read");
  }
}

void FdStream::discard_input() {
  if (m_fd < 0) return;
  std::array<std::uint8_t, 512> buffer{};
  // Non-blocking reads until nothing is left (works for ttys, ptys and sockets alike).
  while (::read(m_fd, buffer.data(), buffer.size()) > 0) {
  }
}

}  // namespace tracermon::transport
