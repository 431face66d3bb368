#pragma once
// The daemon's side of control: its devices as the control service sees them (health and
// recent errors from the bus workers' status) and their bus workers' queues as the way to
// the bus. Writes wait at most `queue_timeout` for their turn.

#include <chrono>
#include <memory>
#include <vector>

#include "control/device_access.hpp"
#include "control/error_window.hpp"
#include "poller/bus_worker.hpp"

namespace tracermon::app {

class DaemonDeviceAccess : public control::DeviceAccess {
 public:
  explicit DaemonDeviceAccess(const std::vector<std::unique_ptr<poller::BusWorker>>& workers,
                              std::chrono::milliseconds queue_timeout = std::chrono::seconds(30))
      : m_workers(workers), m_queue_timeout(queue_timeout) {}

  [[nodiscard]] std::vector<control::DeviceRef> devices() const override;
  core::Status run(const control::DeviceRef& device, const control::BusJob& job) override;
  // Takes a sample of every device's counts for the error window (the daemon's tick).
  void sample();

 private:
  const std::vector<std::unique_ptr<poller::BusWorker>>& m_workers;
  std::chrono::milliseconds m_queue_timeout;
  mutable control::ErrorWindow m_errors;
};

}  // namespace tracermon::app
