#include "control/error_window.hpp"

namespace tracermon::control {

void ErrorWindow::observe(const std::string& device, core::SteadyTime now, std::uint64_t requests,
                          std::uint64_t failures) {
  std::lock_guard lock(m_mutex);
  auto& samples = m_samples[device];
  // Counts that went down belong to a new count (a reload without carry-over): start again.
  if (!samples.empty() &&
      (requests < samples.back().requests || failures < samples.back().failures)) {
    samples.clear();
  }
  samples.push_back({now, requests, failures});
  // Keep one sample older than the span, so the window covers all of it.
  while (samples.size() > 2 && samples[1].time <= now - m_span)
    samples.pop_front();
}

ErrorWindow::Recent ErrorWindow::recent(const std::string& device) const {
  std::lock_guard lock(m_mutex);
  auto it = m_samples.find(device);
  if (it == m_samples.end() || it->second.empty()) return {};
  const auto& first = it->second.front();
  const auto& last = it->second.back();
  return {last.requests - first.requests, last.failures - first.failures};
}

}  // namespace tracermon::control
