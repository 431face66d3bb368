#pragma once
// The read-only HTTP API as plain functions from a request's parameters to a response, so the
// routing (http_server.cpp) stays thin and every answer can be tested without a socket.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/daemon_view.hpp"

namespace tracermon::web {

struct ApiResponse {
  ApiResponse() = default;
  ApiResponse(int status_code, std::string body_text,
              std::string type = std::string("application/json"))
      : status(status_code), body(std::move(body_text)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // WWW-Authenticate, Retry-After
};

using Params = std::multimap<std::string, std::string>;

// {"error": message} and a newline: every error body, whatever bytes the message holds (a path
// with quotes, invalid UTF-8).
std::string error_body(std::string_view message);

ApiResponse api_status(const DaemonView& view, std::int64_t now_ms);
ApiResponse api_latest(const DaemonView& view);
// device=NAME&fields=a,b&from=T&to=T&points=N&agg=mean|min|max|last
ApiResponse api_history(const DaemonView& view, const Params& params, std::int64_t now_ms);
// [device=NAME]&[period=day|month|year]&[from=YYYY-MM-DD]&[to=...]
ApiResponse api_energy(const DaemonView& view, const Params& params);
ApiResponse api_health(const DaemonView& view);

}  // namespace tracermon::web
