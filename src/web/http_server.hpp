#pragma once
// The daemon's HTTP listener (cpp-httplib) on its own threads: the dashboard, the API, live
// events (SSE), /metrics, /healthz. Read-only: nothing here reaches a bus.
//
// Threads: a pool of k_api_threads for requests plus one per possible event stream, so open
// dashboards can never starve the API; stop() ends every stream first, so it returns promptly.

#include <memory>
#include <string>
#include <thread>

#include "web/daemon_view.hpp"
#include "web/dashboard_assets.hpp"
#include "web/event_hub.hpp"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

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

  // To every open /api/v1/events stream; never waits for a browser.
  void publish(const Event& event) { m_events.publish(event); }
  // Whether a browser listens: the daemon skips building events nobody reads.
  [[nodiscard]] bool has_event_streams() const { return m_events.open_streams() > 0; }

  static constexpr std::size_t k_api_threads = 8;
  static constexpr std::size_t k_max_event_streams = 8;

 private:
  void serve_events(httplib::Response& res);
  void serve_asset(const DashboardAsset& asset, httplib::Response& res) const;

  DaemonView m_view;
  EventHub m_events{k_max_event_streams};  // outlives the server's threads (declared first)
  std::string m_web_dir;                   // TRACERMON_WEB_DIR: the dashboard from disk (dev)
  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
};

}  // namespace tracermon::web
