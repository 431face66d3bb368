#pragma once
// What the bus worker's tests share: a collector of snapshots to wait on, and a tap on the
// worker's link to the in-process simulator that logs every request frame, can act when one
// is written (on the worker's thread) and can unplug the adapter.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "model/snapshot.hpp"
#include "poller/bus_worker.hpp"
#include "sim/sim_stream.hpp"
#include "transport/byte_stream.hpp"
#include "transport/modbus_client.hpp"
#include "transport/port_spec.hpp"

namespace tracermon::poller::test {

// Collects snapshots and lets a test wait for a condition on them (no sleeps).
class Collector {
 public:
  void add(model::SnapshotPtr s) {
    {
      std::lock_guard lock(m_mutex);
      m_all.push_back(std::move(s));
    }
    m_changed.notify_all();
  }
  // Waits until `done(snapshots)` holds; false after `limit` of real time (a hang).
  template <typename Pred>
  bool wait(Pred done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, limit, [&] { return done(m_all); });
  }
  std::vector<model::SnapshotPtr> all() {
    std::lock_guard lock(m_mutex);
    return m_all;
  }
  std::size_t count(const std::string& device) {
    std::lock_guard lock(m_mutex);
    return static_cast<std::size_t>(
        std::count_if(m_all.begin(), m_all.end(),
                      [&](const model::SnapshotPtr& s) { return s->device == device; }));
  }
  SnapshotCallback callback() {
    return [this](model::SnapshotPtr s) { add(std::move(s)); };
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<model::SnapshotPtr> m_all;
};

inline std::size_t count_for(const std::vector<model::SnapshotPtr>& all,
                             const std::string& device) {
  return static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [&](const model::SnapshotPtr& s) { return s->device == device; }));
}

// A bus of simulated controllers (`sim:` options) with fast wire times; devices named "devN".
inline BusSetup setup_for(const std::string& sim_options, const std::vector<std::uint8_t>& units) {
  using std::chrono::milliseconds;
  sim::register_sim_ports();
  BusSetup setup;
  setup.name = "test";
  setup.port = transport::parse_port("sim:" + sim_options);
  setup.client.timeout = milliseconds(100);
  setup.client.gap = milliseconds(2);
  setup.client.retries = 1;
  setup.intervals = {milliseconds(200), milliseconds(1000), milliseconds(300), 4};
  for (auto u : units)
    setup.devices.push_back({u, "dev" + std::to_string(u), "site", ""});
  return setup;
}

// What the tap saw and what it should do; shared by the test and the worker's stream.
struct Tap {
  // Called on the worker's thread as request number `index` (from 0) goes out.
  std::function<void(const transport::Bytes& frame, std::size_t index)> on_request;
  std::atomic<bool> unplugged{false};  // open() fails with NoSuchPort while set

  std::vector<transport::Bytes> frames() {
    std::lock_guard lock(m_mutex);
    return m_frames;
  }
  std::size_t requests_to(std::uint8_t unit) {
    std::lock_guard lock(m_mutex);
    return static_cast<std::size_t>(std::count_if(
        m_frames.begin(), m_frames.end(), [&](const transport::Bytes& f) { return f[0] == unit; }));
  }
  void record(std::span<const std::uint8_t> bytes) {
    std::size_t index = 0;
    transport::Bytes frame(bytes.begin(), bytes.end());
    {
      std::lock_guard lock(m_mutex);
      index = m_frames.size();
      m_frames.push_back(frame);
    }
    if (on_request) on_request(frame, index);
  }

 private:
  std::mutex m_mutex;
  std::vector<transport::Bytes> m_frames;
};

class TapStream final : public transport::ByteStream {
 public:
  TapStream(std::unique_ptr<transport::ByteStream> inner, std::shared_ptr<Tap> tap)
      : m_inner(std::move(inner)), m_tap(std::move(tap)) {}
  core::Status open(transport::Deadline deadline) override {
    if (m_tap->unplugged) {
      return core::Error{core::ErrorKind::NoSuchPort, "the test unplugged the adapter"};
    }
    return m_inner->open(deadline);
  }
  void close() override { m_inner->close(); }
  [[nodiscard]] bool is_open() const override { return m_inner->is_open(); }
  core::Status write_all(std::span<const std::uint8_t> bytes,
                         transport::Deadline deadline) override {
    m_tap->record(bytes);
    return m_inner->write_all(bytes, deadline);
  }
  core::Status read_some(transport::Bytes& out, transport::Deadline deadline) override {
    return m_inner->read_some(out, deadline);
  }
  void discard_input() override { m_inner->discard_input(); }
  [[nodiscard]] std::string describe() const override { return m_inner->describe(); }

 private:
  std::unique_ptr<transport::ByteStream> m_inner;
  std::shared_ptr<Tap> m_tap;
};

// A client for `setup`'s sim: port whose requests pass through `tap`.
inline std::unique_ptr<transport::ModbusClient> tapped_client(const BusSetup& setup,
                                                              std::shared_ptr<Tap> tap) {
  auto stream =
      std::make_unique<TapStream>(transport::make_stream(setup.port, setup.serial), std::move(tap));
  return std::make_unique<transport::ModbusClient>(std::move(stream), transport::Framing::Rtu,
                                                   setup.client);
}

}  // namespace tracermon::poller::test
