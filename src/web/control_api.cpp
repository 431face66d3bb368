#include "web/control_api.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "control/control_service.hpp"
#include "core/printable.hpp"

namespace tracermon::web {

using nlohmann::ordered_json;

namespace {

constexpr std::string_view k_prefix = "/api/v1/control";

ApiResponse json_response(const ordered_json& body, int status) {
  return {status, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n",
          "application/json"};
}

ApiResponse error(int status, std::string_view message) {
  return {status, error_body(message), "application/json"};
}

std::string param(const Params& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? std::string{} : it->second;
}

// The token of "Bearer <token>" (the scheme in any case), or nullopt.
std::optional<std::string_view> bearer(std::string_view header) {
  constexpr std::string_view k_scheme = "bearer ";
  if (header.size() <= k_scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < k_scheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != k_scheme[i]) return std::nullopt;
  }
  auto token = header.substr(k_scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

ordered_json settings_list(const protocol::SettingsCatalog& catalog) {
  auto list = ordered_json::array();
  for (auto id : catalog.settable()) {
    const auto& f = catalog.map().field(id);
    ordered_json s{{"name", f.name}, {"unit", f.unit}};
    if (const auto* spec = catalog.spec(id)) {
      s["min"] = catalog.plain(f, spec->min_raw);
      s["max"] = catalog.plain(f, spec->max_raw);
    } else {
      s["min"] = nullptr;
      s["max"] = nullptr;
    }
    s["description"] = f.description;
    list.push_back(std::move(s));
  }
  return list;
}

}  // namespace

bool constant_time_equals(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is looked at, whatever `given` holds, with no early exit.
  unsigned diff = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0U;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

// --- AuthGate --------------------------------------------------------------------------------

void AuthGate::prune(Clock::time_point now) {
  std::erase_if(m_addresses, [&](const auto& entry) {
    const auto& e = entry.second;
    return e.blocked_until <= now && (e.failures.empty() || e.failures.back() + k_window <= now);
  });
}

std::optional<std::chrono::seconds> AuthGate::blocked(const std::string& address,
                                                      Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  auto it = m_addresses.find(address);
  if (it == m_addresses.end() || it->second.blocked_until <= now) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
  return std::max(left, std::chrono::seconds(1));
}

bool AuthGate::failed(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  if (m_addresses.size() >= k_max_addresses) prune(now);
  if (m_addresses.size() >= k_max_addresses && !m_addresses.contains(address)) {
    // Thousands of addresses guessing at once: the oldest-looking entry makes room (the 401
    // stands; only the counting of one address starts over).
    m_addresses.erase(m_addresses.begin());
  }
  auto& e = m_addresses[address];
  while (!e.failures.empty() && e.failures.front() + k_window <= now)
    e.failures.pop_front();
  e.failures.push_back(now);
  if (e.failures.size() < k_max_failures) return false;
  e.failures.clear();
  e.blocked_until = now + k_block;
  return true;
}

// --- ControlApi ------------------------------------------------------------------------------

ApiResponse ControlApi::handle(const ControlHttpRequest& request) {
  if (m_view.control == nullptr) {
    return error(404,
                 "control is off: set [control] enabled = true and token_file in the "
                 "configuration (docs/control.md)");
  }
  auto now = m_now();
  const auto& client = request.client.empty() ? std::string("?") : request.client;
  if (auto left = m_gate.blocked(client, now)) {
    auto response = error(429, fmt::format("too many requests with a wrong token from {}; try "
                                           "again in {} s",
                                           client, left->count()));
    response.headers.emplace_back("Retry-After", std::to_string(left->count()));
    return response;
  }
  auto token = bearer(request.authorization);
  // An empty configured token never matches (the daemon refuses one; this is the last guard).
  if (!token || m_view.control_token.empty() ||
      !constant_time_equals(*token, m_view.control_token)) {
    const char* why = request.authorization.empty() ? "no token"
                      : token                       ? "a wrong token"
                                                    : "an Authorization that is not Bearer";
    bool now_blocked = m_gate.failed(client, now);
    // The path is the client's text: control characters escaped, so a log line stays one.
    spdlog::warn("http: control {} {} from {}: {}{}", core::printable(request.method),
                 core::printable(request.path), client, why,
                 now_blocked ? fmt::format("; {} failures: refused for {} s",
                                           AuthGate::k_max_failures, AuthGate::k_block.count())
                             : std::string{});
    auto response = error(401, fmt::format("control needs 'Authorization: Bearer <token>' (the "
                                           "token of [control] token_file): {}",
                                           why));
    response.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="tracermon control")");
    return response;
  }
  return authorised(request);
}

ApiResponse ControlApi::authorised(const ControlHttpRequest& request) {
  auto& service = *m_view.control;
  auto sub = std::string_view(request.path).substr(std::min(k_prefix.size(), request.path.size()));
  if (request.method == "GET") {
    if (sub.empty() || sub == "/") {
      return json_response(
          ordered_json{{"enabled", true}, {"settings", settings_list(service.catalog())}}, 200);
    }
    if (sub == "/log") {
      std::size_t limit = 50;
      auto text = param(request.params, "limit");
      if (!text.empty()) {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (ec != std::errc{} || ptr != text.data() + text.size() || limit < 1 || limit > 1000)
          return error(400, fmt::format("limit: '{}' must be an integer 1-1000", text));
      }
      auto records = ordered_json::array();
      for (const auto& r : service.audit(limit))
        records.push_back(control::to_json(r));
      return json_response(ordered_json{{"records", std::move(records)}}, 200);
    }
    if (sub == "/export") {
      auto device = param(request.params, "device");
      if (device.empty()) return error(400, "device: required (a device name or slave id)");
      return run(nlohmann::json{{"action", "export"}, {"device", device}});
    }
  } else if (request.method == "POST") {
    if (sub == "/set" || sub == "/load" || sub == "/clock") {
      nlohmann::json body;
      try {
        body = nlohmann::json::parse(request.body);
      } catch (const nlohmann::json::parse_error& e) {
        return error(400, fmt::format("the request body is not JSON: {}", e.what()));
      }
      if (!body.is_object()) return error(400, "the request body must be a JSON object");
      auto action = std::string(sub.substr(1));
      if (auto it = body.find("action"); it != body.end() && *it != action) {
        return error(400, fmt::format("'action' is given by the path: {} (leave it out)", action));
      }
      body["action"] = action;
      return run(body);
    }
  }
  bool known = sub.empty() || sub == "/" || sub == "/log" || sub == "/export" || sub == "/set" ||
               sub == "/load" || sub == "/clock";
  if (known) {
    auto response = error(405, fmt::format("{} does not take {}", request.path, request.method));
    bool get = sub.empty() || sub == "/" || sub == "/log" || sub == "/export";
    response.headers.emplace_back("Allow", get ? "GET" : "POST");
    return response;
  }
  return error(404, fmt::format("no such control path: {} (GET /api/v1/control, /log, /export; "
                                "POST /set, /load, /clock)",
                                request.path));
}

ApiResponse ControlApi::run(const nlohmann::json& body) {
  {
    std::lock_guard lock(m_mutex);
    if (m_running >= k_bus_requests) {
      auto response = error(503, fmt::format("{} control requests are running already; try again "
                                             "shortly",
                                             m_running));
      response.headers.emplace_back("Retry-After", "5");
      return response;
    }
    ++m_running;
  }
  struct Release {
    ControlApi& api;
    ~Release() {
      std::lock_guard lock(api.m_mutex);
      --api.m_running;
    }
  } release{*this};
  auto& service = *m_view.control;
  auto result = service.handle_json(body, control::Source::Http);
  return json_response(control::to_json(service.catalog(), result), result.status);
}

}  // namespace tracermon::web
