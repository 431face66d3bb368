#include "core/log_limiter.hpp"

#include <fmt/format.h>

namespace tracermon::core {

std::optional<std::string> LogLimiter::admit(const std::string& key, const std::string& message,
                                             Clock::time_point now) {
  std::lock_guard lock(m_mutex);
  auto [it, fresh] = m_entries.try_emplace(key, Entry{now, 0});
  if (fresh) return message;
  auto& entry = it->second;
  if (now - entry.logged_at < m_quiet) {
    ++entry.suppressed;
    return std::nullopt;
  }
  auto suppressed = entry.suppressed;
  entry = Entry{now, 0};
  if (suppressed == 0) return message;
  return fmt::format("{} ({} more like this not logged)", message, suppressed);
}

std::optional<std::uint64_t> LogLimiter::clear(const std::string& key) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) return std::nullopt;
  auto suppressed = it->second.suppressed;
  m_entries.erase(it);
  return suppressed;
}

}  // namespace tracermon::core
