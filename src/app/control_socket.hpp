#pragma once
// The daemon's local control socket, <runtime_dir>/control.sock: how `tracermon set`, `load`,
// `clock` and `settings` reach a running daemon instead of opening its port. One JSON request
// per line in, one JSON result per line out (the body and answer of /api/v1/control/). Access is
// the file's mode (0660: the daemon's user and group) and the peer's credentials: root or the
// daemon's own user, or a member of the socket's group.

#include <filesystem>
#include <functional>
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

// The client side: sends `request` to the daemon at `path` and returns its answer. Throws
// std::runtime_error when there is no daemon there or it does not answer within `timeout`.
nlohmann::json ask_daemon(const std::filesystem::path& path, const nlohmann::json& request,
                          std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace tracermon::app
