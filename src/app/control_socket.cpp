#include "app/control_socket.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/fd_write.hpp"

namespace tracermon::app {

namespace {

constexpr std::size_t k_max_request = std::size_t{64} * 1024;

sockaddr_un address_of(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto text = path.string();
  if (text.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error(fmt::format("control socket path too long: {}", text));
  }
  std::memcpy(addr.sun_path, text.c_str(), text.size() + 1);
  return addr;
}

// Reads up to a newline within `deadline`; false on timeout, EOF first or a line too long.
bool read_line(int fd, std::string& line, std::chrono::steady_clock::time_point deadline) {
  char buf[4096];
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || line.size() > k_max_request) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return !line.empty() && n == 0;  // EOF ends a last line without newline
    line.append(buf, static_cast<std::size_t>(n));
  }
  line.resize(line.find('\n'));
  return true;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = core::write_no_sigpipe(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Root, the daemon's own user, or a member of the socket file's group.
bool peer_allowed(int fd, const std::filesystem::path& path) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (cred.gid == st.st_gid) return true;
  // Supplementary groups of the peer are not in SO_PEERCRED; look the user up.
  group* g = ::getgrgid(st.st_gid);
  if (g == nullptr) return false;
  for (char** member = g->gr_mem; member != nullptr && *member != nullptr; ++member) {
    passwd* pw = ::getpwnam(*member);
    if (pw != nullptr && pw->pw_uid == cred.uid) return true;
  }
  return false;
}

}  // namespace

ControlSocket::ControlSocket(std::filesystem::path path, Handler handler)
    : m_path(std::move(path)), m_handler(std::move(handler)) {}

ControlSocket::~ControlSocket() {
  stop();
}

void ControlSocket::start() {
  auto addr = address_of(m_path);
  m_listen.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!m_listen) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  std::error_code ec;
  std::filesystem::remove(m_path, ec);  // a stale socket of a daemon that died
  auto old_mask = ::umask(0117);        // 0660 from the start: no window where others connect
  int bound = ::bind(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0 || ::listen(m_listen.get(), 8) != 0) {
    throw std::runtime_error(fmt::format("control socket {}: {}", m_path.string(),
                                         std::strerror(bound != 0 ? bind_errno : errno)));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  m_wake_read.reset(pipe_fds[0]);
  m_wake_write.reset(pipe_fds[1]);
  m_thread = std::thread([this] { serve(); });
}

void ControlSocket::stop() {
  if (!m_thread.joinable()) return;
  char byte = 0;
  (void)!::write(m_wake_write.get(), &byte, 1);
  m_thread.join();
  m_listen.reset();
  std::error_code ec;
  std::filesystem::remove(m_path, ec);
}

void ControlSocket::serve() {
  for (;;) {
    pollfd fds[2] = {{m_listen.get(), POLLIN, 0}, {m_wake_read.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("control socket: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    core::UniqueFd client(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    // One request at a time: writes are serial anyway, and a local client is quick.
    answer(client.get());
  }
}

void ControlSocket::answer(int fd) {
  nlohmann::ordered_json reply;
  if (!peer_allowed(fd, m_path)) {
    spdlog::warn(
        "control socket: refused a client that is not root, the daemon's user or in "
        "the socket's group");
    reply = {{"ok", false}, {"status", 403}, {"error", "permission denied"}};
    write_all(fd, reply.dump() + "\n");
    return;
  }
  std::string line;
  // The CLI sends its line at once: a client that says nothing must not hold the socket long.
  if (!read_line(fd, line, std::chrono::steady_clock::now() + std::chrono::seconds(5))) {
    reply = {{"ok", false},
             {"status", 400},
             {"error",
              fmt::format("no request line (JSON, at most {} bytes) within 5 s", k_max_request)}};
    write_all(fd, reply.dump() + "\n");
    return;
  }
  auto request = nlohmann::json::parse(line, nullptr, false);
  if (request.is_discarded()) {
    reply = {{"ok", false}, {"status", 400}, {"error", "the request is not JSON"}};
  } else {
    try {
      reply = m_handler(request);
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"status", 500}, {"error", e.what()}};
    }
  }
  write_all(fd, reply.dump() + "\n");
}

nlohmann::json ask_daemon(const std::filesystem::path& path, const nlohmann::json& request,
                          std::chrono::milliseconds timeout) {
  auto addr = address_of(path);
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int error = errno;
    throw DaemonUnreachable(
        fmt::format("cannot reach the daemon at {}: {}", path.string(), std::strerror(error)),
        error);
  }
  write_all(fd.get(), request.dump() + "\n");
  std::string line;
  if (!read_line(fd.get(), line, std::chrono::steady_clock::now() + timeout)) {
    throw std::runtime_error(fmt::format("the daemon at {} did not answer", path.string()));
  }
  auto reply = nlohmann::json::parse(line, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    throw std::runtime_error(fmt::format("the daemon at {} answered garbage", path.string()));
  }
  return reply;
}

}  // namespace tracermon::app
