#pragma once
// Keeps a flaky bus from flooding the journal: the first occurrence of a message is logged, the
// same message again within the quiet period only counted, and the count told when it is next
// logged or when the trouble ends.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace tracermon::core {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(std::chrono::seconds quiet = std::chrono::minutes(10)) : m_quiet(quiet) {}

  // The text to log now ("... (12 more since 10:01)" style suffix included), or nullopt when
  // this key was logged within the quiet period.
  std::optional<std::string> admit(const std::string& key, const std::string& message,
                                   Clock::time_point now = Clock::now());
  // The trouble under `key` ended: how many were suppressed since the last log line, and forget
  // it. Returns nullopt when the key was never logged.
  std::optional<std::uint64_t> clear(const std::string& key);

 private:
  struct Entry {
    Clock::time_point logged_at;
    std::uint64_t suppressed = 0;
  };
  std::chrono::seconds m_quiet;
  std::mutex m_mutex;
  std::map<std::string, Entry> m_entries;
};

}  // namespace tracermon::core
