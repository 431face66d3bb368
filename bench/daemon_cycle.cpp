// The daemon's polling cost, for the issue note. Run: build/bench/daemon_cycle [cycle|memory]
//
// 1. Cycle time over a pty at 115200 baud against the wire-time floor, for 1 and 6 controllers
//    of `tracermon simulate` (a separate process, so the CPU figures are the poller's alone):
//    one cycle reads every fast and slow field of every device with the planner's block reads.
//    Floor per request: request 8 bytes + reply 5+2N bytes at 10 bits a byte, the simulator's
//    turnaround (4 ms + 0.5 ms a register) and the 1.75 ms inter-frame silence.
//    Gap 0 (no extra idle between requests) and the default gap of 50 ms.
// 2. The whole daemon (bus worker, validation, live state, state files, SQLite store, energy
//    ledger, site totals) on 6 in-process controllers without wire time: CPU per cycle and RSS
//    after 10 000 cycles of every device.

#include <array>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "app/daemon.hpp"
#include "device/field_reader.hpp"
#include "model/snapshot.hpp"
#include "poller/bus_worker.hpp"
#include "protocol/pdu.hpp"
#include "sim/bus.hpp"
#include "sim/sim_stream.hpp"
#include "wire_floor.hpp"

using namespace tracermon;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto sec = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return sec(usage.ru_utime) + sec(usage.ru_stime);
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  }
  return -1;
}

std::vector<protocol::FieldId> monitored_fields(const protocol::RegisterMap& map) {
  std::vector<protocol::FieldId> ids;
  for (const auto& f : map.fields()) {
    if (f.readable() &&
        (f.poll == protocol::PollClass::Fast || f.poll == protocol::PollClass::Slow))
      ids.push_back(f.id);
  }
  return ids;
}

// The floor for one device, with what the model lacks learned the way the poller learns it.
double floor_ms(int unit, std::uint16_t max_registers) {
  const auto& map = protocol::RegisterMap::builtin();
  sim::BusOptions options;
  options.ids = {static_cast<std::uint8_t>(unit)};
  auto bus = std::make_shared<sim::SimulatedBus>(options);
  transport::ModbusClient client(sim::make_instant_stream(bus), transport::Framing::Rtu,
                                 {milliseconds(100), milliseconds(0), 0});
  device::FieldReader reader(map, client, {max_registers});
  protocol::DeviceSupport support;
  auto fields = monitored_fields(map);
  (void)reader.read(static_cast<std::uint8_t>(unit), fields, support);
  return bench::wire_floor_ms(*bus, map, fields, {max_registers}, support);
}

struct Simulator {
  pid_t pid = -1;
  std::filesystem::path tty;
  Simulator(const std::filesystem::path& dir, int controllers) {
    tty = dir / "tty";
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      std::string ids = "1-" + std::to_string(controllers);
      execl(TRACERMON_BIN, TRACERMON_BIN, "simulate", "--ids", ids.c_str(), "--pty", tty.c_str(),
            "--start", "2026-06-21T12:00:00", nullptr);
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1) {
      if (c != '\n') {
        line += c;
        continue;
      }
      if (line == "ready") break;
      line.clear();
    }
    close(out[0]);
  }
  ~Simulator() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
};

void cycle_over_pty(int controllers, int gap_ms) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tracermon-cycle-" + std::to_string(getpid()) + "-" + std::to_string(controllers));
  std::filesystem::create_directories(dir);
  {
    Simulator simulator(dir, controllers);
    poller::BusSetup setup;
    setup.name = "bench";
    setup.port = transport::parse_port(simulator.tty.string());
    setup.client.gap = milliseconds(gap_ms);
    setup.intervals = {milliseconds(1), milliseconds(1), std::chrono::hours(1), 8};
    for (int i = 1; i <= controllers; ++i)
      setup.devices.push_back({static_cast<std::uint8_t>(i), "d" + std::to_string(i), "", ""});
    // The main thread sleeps on a condition variable, so the CPU time is the poller's.
    std::mutex mutex;
    std::condition_variable changed;
    std::uint64_t snapshots = 0;
    std::uint64_t failures = 0;
    poller::ClockWatch clock;
    poller::BusWorker worker(setup, protocol::RegisterMap::builtin(), clock,
                             [&](model::SnapshotPtr s) {
                               std::lock_guard lock(mutex);
                               ++snapshots;
                               for (const auto& m : s->missing)
                                 if (m.why != model::Missing::Unsupported) ++failures;
                               changed.notify_all();
                             });
    auto wait_for = [&](std::uint64_t count) {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return snapshots >= count; });
      return snapshots;
    };
    worker.start();
    const std::uint64_t warmup = 2ULL * controllers;  // once and settings, and the learning
    auto start_snapshots = wait_for(warmup);
    constexpr int k_cycles = 10;
    auto start = Clock::now();
    auto cpu_start = cpu_seconds();
    auto end_snapshots =
        wait_for(start_snapshots + static_cast<std::uint64_t>(k_cycles) * controllers);
    double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    double cpu = cpu_seconds() - cpu_start;
    worker.stop();
    double cycle = elapsed * controllers / static_cast<double>(end_snapshots - start_snapshots);
    double floor = 0;
    for (int i = 1; i <= controllers; ++i)
      floor += floor_ms(i, setup.max_registers);
    std::printf(
        "%d controller(s), gap %2d ms: cycle %7.1f ms, wire floor %7.1f ms, ratio %.2f; "
        "CPU %.2f ms per cycle (%.2f%% of the cycle)%s\n",
        controllers, gap_ms, cycle, floor, cycle / floor, cpu * 1000 / k_cycles,
        cpu * 1000 / k_cycles / cycle * 100, failures ? " (READ FAILURES)" : "");
  }
  std::filesystem::remove_all(dir);
}

