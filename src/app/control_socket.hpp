#pragma once
// The daemon's local control socket, <runtime_dir>/control.sock: how `tracermon set`, `load`,
// `clock` and `settings` reach a running daemon instead of opening its port. One JSON request
// per line in, one JSON result per line out (the body and answer of /api/v1/control/). Access is
// the file's mode (0660: the daemon's user and group) and the peer's credentials: root or the
// daemon's own user, or a member of the socket's group.

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/unique_fd.hpp"

namespace tracermon::app {

class ControlSocket {
 public:
  // The answer to one request line (parsed JSON or a parse error turned into a 400).
  using Handler = std::function<nlohmann::ordered_json(const nlohmann::json& request)>;

  ControlSocket(std::filesystem::path path, Handler handler);
  ~ControlSocket();
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  // Binds (replacing a stale socket file) and serves on a thread. Throws std::runtime_error.
  void start();
  void stop();
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

 private:
  void serve();
  void answer(int fd);

  std::filesystem::path m_path;
  Handler m_handler;
  core::UniqueFd m_listen;
  core::UniqueFd m_wake_read, m_wake_write;  // a byte here ends serve()
  std::thread m_thread;
};

// No connection to the socket; `error` is connect()'s errno (ECONNREFUSED: a socket file left
// by a daemon that died; EACCES: the caller may not use it).
struct DaemonUnreachable : std::runtime_error {
  DaemonUnreachable(const std::string& what, int errno_value)
      : std::runtime_error(what), error(errno_value) {}
  int error;
};

// The client side: sends `request` to the daemon at `path` and returns its answer. Throws
// DaemonUnreachable when it cannot connect, std::runtime_error when the daemon does not answer
// within `timeout` or answers garbage.
nlohmann::json ask_daemon(const std::filesystem::path& path, const nlohmann::json& request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace tracermon::app
