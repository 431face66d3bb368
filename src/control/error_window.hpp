#pragma once
// How a device's requests went lately: samples of its running counts, so a write can be
// refused on a bus that has been failing for the last minutes (not since start-up).

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "core/wall_time.hpp"

namespace tracermon::control {

class ErrorWindow {
 public:
  explicit ErrorWindow(std::chrono::seconds span = std::chrono::minutes(10)) : m_span(span) {}

  // A device's running counts at `now` (requests sent, requests that failed). Thread-safe.
  void observe(const std::string& device, core::SteadyTime now, std::uint64_t requests,
               std::uint64_t failures);

  struct Recent {
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    [[nodiscard]] double ratio() const {
      return requests == 0 ? 0.0 : static_cast<double>(failures) / static_cast<double>(requests);
    }
  };
  // From the oldest sample within the span to the newest.
  [[nodiscard]] Recent recent(const std::string& device) const;

 private:
  struct Sample {
    core::SteadyTime time;
    std::uint64_t requests;
    std::uint64_t failures;
  };
  std::chrono::seconds m_span;
  mutable std::mutex m_mutex;
  std::map<std::string, std::deque<Sample>> m_samples;
};

}  // namespace tracermon::control
