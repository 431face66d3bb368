#include "web/listen_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>

#include <fmt/format.h>

#include "web/port_owner.hpp"

namespace tracermon::web {

namespace {

// getaddrinfo's list, freed on every path.
class AddressList {
 public:
  AddressList(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    auto service = std::to_string(port);
    m_status =
        ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &m_list);
  }
  ~AddressList() {
    if (m_list != nullptr) ::freeaddrinfo(m_list);
  }
  AddressList(const AddressList&) = delete;
  AddressList& operator=(const AddressList&) = delete;

  [[nodiscard]] int status() const { return m_status; }
  [[nodiscard]] const addrinfo* first() const { return m_list; }

 private:
  addrinfo* m_list = nullptr;
  int m_status = 0;
};

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return -1;
}

}  // namespace

ListenSocket listen_tcp(const std::string& host, int port) {
  auto where = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                   : fmt::format("{}:{}", host, port);
  AddressList addresses(host, port);
  if (addresses.status() != 0) {
    throw std::runtime_error(
        fmt::format("http: cannot listen on {}: {}", where, ::gai_strerror(addresses.status())));
  }
  int error = 0;
  for (const auto* ai = addresses.first(); ai != nullptr; ai = ai->ai_next) {
    core::UniqueFd fd(
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      error = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
      error = errno;
      continue;
    }
    ListenSocket result;
    result.port = bound_port(fd.get());
    result.fd = std::move(fd);
    if (result.port > 0) return result;
    error = errno;
  }
  if (error == EADDRINUSE) {
    auto owner = tcp_port_owner(port);
    throw std::runtime_error(fmt::format(
        "http: cannot listen on {}: address in use by {}", where,
        owner ? *owner
              : fmt::format("another process (`ss -ltnp 'sport = :{}'` shows which)", port)));
  }
  if (error == EADDRNOTAVAIL) {
    throw std::runtime_error(
        fmt::format("http: cannot listen on {}: not an address of this machine", where));
  }
  throw std::runtime_error(
      fmt::format("http: cannot listen on {}: {}", where, std::strerror(error)));
}

}  // namespace tracermon::web
