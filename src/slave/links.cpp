#include "slave/links.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <termios.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/fd_write.hpp"
#include "protocol/mbap.hpp"
#include "slave/request_framer.hpp"

namespace tracermon::slave {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto k_poll_ms = 10;

Clock::duration ms(double v) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(v));
}

std::runtime_error os_failure(const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

// Waits until fd is readable or the timeout passes; false on stop or a dead fd.
bool wait_readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  return r > 0 && (p.revents & POLLIN) != 0;
}

bool write_fully(int fd, std::span<const std::uint8_t> bytes, const std::atomic<bool>& stop) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = core::write_no_sigpipe(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (stop) return false;
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, k_poll_ms);
    } else {
      return false;
    }
  }
  return true;
}

// Sends `bytes` as a serial line delivers them: one character every 10 bits at the baud,
// starting at `start`, in chunks of about a millisecond, each written when its last character
// would have arrived (never early). No wire time (byte_ms 0): all at once.
bool send_paced(int fd, std::span<const std::uint8_t> bytes, Clock::time_point start,
                double byte_ms, const std::atomic<bool>& stop) {
  std::size_t chunk = byte_ms > 0
                          ? std::max<std::size_t>(1, static_cast<std::size_t>(1.0 / byte_ms))
                          : std::max<std::size_t>(1, bytes.size());
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    auto part = bytes.subspan(i, std::min(chunk, bytes.size() - i));
    std::this_thread::sleep_until(start + ms(static_cast<double>(i + part.size()) * byte_ms));
    if (!write_fully(fd, part, stop)) return false;
  }
  return true;
}

// Waits until `until`, but gives up early when asked to stop.
bool wait_until(Clock::time_point until, const std::atomic<bool>& stop) {
  while (Clock::now() < until) {
    if (stop) return false;
    std::this_thread::sleep_until(std::min(until, Clock::now() + ms(k_poll_ms)));
  }
  return true;
}

// Serves RTU frames on fd until it closes, stop is set or an unplug is asked for: the pty and
// RTU-over-TCP links.
void serve_rtu_stream(RequestHandler& handler, int fd, const std::atomic<bool>& stop,
                      const std::function<bool(double)>& on_unplug,
                      const std::atomic<double>* unplug_requested = nullptr) {
  double byte_ms = handler.wire_ms(1);
  RtuRequestFramer framer(std::max(3.5 * byte_ms, 20.0));
  std::uint8_t buf[512];
  Clock::time_point first_byte{};
  while (!stop) {
    if (unplug_requested != nullptr && *unplug_requested > 0) return;
    if (wait_readable(fd, k_poll_ms)) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EIO)) return;
      if (n > 0) {
        auto now = Clock::now();
        if (framer.resync_deadline() == std::nullopt) first_byte = now;
        framer.feed(std::span(buf, static_cast<std::size_t>(n)), now);
      }
    }
    while (auto frame = framer.next(Clock::now())) {
      auto arrived = Clock::now();
      auto reply = handler.on_rtu_frame(*frame);
      if (reply.unplug && on_unplug && on_unplug(reply.unplug_ms)) return;
      if (reply.bytes.empty()) continue;
      // The request took its wire time to arrive on a real line; the reply follows after the
      // controller's turnaround.
      auto request_end = std::max(arrived, first_byte + ms(handler.wire_ms(frame->size())));
      auto start = request_end + ms(reply.delay_ms);
      if (!wait_until(start, stop)) return;
      if (!send_paced(fd, reply.bytes, start, byte_ms, stop)) {
        if (!stop) handler.note_undelivered();  // the client went away (EPIPE, not SIGPIPE)
        return;
      }
      first_byte = Clock::now();
    }
  }
}

}  // namespace

// --- pty ------------------------------------------------------------------------------------

PtyLink::PtyLink(RequestHandler& handler, std::filesystem::path link, std::string log_name)
    : m_handler(handler), m_link(std::move(link)), m_log_name(std::move(log_name)) {
  std::error_code ec;
  auto status = std::filesystem::symlink_status(m_link, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_symlink(status)) {
    throw std::runtime_error(
        fmt::format("{} exists and is not a symlink: choose another --pty path", m_link.string()));
  }
  open_pty();
  m_thread = std::thread([this] { run(); });
}

PtyLink::~PtyLink() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  close_pty();
}

void PtyLink::open_pty() {
  core::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK));
  if (!master) throw os_failure("posix_openpt");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
    throw os_failure("grantpt/unlockpt");
  }
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) throw os_failure("ptsname");
  core::UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_NONBLOCK));
  if (!slave) throw os_failure(fmt::format("open {}", name));
  termios tio{};
  if (::tcgetattr(slave.get(), &tio) == 0) {
    ::cfmakeraw(&tio);
    ::cfsetspeed(&tio, B115200);
    ::tcsetattr(slave.get(), TCSANOW, &tio);
  }
  std::error_code ec;
  std::filesystem::remove(m_link, ec);  // a stale symlink from an earlier run
  std::filesystem::create_symlink(name, m_link, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("cannot create the symlink {}: {}", m_link.string(), ec.message()));
  }
  m_device = name;
  m_master = std::move(master);
  m_slave = std::move(slave);
}