void daemon_memory() {
  auto dir = std::filesystem::temp_directory_path() / ("tracermon-rss-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  sim::register_sim_ports();
  app::DaemonConfig config;
  config.runtime_dir = dir / "run";
  config.store.path = dir / "history.db";
  config.files.json_dir = dir / "state";
  config.http.enabled = false;
  config.poll.fast = milliseconds(1);
  config.poll.slow = milliseconds(1);
  // Cycles here are ~1000x faster than on a wire: commit every second so the buffer holds what
  // a real daemon buffers, not 30 s of a thousandfold rate.
  config.store.commit_interval = std::chrono::seconds(1);
  app::BusConfig bus;
  bus.name = "bench";
  bus.port_text = "sim:ids=1-6&instant=1&start=2026-06-21T06:00:00";
  bus.port = transport::parse_port(bus.port_text);
  bus.site = "site";
  bus.client.gap = milliseconds(0);  // no wire: measure the host side alone
  for (int i = 1; i <= 6; ++i)
    bus.devices.push_back({static_cast<std::uint8_t>(i), "d" + std::to_string(i), "", "site"});
  config.buses.push_back(bus);
  spdlog::set_level(spdlog::level::warn);
  long rss_early = 0;
  double cpu_start = 0;
  std::uint64_t cycles_early = 0;
  constexpr std::uint64_t k_cycles = 10000;
  {
    app::Daemon daemon(config);
    auto min_cycles = [&] {
      std::uint64_t least = UINT64_MAX;
      for (const auto& b : daemon.bus_statuses())
        for (const auto& d : b.devices)
          least = std::min(least, d.counters.cycles);
      return least;
    };
    daemon.start();
    while (min_cycles() < 100)
      std::this_thread::sleep_for(milliseconds(20));
    rss_early = rss_kib();
    cycles_early = min_cycles();
    cpu_start = cpu_seconds();
    std::string curve;
    for (std::uint64_t mark : std::array<std::uint64_t, 5>{1000, 2500, 5000, 7500, k_cycles}) {
      while (min_cycles() < mark) {
        std::this_thread::sleep_for(milliseconds(100));
        daemon.tick();
      }
      curve += " " + std::to_string(mark) + ":" + std::to_string(rss_kib());
    }
    double cpu = cpu_seconds() - cpu_start;
    long rss_late = rss_kib();
    auto cycles = min_cycles() - cycles_early;
    std::printf(
        "daemon, 6 controllers without wire time: %llu cycles each; CPU %.3f ms per "
        "device cycle (poller, validation, store, files, ledger, sim); RSS %ld KiB after "
        "100 cycles, %ld KiB after %llu (growth %ld KiB)\n",
        static_cast<unsigned long long>(cycles), cpu * 1000 / (static_cast<double>(cycles) * 6.0),
        rss_early, rss_late, static_cast<unsigned long long>(k_cycles), rss_late - rss_early);
    std::printf("RSS (KiB) by cycles:%s\n", curve.c_str());
    // Cycles come ~1000x faster than on a wire: a sink slower than that loses its oldest
    // events (a real bus never gets there); say so, as the CPU figure then excludes them.
    for (const auto& sink : daemon.sink_counters()) {
      std::printf("sink %-12s delivered %llu, dropped %llu\n", sink.name.c_str(),
                  static_cast<unsigned long long>(sink.delivered),
                  static_cast<unsigned long long>(sink.dropped));
    }
    daemon.stop();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

// No argument: everything; "cycle" or "memory": one part.
int main(int argc, char** argv) {
  std::string part = argc > 1 ? argv[1] : "";
  if (part.empty() || part == "cycle") {
    for (int gap : {0, 50}) {
      cycle_over_pty(1, gap);
      cycle_over_pty(6, gap);
    }
  }
  if (part.empty() || part == "memory") daemon_memory();
  return 0;
}
