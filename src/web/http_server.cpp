#include "web/http_server.hpp"

#include <chrono>
#include <httplib.h>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli_common.hpp"
#include "web/api.hpp"
#include "web/dashboard_assets.hpp"
#include "web/metrics.hpp"

namespace tracermon::web {

namespace {

void send(httplib::Response& res, const ApiResponse& api) {
  res.status = api.status;
  res.set_content(api.body, api.content_type.c_str());
  res.set_header("Cache-Control", "no-store");
}

Params params_of(const httplib::Request& req) {
  return {req.params.begin(), req.params.end()};
}

}  // namespace

HttpServer::HttpServer(DaemonView view)
    : m_view(std::move(view)), m_server(std::make_unique<httplib::Server>()) {
  if (const char* dir = std::getenv("TRACERMON_WEB_DIR"); dir != nullptr && *dir != '\0') {
    m_web_dir = dir;
    spdlog::warn("http: serving the dashboard from {} (TRACERMON_WEB_DIR)", m_web_dir);
  }
  // An idle keep-alive connection holds a pool thread until it times out, and stop() waits for
  // it: 1 s instead of httplib's 5 s keeps a shutdown with a browser attached prompt.
  m_server->set_keep_alive_timeout(1);
  m_server->new_task_queue = [] {
    return new httplib::ThreadPool(k_api_threads + k_max_event_streams);
  };
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start(const std::string& host, int port) {
  auto& s = *m_server;
  s.Get("/api/v1/status", [this](const auto&, auto& res) { send(res, api_status(m_view)); });
  s.Get("/api/v1/latest", [this](const auto&, auto& res) { send(res, api_latest(m_view)); });
  s.Get("/api/v1/history", [this](const auto& req, auto& res) {
    send(res, api_history(m_view, params_of(req), app::epoch_ms(std::chrono::system_clock::now())));
  });
  s.Get("/api/v1/energy",
        [this](const auto& req, auto& res) { send(res, api_energy(m_view, params_of(req))); });
  s.Get("/api/v1/events", [this](const auto&, auto& res) { serve_events(res); });
  s.Get("/metrics", [this](const auto&, auto& res) {
    send(res, {200, render_metrics(m_view), "text/plain; version=0.0.4"});
  });
  // Debian's cpp-httplib prefers brotli whenever a browser offers it, at brotli's slowest
  // setting: 55-75 ms of CPU per response on a PC, far more on a Pi, against 1-3 ms for gzip.
  // The request is only readable here, so the offer of "br" is taken out of it in place.
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast)
    auto& headers = const_cast<httplib::Request&>(req).headers;
    if (auto it = headers.find("Accept-Encoding"); it != headers.end()) {
      auto& value = it->second;
      for (auto pos = value.find("br"); pos != std::string::npos; pos = value.find("br", pos)) {
        value.replace(pos, 2, "xx");
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  for (const auto& asset : dashboard_assets()) {
    s.Get(std::string(asset.path),
          [this, &asset](const auto&, auto& res) { serve_asset(asset, res); });
  }
  s.Get("/healthz", [this](const auto&, auto& res) { send(res, api_health(m_view)); });
  s.set_error_handler([](const auto& req, auto& res) {
    if (!res.body.empty()) return;
    auto message = res.status == 404 ? fmt::format("no such path: {}", req.path)
                                     : fmt::format("HTTP {}", res.status);
    res.set_content(fmt::format("{{\"error\":\"{}\"}}\n", message), "application/json");
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
    res.set_content(nlohmann::json{{"error", what}}.dump() + "\n", "application/json");
  });
  if (port == 0) {
    m_port = s.bind_to_any_port(host);
  } else if (s.bind_to_port(host, port)) {
    m_port = port;
  } else {
    m_port = -1;
  }
  if (m_port <= 0) {
    throw std::runtime_error(fmt::format(
        "http: cannot listen on {}:{} (in use, or not an address of this machine)", host, port));
  }
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
}

void HttpServer::serve_asset(const DashboardAsset& asset, httplib::Response& res) const {
  res.set_header("Cache-Control", "no-cache");
  if (!m_web_dir.empty()) {
    if (auto text = asset_from_dir(m_web_dir, asset)) {
      res.set_content(*text, std::string(asset.content_type));
    } else {
      res.status = 404;
      res.set_content(fmt::format("{{\"error\":\"{} is not in TRACERMON_WEB_DIR {}\"}}\n",
                                  asset.file, m_web_dir),
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
  auto stream = m_events.open();
  if (!stream) {
    res.status = 503;
    res.set_header("Retry-After", "30");
    res.set_content(fmt::format("{{\"error\":\"too many event streams open (at most {}); poll "
                                "/api/v1/latest instead\"}}\n",
                                k_max_event_streams),
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
  m_events.close();  // ends every event stream, so the pool can finish
  if (m_thread.joinable()) {
    m_server->stop();
    m_thread.join();
  }
}

}  // namespace tracermon::web
