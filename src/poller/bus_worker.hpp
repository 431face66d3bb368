#pragma once
// One worker per bus: the only master on it. It owns the link, polls its devices in turn by
// poll class, and runs one-shot jobs (reads now, writes later) from its queue between polls, so
// nothing else ever talks on the bus at the same time. Results leave as immutable snapshots.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/log_limiter.hpp"
#include "device/field_reader.hpp"
#include "model/device_status.hpp"
#include "model/snapshot.hpp"
#include "poller/clock_watch.hpp"
#include "poller/poll_schedule.hpp"
#include "poller/validator.hpp"
#include "transport/modbus_client.hpp"
#include "transport/port_spec.hpp"

namespace tracermon::poller {

struct DeviceSetup {
  std::uint8_t unit = 1;
  std::string name;
  std::string site;
  std::string model;
};

struct BusSetup {
  std::string name;
  transport::PortSpec port;
  transport::SerialSettings serial;
  transport::ClientOptions client;
  std::uint16_t max_registers = 20;
  model::PollIntervals intervals;
  std::vector<DeviceSetup> devices;
};

using SnapshotCallback = std::function<void(model::SnapshotPtr)>;
// A job run on the worker's thread with the bus to itself.
using BusJob = std::function<void(transport::ModbusClient&)>;

class BusWorker {
 public:
  // `clock` drives the poll schedule, the backoff of silent devices and the link retry (a
  // core::ManualClock in tests); the client's I/O timeouts stay on the real clock. `client`
  // replaces the one made for `setup.port` (tests put a tap or a scripted slave there).
  BusWorker(BusSetup setup, const protocol::RegisterMap& map, ClockWatch& watch,
            SnapshotCallback on_snapshot, const core::Clock& clock = core::system_clock(),
            std::unique_ptr<transport::ModbusClient> client = nullptr);
  ~BusWorker();
  BusWorker(const BusWorker&) = delete;
  BusWorker& operator=(const BusWorker&) = delete;

  void start();
  // Finishes the request on the wire, then returns; queued jobs are dropped (their futures
  // see a broken promise).
  void stop();

  // Runs `job` between two polls. Thread-safe.
  void post(BusJob job);
  // Reads fields of one device through the queue (for `tracermon read` beside the daemon).
  std::future<device::Reading> read(std::uint8_t unit, std::vector<protocol::FieldId> fields);

  [[nodiscard]] model::BusStatus status() const;
  // Before start(): goes on counting from `previous` for each device of the same name and id.
  void carry_over(const model::BusStatus& previous);
  [[nodiscard]] const BusSetup& setup() const { return m_setup; }

 private:
  struct Device {
    DeviceSetup setup;
    PollSchedule schedule;
    protocol::DeviceSupport support;
    Validator validator;
    std::uint64_t cycle = 0;
    bool identified = false;
    std::uint64_t support_seen = 0;  // support.generation() last copied into the status
  };

  void run();
  void run_jobs(std::unique_lock<std::mutex>& lock);
  void poll(Device& device, const std::vector<protocol::PollClass>& classes);
  // One request, no retry: is a silent device back? The error when it is not.
  std::optional<core::Error> probe(Device& device);
  // A port that is gone backs the whole bus off (1, 2, 4 ... 30 s); link_works ends that.
  void link_failed(const core::Error& error);
  void link_works();
  void publish(Device& device, const device::Reading& reading, model::Health health);
  void account(Device& device, const transport::ClientCounters& before,
               const device::Reading& reading);
  void note_error(Device& device, const std::string& error);
  void set_health(Device& device, model::Health health, const std::string& why);
  [[nodiscard]] std::vector<protocol::FieldId> wanted(
      const Device& device, const std::vector<protocol::PollClass>& classes) const;
  [[nodiscard]] bool link_down() const;

  BusSetup m_setup;
  const protocol::RegisterMap& m_map;
  ClockWatch& m_watch;
  const core::Clock& m_clock;
  SnapshotCallback m_on_snapshot;
  std::unique_ptr<transport::ModbusClient> m_client;
  std::vector<Device> m_devices;
  core::LogLimiter m_log_limiter;
  core::SteadyTime m_link_retry_at{};
  int m_link_failures = 0;

  mutable std::mutex m_mutex;  // guards the queue, m_stop and m_status
  std::condition_variable m_wake;
  std::deque<BusJob> m_jobs;
  bool m_stop = false;
  model::BusStatus m_status;
  std::thread m_thread;
};

}  // namespace tracermon::poller
