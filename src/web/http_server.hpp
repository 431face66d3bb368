#pragma once
// The daemon's HTTP listener on its own threads: the dashboard, the API, live events (SSE),
// /metrics, /healthz, and, with [control] enabled, the writes of /api/v1/control/ (through
// the control service, behind a bearer token: control_api.hpp).
//
// cpp-httplib routes and writes the answers; our ConnectionLoop owns the sockets: it reads and
// checks every request head within the limits (http_limits.hpp) before a thread sees it, so
// slow, idle or oversized clients cost a bounded buffer, never a thread; stop() shuts every
// client socket down and returns promptly whatever the clients do.

#include <memory>
#include <string>

#include "web/connection_loop.hpp"
#include "web/control_api.hpp"
#include "web/daemon_view.hpp"
#include "web/dashboard_assets.hpp"
#include "web/event_hub.hpp"
#include "web/http_limits.hpp"

namespace httplib {
struct Response;
}  // namespace httplib

namespace tracermon::web {

class HttpServer {
 public:
  explicit HttpServer(DaemonView view, const HttpLimits& limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds now (throws std::runtime_error naming the address, and the process holding it when
  // it is in use) and serves on threads of its own. Port 0 picks a free port: see port().
  void start(const std::string& host, int port);
  // Never waits for a client: ends the event streams, shuts every connection down, joins.
  void stop();
  [[nodiscard]] int port() const { return m_port; }
  [[nodiscard]] ListenerCounters counters() const;

  // To every open /api/v1/events stream; never waits for a browser.
  void publish(const Event& event) { m_events.publish(event); }
  // Whether a browser listens: the daemon skips building events nobody reads.
  [[nodiscard]] bool has_event_streams() const { return m_events.open_streams() > 0; }

 private:
  class Router;

  void add_routes();
  bool serve(Connection& conn, bool stream_worker);
  void serve_events(httplib::Response& res);
  void serve_asset(const DashboardAsset& asset, httplib::Response& res) const;

  DaemonView m_view;
  HttpLimits m_limits;
  EventHub m_events;      // outlives the threads that read it (declared before them)
  ControlApi m_control;   // reads m_view
  std::string m_web_dir;  // TRACERMON_WEB_DIR: the dashboard from disk (dev)
  std::unique_ptr<Router> m_router;
  std::unique_ptr<ConnectionLoop> m_loop;
  int m_port = 0;
};

}  // namespace tracermon::web
