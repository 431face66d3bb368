#pragma once
// One worker per bus: the only master on it. It owns the link, polls its devices in turn by
// poll class, and runs commands (bus_command.hpp: one-shot reads now, writes later) from its
// one queue between poll blocks, so nothing else ever talks on the bus at the same time.
// Results leave as immutable snapshots and as the commands' answers.

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
#include "poller/bus_command.hpp"
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
  // Answers every queued command at once with ErrorKind::Cancelled (as it does every command
  // submitted later), lets the worker finish the request on the wire, then returns. Queued
  // jobs are dropped without running.
  void stop();

  // Commands, thread-safe. One queue, first in first out. Before each poll block (between
  // devices and between the blocks of one device's read) the worker runs one command, so a
  // command waits for at most one block and polls and commands take turns; while no poll is
  // due it runs them one after another. Commands submitted before start() wait for it.
  ReadFuture submit(ReadCommand command);
  // submit() with the default deadline.
  ReadFuture read(std::uint8_t unit, std::vector<protocol::FieldId> fields);
  // Runs `job` for device `unit` as a command (writes, clock sync: the job holds their
  // results). The future says Ok once it ran, or why it never will: its deadline passed in
  // the queue (Timeout), the worker stopped (Cancelled). The device's settings and slow
  // fields are read again at its next turn, so the snapshots show what the job changed.
  std::future<core::Status> run_command(std::uint8_t unit, std::chrono::milliseconds timeout,
                                        BusJob job);
  // Runs `job` with the bus to itself, in the same queue and turn as a command (pass-through
  // requests until they are commands of their own).
  void post(BusJob job);

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
    int silence = 0;  // silent cycles before the last answer
    bool identified = false;
    bool announced = false;          // its "online" line is logged
    std::uint64_t support_seen = 0;  // support.generation() last copied into the status
  };

  // A command in the queue: run with the bus, or refused without it (its deadline passed, or
  // the worker stopped).
  struct Queued {
    std::optional<std::uint8_t> unit;  // whom it talks to, for the device's counters
    core::SteadyTime submitted;
    core::SteadyTime deadline = core::SteadyTime::max();
    std::function<void(transport::ModbusClient&)> run;
    std::function<void(core::Error)> refuse;
  };

  void run();
  void enqueue(Queued command);
  // Runs (or refuses) the oldest command; false when there was none or the worker stops.
  bool serve_one();
  [[nodiscard]] bool polls_due() const;
  [[nodiscard]] Device* find(std::uint8_t unit);
  [[nodiscard]] core::Error stopped() const;  // the answer to a command after stop()
  void poll(Device& device, const std::vector<protocol::PollClass>& classes);
  // One request, no retry: is a silent device back? The error when it is not.
  std::optional<core::Error> probe(Device& device);
  // A port that is gone backs the whole bus off (1, 2, 4 ... 30 s); link_works ends that.
  void link_failed(const core::Error& error);
  void link_works();
  void publish(Device& device, const device::Reading& reading, model::Health health);
  // Adds what the client counted since `mark` to the device's counters, less what commands
  // run meanwhile sent (they are counted for the device they talk to).
  struct Mark {
    transport::ClientCounters client;
    transport::ClientCounters commands;
  };
  [[nodiscard]] Mark mark() const { return {m_client->counters(), m_command_traffic}; }
  void account(Device& device, const Mark& before, const device::Reading& reading);
  void note_error(Device& device, const std::string& error);
  // Logs transitions only: first answer ("online"), silence, answers again, complete again.
  // `fields`: the values of the cycle that set it.
  void set_health(Device& device, model::Health health, const std::string& why, std::size_t fields);
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
  transport::ClientCounters m_command_traffic;  // what commands sent so far

  mutable std::mutex m_mutex;  // guards the queue, m_stop and m_status
  std::condition_variable m_wake;
  std::deque<Queued> m_queue;
  bool m_stop = false;
  model::BusStatus m_status;
  std::thread m_thread;
};

}  // namespace tracermon::poller
