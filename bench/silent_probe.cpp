// What a silent id costs the bus, for issue 16 point 4: the daemon's probe of a controller that
// does not answer (one request, no retry) against one reply timeout plus one gap, which is all
// it should cost. Over a pty at 115200 baud to simulated controllers where id 1 answers and
// id 2 is silent, with the client of a serial port (sync_first, 1.75 ms silence), timeout
// 400 ms, gap 50 ms. Run: build/bench/silent_probe [worker]
//
// 1. The client alone: the first read of a silent id (3 tries, and the sync that comes before
//    the first request to an id) and the probe (one request).
// 2. `worker`: the bus worker polling ids 1 and 2 every second, with id 2 never there and then
//    switched off after 4 s; prints every request and snapshot with its time, so the bus time
//    of each probe shows (from the request to the silent snapshot, and the gap before it).

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "poller/bus_worker.hpp"
#include "protocol/register_map.hpp"
#include "sim/bus.hpp"
#include "slave/links.hpp"
#include "transport/modbus_client.hpp"

using namespace tracermon;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// What went on the wire and when, and when each snapshot came out.
struct Event {
  Clock::time_point at;
  std::string what;
};
struct Log {
  std::mutex mutex;
  std::vector<Event> events;
  void add(std::string what) {
    std::lock_guard lock(mutex);
    events.push_back({Clock::now(), std::move(what)});
  }
};

class LoggedStream final : public transport::ByteStream {
 public:
  LoggedStream(std::unique_ptr<transport::ByteStream> inner, Log& log)
      : m_inner(std::move(inner)), m_log(log) {}
  core::Status open(transport::Deadline d) override { return m_inner->open(d); }
  void close() override { m_inner->close(); }
  [[nodiscard]] bool is_open() const override { return m_inner->is_open(); }
  core::Status write_all(std::span<const std::uint8_t> bytes, transport::Deadline d) override {
    char text[32];
    std::snprintf(text, sizeof text, "request id %d FC 0x%02X", bytes[0], bytes[1]);
    m_log.add(text);
    return m_inner->write_all(bytes, d);
  }
  core::Status read_some(transport::Bytes& out, transport::Deadline d) override {
    return m_inner->read_some(out, d);
  }
  void discard_input() override { m_inner->discard_input(); }
  [[nodiscard]] std::string describe() const override { return m_inner->describe(); }
  [[nodiscard]] bool paced_by_wire() const override { return m_inner->paced_by_wire(); }

 private:
  std::unique_ptr<transport::ByteStream> m_inner;
  Log& m_log;
};

// The daemon's bus worker polls id 1 (answers) and id 2 (never there, or `was_there` until the
// simulator stops answering it after 4 s) every second for 16 s; prints what went on the wire.
void worker_run(const std::filesystem::path& dir, bool was_there) {
  sim::BusOptions options;
  options.ids = was_there ? std::vector<std::uint8_t>{1, 2} : std::vector<std::uint8_t>{1};
  options.start = sim::from_calendar({2026, 6, 21, 12, 0, 0});
  auto bus = std::make_unique<sim::SimulatedBus>(options);
  auto link = std::make_unique<slave::PtyLink>(*bus, dir / "tty");
  poller::BusSetup setup;
  setup.name = "bench";
  setup.port = transport::parse_port((dir / "tty").string());
  setup.client.timeout = milliseconds(400);
  setup.client.gap = milliseconds(50);
  setup.intervals = {milliseconds(1000), milliseconds(60000), milliseconds(3600000), 1};
  setup.devices = {{1, "one", "site", ""}, {2, "two", "site", ""}};
  Log log;
  auto made = transport::make_client(setup.port, setup.serial, setup.client);
  auto client = std::make_unique<transport::ModbusClient>(
      std::make_unique<LoggedStream>(transport::make_stream(setup.port, setup.serial), log),
      transport::Framing::Rtu, made->options());
  made.reset();
  poller::ClockWatch watch;
  poller::BusWorker worker(
      setup, protocol::RegisterMap::builtin(), watch,
      [&](model::SnapshotPtr s) {
        log.add("snapshot " + s->device + (s->fields.empty() ? " (silent)" : ""));
      },
      core::system_clock(), std::move(client));
  worker.start();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  if (was_there) {
    // id 2 is switched off: the simulator stops answering it.
    log.add("id 2 switched off");
    sim::FaultSettings faults;
    faults.rate[static_cast<std::size_t>(sim::Fault::NoReply)] = 1.0;
    faults.only_unit = 2;
    bus->set_faults(faults);
  }
  std::this_thread::sleep_for(std::chrono::seconds(12));
  worker.stop();
  std::lock_guard lock(log.mutex);
  auto t0 = log.events.front().at;
  for (const auto& e : log.events) {
    std::printf("  %8.1f ms  %s\n", std::chrono::duration<double, std::milli>(e.at - t0).count(),
                e.what.c_str());
  }
  auto counters = worker.status().devices[1].counters;
  std::printf("  id 2: %llu requests, %llu timeouts, %llu silent cycles\n",
              static_cast<unsigned long long>(counters.requests),
              static_cast<unsigned long long>(counters.timeouts),
              static_cast<unsigned long long>(counters.silent_cycles));
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tracermon-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    sim::BusOptions options;
    options.ids = {1};
    options.start = sim::from_calendar({2026, 6, 21, 12, 0, 0});
    sim::SimulatedBus bus(options);
    slave::PtyLink link(bus, dir / "tty");

    transport::ClientOptions client_options;  // the daemon's defaults but a 400 ms timeout
    client_options.timeout = milliseconds(400);
    client_options.gap = milliseconds(50);
    auto client =
        transport::make_client(transport::parse_port((dir / "tty").string()), {}, client_options);
    if (!client->open()) {
      std::fprintf(stderr, "cannot open the pty\n");
      return 1;
    }
    const auto& map = protocol::RegisterMap::builtin();
    const auto& first = *map.find("pv_voltage");  // the probe's register
    auto probe = [&](std::uint8_t unit, int retries) {
      auto saved = client->options().retries;
      client->options().retries = retries;
      auto before = client->counters();
      auto start = Clock::now();
      (void)client->read(unit, first.table, first.address, first.width());
      auto ms = ms_since(start);
      client->options().retries = saved;
      auto after = client->counters();
      return std::pair{ms, after.requests - before.requests};
    };
    (void)probe(1, 2);
    auto [cold, cold_requests] = probe(2, 2);
    std::printf(
        "first read of a silent id (3 tries): %.0f ms, %llu requests (3 x (400 + 50) = "
        "1350 ms)\n",
        cold, static_cast<unsigned long long>(cold_requests));
    constexpr int k_rounds = 5;
    double total = 0;
    std::uint64_t requests = 0;
    for (int i = 0; i < k_rounds; ++i) {
      (void)probe(1, 2);
      auto [ms, n] = probe(2, 0);
      total += ms;
      requests += n;
    }
    std::printf("probe of a silent id: %.0f ms, %.1f requests on the wire (400 + 50 = 450 ms)\n",
                total / k_rounds, static_cast<double>(requests) / k_rounds);
  }
  if (argc > 1 && std::string(argv[1]) == "worker") {
    std::printf("the bus worker, id 2 never there:\n");
    worker_run(dir, false);
    std::printf("the bus worker, id 2 switched off after 4 s:\n");
    worker_run(dir, true);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
