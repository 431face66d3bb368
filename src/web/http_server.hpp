#pragma once
// The daemon's HTTP listener (cpp-httplib) on its own threads: the API, /metrics, /healthz.
// Read-only: nothing here reaches a bus.

#include <memory>
#include <string>
#include <thread>

#include "web/daemon_view.hpp"

namespace httplib {
class Server;
}

namespace tracermon::web {

class HttpServer {
 public:
  explicit HttpServer(DaemonView view);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds now (throws std::runtime_error naming the address when it cannot) and serves on a
  // thread. Port 0 picks a free port: see port().
  void start(const std::string& host, int port);
  void stop();
  [[nodiscard]] int port() const { return m_port; }

 private:
  DaemonView m_view;
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace tracermon::web
