// TCP connection to a Modbus TCP server or a transparent RS-485 bridge. Connects lazily with
// the transaction's deadline, so a gateway that is down costs one timeout, not a hang.

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "transport/fd_stream.hpp"

namespace tracermon::transport {

namespace {

using core::Error;
using core::ErrorKind;

struct AddrInfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};

class TcpStream final : public FdStream {
 public:
  TcpStream(std::string host, std::uint16_t port, std::string label)
      : m_host(std::move(host)), m_port(port), m_label(std::move(label)) {}
  ~TcpStream() override { TcpStream::close(); }

  core::Status open(Deadline deadline) override {
    if (is_open()) return core::Ok{};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    auto service = std::to_string(m_port);
    int rc = ::getaddrinfo(m_host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
      return Error{ErrorKind::NoSuchPort, fmt::format("{}: cannot resolve host '{}': {}", m_label,
                                                      m_host, ::gai_strerror(rc))};
    }
    std::unique_ptr<addrinfo, AddrInfoDeleter> list(found);
    Error last{ErrorKind::ConnectFailed, m_label};
    for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
      auto status = connect_one(ai, deadline);
      if (status) return status;
      last = status.error();
    }
    return last;
  }

  void close() override {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

  [[nodiscard]] std::string describe() const override { return m_label; }

 private:
  core::Status connect_one(const addrinfo* ai, Deadline deadline) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return os_error(errno, "socket");
    m_fd = fd;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      int e = errno;
      close();
      return refused(e);
    }
    auto ready = wait(POLLOUT, deadline);
    if (!ready && ready.error().kind == ErrorKind::Timeout) {
      close();
      return Error{ErrorKind::ConnectFailed, fmt::format("{}: connect timed out", m_label)};
    }
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      close();
      return refused(error);
    }
    return core::Ok{};
  }

  Error refused(int error_number) const {
    return Error{ErrorKind::ConnectFailed,
                 fmt::format("{}: {}", m_label, std::strerror(error_number))};
  }

  std::string m_host;
  std::uint16_t m_port;
  std::string m_label;
};

}  // namespace

std::unique_ptr<ByteStream> make_tcp_stream(const PortSpec& port) {
  return std::make_unique<TcpStream>(port.host, port.tcp_port, port.to_string());
}

}  // namespace tracermon::transport