void PtyLink::close_pty() {
  std::error_code ec;
  if (std::filesystem::is_symlink(m_link, ec)) std::filesystem::remove(m_link, ec);
  m_master.reset();
  m_slave.reset();
}

void PtyLink::unplug(double ms_off) {
  m_unplug_ms = std::max(1.0, ms_off);
}

std::string PtyLink::describe() const {
  return fmt::format("serial RTU on {} -> {}", m_link.string(), m_device);
}

void PtyLink::run() {
  auto pulled = [this](double off_ms) {
    m_unplug_ms = off_ms;
    return true;
  };
  while (!m_stop) {
    if (double off = m_unplug_ms.exchange(0); off > 0) {
      spdlog::info("{}: adapter unplugged for {:.0f} ms", m_log_name, off);
      close_pty();
      if (!wait_until(Clock::now() + ms(off), m_stop)) return;
      try {
        open_pty();
        spdlog::info("{}: adapter back: {}", m_log_name, describe());
      } catch (const std::exception& e) {
        spdlog::error("{}: cannot recreate the pty: {}", m_log_name, e.what());
        return;
      }
      continue;
    }
    serve_rtu_stream(m_handler, m_master.get(), m_stop, pulled, &m_unplug_ms);
    if (m_unplug_ms == 0 && !m_stop) {
      // The master side failed without an unplug: wait a little rather than spin.
      std::this_thread::sleep_for(ms(k_poll_ms));
    }
  }
}

// --- TCP ------------------------------------------------------------------------------------

TcpLink::TcpLink(RequestHandler& handler, const std::string& host, std::uint16_t port,
                 Framing framing, std::string log_name)
    : m_handler(handler), m_framing(framing), m_log_name(std::move(log_name)), m_host(host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  core::UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0));
  if (!fd) throw os_failure("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    throw os_failure(fmt::format("cannot listen on {}:{}", host, port));
  }
  if (::listen(fd.get(), 16) != 0) throw os_failure("listen");
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  m_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  m_listener = std::move(fd);
  m_thread = std::thread([this] { accept_loop(); });
}

TcpLink::~TcpLink() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  std::lock_guard lock(m_mutex);
  for (auto& t : m_clients)
    if (t.joinable()) t.join();
}

std::string TcpLink::describe() const {
  return fmt::format("{} on {}:{}", m_framing == Framing::ModbusTcp ? "Modbus TCP" : "RTU over TCP",
                     m_host, m_port);
}

void TcpLink::accept_loop() {
  while (!m_stop) {
    if (!wait_readable(m_listener.get(), k_poll_ms)) continue;
    core::UniqueFd client(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    int one = 1;
    ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(m_mutex);
    m_clients.emplace_back([this, fd = std::move(client)]() mutable {
      if (m_framing == Framing::ModbusTcp) {
        serve_modbus_tcp(std::move(fd));
      } else {
        serve_rtu(std::move(fd));
      }
    });
  }
}

void TcpLink::serve_rtu(core::UniqueFd fd) {
  serve_rtu_stream(m_handler, fd.get(), m_stop, nullptr);
}

void TcpLink::serve_modbus_tcp(core::UniqueFd fd) {
  protocol::Bytes buffer;
  std::uint8_t chunk[512];
  while (!m_stop) {
    if (!wait_readable(fd.get(), k_poll_ms)) continue;
    ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n <= 0) return;  // the client went away
    buffer.insert(buffer.end(), chunk, chunk + n);
    while (buffer.size() >= protocol::k_mbap_header_size) {
      auto header = protocol::decode_mbap_header(buffer);
      if (!header || header->pdu_size() == 0) {
        spdlog::warn("{}: bad MBAP header from a Modbus TCP client; closing it", m_log_name);
        return;
      }
      std::size_t total = protocol::k_mbap_header_size + header->pdu_size();
      if (buffer.size() < total) break;
      auto arrived = Clock::now();
      protocol::Bytes pdu(buffer.begin() + protocol::k_mbap_header_size,
                          buffer.begin() + static_cast<std::ptrdiff_t>(total));
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(total));
      auto reply = m_handler.on_tcp_request(header->unit, pdu);
      if (reply.pdu.empty()) continue;
      // Behind the gateway the request and the reply cross an RTU line.
      double line_ms = m_handler.wire_ms(pdu.size() + 3) + reply.delay_ms +
                       m_handler.wire_ms(reply.pdu.size() + 3);
      if (!wait_until(arrived + ms(line_ms), m_stop)) return;
      auto frame = protocol::encode_mbap(header->transaction, reply.unit, reply.pdu);
      if (!write_fully(fd.get(), frame, m_stop)) {
        if (!m_stop) m_handler.note_undelivered();
        return;
      }
    }
  }
}

}  // namespace tracermon::slave
