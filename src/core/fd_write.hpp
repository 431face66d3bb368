#pragma once
// write(2) for a descriptor that may be a socket: a peer that has gone away makes it fail with
// EPIPE instead of raising SIGPIPE, which would kill the whole process (a client closing its
// connection must not end the simulator, nor a gateway closing one end a read).

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace tracermon::core {

inline ssize_t write_no_sigpipe(int fd, const void* data, std::size_t size) {
  ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
  if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data, size);
  return n;
}

}  // namespace tracermon::core
