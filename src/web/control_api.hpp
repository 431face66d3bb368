#pragma once
// The HTTP face of control (docs/control.md, "HTTP"): /api/v1/control/... as a plain function
// of a request, so every answer is tested without a socket. Off (DaemonView::control null):
// every path is 404. On: every request, GET too, needs `Authorization: Bearer <token>`,
// compared in constant time; a missing or wrong one is 401, logged with the client's address,
// and after `k_max_failures` failures from one address within a minute that address gets 429
// for a minute without its token being looked at. No cookie is read or set: a page on another
// site cannot make a browser send the token, so there is nothing for CSRF to ride on.
//
// A request that runs on a bus (set, load, clock, export) holds its HTTP worker thread until
// the bus worker has run it (up to the daemon's queue timeout, 30 s, plus the job): at most
// `k_bus_requests` of them at once, so the API's other threads keep answering; one more is
// 503 with Retry-After.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "web/api.hpp"
#include "web/daemon_view.hpp"

namespace tracermon::web {

// Failed token checks per client address: the 401 and 429 of control.
class AuthGate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t k_max_failures = 5;
  static constexpr std::chrono::seconds k_window{60};  // failures counted over this long
  static constexpr std::chrono::seconds k_block{60};   // then refused this long
  static constexpr std::size_t k_max_addresses = 4096;

  // How long `address` is still refused (nullopt: not refused).
  std::optional<std::chrono::seconds> blocked(const std::string& address, Clock::time_point now);
  // A failed check; returns whether it made the address blocked.
  bool failed(const std::string& address, Clock::time_point now);

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // within the window
    Clock::time_point blocked_until{};
  };
  void prune(Clock::time_point now);

  std::mutex m_mutex;
  std::map<std::string, Entry> m_addresses;
};

// Whether `given` equals `expected`, in a time that depends on `expected`'s length only.
bool constant_time_equals(std::string_view given, std::string_view expected);

struct ControlHttpRequest {
  std::string method;  // GET, POST
  std::string path;    // /api/v1/control, /api/v1/control/set, ...
  Params params;
  std::string body;
  std::string authorization;  // the Authorization header ("" when absent)
  std::string client;         // the client's address, for the log and the rate limit
};

class ControlApi {
 public:
  static constexpr std::size_t k_bus_requests = 2;

  explicit ControlApi(const DaemonView& view,
                      std::function<AuthGate::Clock::time_point()> now = AuthGate::Clock::now)
      : m_view(view), m_now(std::move(now)) {}

  ApiResponse handle(const ControlHttpRequest& request);
  // Bus requests being answered now.
  [[nodiscard]] std::size_t running() const {
    std::lock_guard lock(m_mutex);
    return m_running;
  }

 private:
  ApiResponse authorised(const ControlHttpRequest& request);
  ApiResponse run(const nlohmann::json& body);

  const DaemonView& m_view;
  std::function<AuthGate::Clock::time_point()> m_now;
  AuthGate m_gate;
  mutable std::mutex m_mutex;
  std::size_t m_running = 0;  // bus requests being answered
};

}  // namespace tracermon::web
