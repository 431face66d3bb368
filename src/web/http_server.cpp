#include "web/http_server.hpp"

#include <chrono>
#include <httplib.h>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/wall_time.hpp"
#include "web/api.hpp"
#include "web/connection_stream.hpp"
#include "web/control_api.hpp"
#include "web/dashboard_assets.hpp"
#include "web/listen_socket.hpp"
#include "web/metrics.hpp"

namespace tracermon::web {

namespace {

// Set on the thread answering a request: whether it may hold an event stream (a stream
// thread) or must refuse one (an API thread, taken when every stream thread is busy).
thread_local bool t_stream_worker = false;

void send(httplib::Response& res, const ApiResponse& api) {
  res.status = api.status;
  res.set_content(api.body, api.content_type.c_str());
  res.set_header("Cache-Control", "no-store");
  for (const auto& [name, value] : api.headers)
    res.set_header(name, value);
}

Params params_of(const httplib::Request& req) {
  return {req.params.begin(), req.params.end()};
}

// Before routing, with the request still writable.
void adjust_request(httplib::Request& req) {
  // Debian's cpp-httplib prefers brotli whenever a browser offers it, at brotli's slowest
  // setting: 55-75 ms of CPU per response on a PC, far more on a Pi, against 1-3 ms for gzip.
  if (auto it = req.headers.find("Accept-Encoding"); it != req.headers.end()) {
    auto& value = it->second;
    for (auto pos = value.find("br"); pos != std::string::npos; pos = value.find("br", pos)) {
      value.replace(pos, 2, "xx");
    }
  }
  // Byte ranges are ignored (allowed by RFC 9110): httplib 0.11 would build one multipart body
  // of every range asked for, a few hundred ranges of a 46 KB asset from one small head.
  req.ranges.clear();
  req.headers.erase("Range");
}

}  // namespace

// cpp-httplib's routing and answer writing, fed by our ConnectionLoop instead of its own
// accept loop (which gives each connection a thread from accept on and has no limits).
class HttpServer::Router : public httplib::Server {
 public:
  bool serve(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
    return process_request(stream, close_connection, connection_closed, adjust_request);
  }
  // httplib ends a streamed answer when its listening socket is gone: it has none of its own
  // here, so "serving" is any valid descriptor and stopping is INVALID_SOCKET.
  void set_serving(int fd) { svr_sock_ = fd; }
  void set_stopping() { svr_sock_ = INVALID_SOCKET; }
};

HttpServer::HttpServer(DaemonView view, const HttpLimits& limits)
    : m_view(std::move(view)),
      m_limits(limits),
      m_events(limits.stream_workers),
      m_control(m_view),
      m_router(std::make_unique<Router>()) {
  if (const char* dir = std::getenv("TRACERMON_WEB_DIR"); dir != nullptr && *dir != '\0') {
    m_web_dir = dir;
    spdlog::warn("http: serving the dashboard from {} (TRACERMON_WEB_DIR)", m_web_dir);
  }
  // What the Keep-Alive header announces; the loop enforces it.
  m_router->set_keep_alive_timeout(static_cast<time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(m_limits.idle_timeout).count()));
  m_router->set_keep_alive_max_count(m_limits.max_requests_per_connection);
  add_routes();
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_routes() {
  auto& s = *m_router;
  s.Get("/api/v1/status", [this](const auto&, auto& res) {
    send(res, api_status(m_view, core::epoch_ms(std::chrono::system_clock::now())));
  });
  s.Get("/api/v1/latest", [this](const auto&, auto& res) { send(res, api_latest(m_view)); });
  s.Get("/api/v1/history", [this](const auto& req, auto& res) {
    send(res,
         api_history(m_view, params_of(req), core::epoch_ms(std::chrono::system_clock::now())));
  });
  s.Get("/api/v1/energy",
        [this](const auto& req, auto& res) { send(res, api_energy(m_view, params_of(req))); });
  s.Get("/api/v1/events", [this](const auto&, auto& res) { serve_events(res); });
  s.Get("/metrics", [this](const auto&, auto& res) {
    send(res, {200, render_metrics(m_view) + render_listener_metrics(counters()),
               "text/plain; version=0.0.4"});
  });
  for (const auto& asset : dashboard_assets()) {
    s.Get(std::string(asset.path),
          [this, &asset](const auto&, auto& res) { serve_asset(asset, res); });
  }
  s.Get("/healthz", [this](const auto&, auto& res) { send(res, api_health(m_view)); });
  // Writes: control_api.hpp (404 while control is off; a bearer token for every request).
  auto control = [this](const httplib::Request& req, httplib::Response& res) {
    ControlHttpRequest request;
    request.method = req.method;
    request.path = req.path;
    request.params = params_of(req);
    request.body = req.body;
    request.authorization = req.get_header_value("Authorization");
    request.client = req.remote_addr;
    send(res, m_control.handle(request));
  };
  s.Get(R"(/api/v1/control(/.*)?)", control);
  s.Post(R"(/api/v1/control(/.*)?)", control);
  s.set_error_handler([](const auto& req, auto& res) {
    if (!res.body.empty()) return;
    auto message =
        res.status == 404 ? "no such path: " + req.path : fmt::format("HTTP {}", res.status);
    res.set_content(error_body(message), "application/json");
  });
  s.set_exception_handler([](const auto&, auto& res, const std::exception_ptr& error) {
    std::string what = "internal error";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("http: {}", what);
    res.status = 500;
    res.set_content(error_body(what), "application/json");
  });
}

void HttpServer::start(const std::string& host, int port) {
  auto listener = listen_tcp(host, port);
  m_port = listener.port;
  m_router->set_serving(listener.fd.get());
  m_loop = std::make_unique<ConnectionLoop>(
      std::move(listener), m_limits,
      [this](Connection& conn, bool stream_worker) { return serve(conn, stream_worker); });
  m_loop->start();
}

bool HttpServer::serve(Connection& conn, bool stream_worker) {
  t_stream_worker = stream_worker;
  // An event stream lasts as long as the browser listens; any other answer has a deadline.
  std::optional<std::chrono::milliseconds> whole;
  if (!stream_worker) whole = m_limits.response_timeout;
  ConnectionStream stream(conn.fd.get(), std::string_view(conn.buffer).substr(0, conn.head_length),
                          m_loop->stopping(), m_limits.write_timeout, whole);
  bool close = m_loop->stopping() || conn.requests + 1 >= m_limits.max_requests_per_connection;
  bool client_closes = false;
  bool written = m_router->serve(stream, close, client_closes);
  return written && !stream.failed() && !close && !client_closes;
}

ListenerCounters HttpServer::counters() const {
  return m_loop ? m_loop->counters() : ListenerCounters{};
}

void HttpServer::serve_asset(const DashboardAsset& asset, httplib::Response& res) const {
  res.set_header("Cache-Control", "no-cache");
  if (!m_web_dir.empty()) {
    if (auto text = asset_from_dir(m_web_dir, asset)) {
      res.set_content(*text, std::string(asset.content_type));
    } else {
      res.status = 404;
      res.set_content(
          error_body(fmt::format("{} is not in TRACERMON_WEB_DIR {}", asset.file, m_web_dir)),
          "application/json");
    }
    return;
  }
  if (auto text = embedded_asset(asset)) {
    res.set_content(text->data(), text->size(), std::string(asset.content_type));
    return;
  }
  if (asset.path != "/") {
    res.status = 404;
    return;
  }
  // A build without web/ui (`make deps` not run): where everything is.
  res.set_content(
      "<!doctype html><meta charset=utf-8><title>tracermon</title><h1>tracermon</h1><ul>"
      "<li><a href=api/v1/status>/api/v1/status</a> buses, devices, health, counters"
      "<li><a href=api/v1/latest>/api/v1/latest</a> latest values and site totals"
      "<li>/api/v1/history?device=NAME&amp;fields=a,b&amp;from=-24h&amp;to=now&amp;points=500"
      "&amp;agg=mean"
      "<li><a href=api/v1/energy>/api/v1/energy</a> kWh per day, month and year"
      "<li><a href=api/v1/events>/api/v1/events</a> live events (SSE)"
      "<li><a href=metrics>/metrics</a> Prometheus<li><a href=healthz>/healthz</a></ul>",
      "text/html; charset=utf-8");
}

void HttpServer::serve_events(httplib::Response& res) {
  auto stream = t_stream_worker ? m_events.open() : nullptr;
  if (!stream) {
    res.status = 503;
    res.set_header("Retry-After", "30");
    res.set_content(error_body(fmt::format("too many event streams open (at most {}); poll "
                                           "/api/v1/latest instead",
                                           m_limits.stream_workers)),
                    "application/json");
    return;
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");  // a reverse proxy must not hold events back
  auto greeted = std::make_shared<bool>(false);
  res.set_chunked_content_provider(
      "text/event-stream", [stream, greeted](std::size_t, httplib::DataSink& sink) {
        if (!*greeted) {
          // Browsers reconnect 3 s after a broken stream.
          *greeted = true;
          constexpr std::string_view k_hello = "retry: 3000\n\n";
          return sink.write(k_hello.data(), k_hello.size());
        }
        // A comment every 15 s keeps proxies and NAT from closing an idle stream.
        auto event = stream->next(std::chrono::seconds(15));
        if (stream->closed()) {
          sink.done();
          return false;
        }
        auto chunk = event ? fmt::format("event: {}\ndata: {}\n\n", event->type, event->data)
                           : std::string(": ping\n\n");
        return sink.write(chunk.data(), chunk.size());
      });
}

void HttpServer::stop() {
  if (!m_loop) return;
  m_router->set_stopping();  // a streamed answer ends after its current chunk...
  m_events.close();          // ... and no stream waits for its next event any more
  m_loop->stop();            // shuts every client socket down, joins the threads
}

}  // namespace tracermon::web
