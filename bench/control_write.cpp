// What a safe write costs on the bus: a battery-settings write (fresh read of 0x9000-0x900E
// and 0x9067, one FC 0x10 of 15 registers, the same reads again to check) and a clock sync
// (read, write, read back) against one simulated controller over a pty at 115200 baud, against
// the wire-time floor of the same requests: each request and reply at 10 bits a byte, the
// controller's turnaround (turnaround_ms plus 0.5 ms a register) and 1.75 ms of silence. The
// client's gap is 2 ms and 50 ms (its default). Run: build/bench/control_write

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "device/settings_writer.hpp"
#include "sim/bus.hpp"
#include "sim/controller.hpp"
#include "slave/links.hpp"
#include "transport/modbus_client.hpp"

using namespace tracermon;

namespace {

struct Request {
  std::size_t request_bytes;
  std::size_t reply_bytes;
  int registers;
};

double floor_ms(const sim::SimulatedBus& bus, std::initializer_list<Request> requests) {
  double total = 0;
  for (const auto& r : requests) {
    total += bus.wire_ms(r.request_bytes + r.reply_bytes) + bus.options().turnaround_ms +
             0.5 * r.registers + 1.75;
  }
  return total;
}

Request read(int n) {
  return {8, 5 + 2 * static_cast<std::size_t>(n), n};
}
Request write(int n) {
  return {9 + 2 * static_cast<std::size_t>(n), 8, n};
}

void run(int gap_ms) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tracermon-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  sim::BusOptions options;
  options.start = sim::from_calendar({2026, 6, 21, 12, 0, 0});
  sim::SimulatedBus bus(options);
  slave::PtyLink link(bus, dir / "tty");
  transport::ClientOptions client_options;
  client_options.gap = std::chrono::milliseconds(gap_ms);
  auto client =
      transport::make_client(transport::parse_port((dir / "tty").string()), {}, client_options);
  if (!client->open()) {
    std::fprintf(stderr, "cannot open the pty\n");
    return;
  }
  const auto& catalog = protocol::SettingsCatalog::builtin();
  const auto& map = catalog.map();
  device::SettingsWriter writer(catalog, *client);
  // Type User first (untimed), then boost alternates between two values: every round writes.
  device::SettingChange setup[] = {{map.find("battery_rated_voltage_code")->id, 1},
                                   {map.find("battery_type")->id, 0}};
  (void)writer.apply(1, setup, false);
  constexpr int k_rounds = 10;
  int failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < k_rounds; ++r) {
    device::SettingChange change{map.find("boost_charging_voltage")->id, r % 2 == 0 ? 1420 : 1440};
    if (writer.apply(1, {&change, 1}, false).outcome != device::WriteOutcome::Written) ++failures;
  }
  double settings_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      k_rounds;
  double settings_floor = floor_ms(bus, {read(15), read(1), write(15), read(15), read(1)});

  // The clock: the simulator starts it on 2026-06-21, far from the host, so every sync writes;
  // it is set back between rounds by a write of the start time (untimed).
  double clock_total = 0;
  for (int r = 0; r < k_rounds; ++r) {
    auto words = protocol::encode_rtc({2026, 6, 21, 12, 0, 0});
    (void)client->write_registers(1, protocol::k_rtc_first, words);
    auto t0 = std::chrono::steady_clock::now();
    auto report = writer.clock(1, true, [] { return std::chrono::system_clock::now(); });
    clock_total +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (report.outcome != device::WriteOutcome::Written) ++failures;
  }
  double clock_ms = clock_total / k_rounds;
  double clock_floor = floor_ms(bus, {read(3), write(3), read(3)});
  std::printf(
      "gap %2d ms: battery block write %.1f ms (floor %.1f ms, ratio %.2f); clock sync "
      "%.1f ms (floor %.1f ms, ratio %.2f)%s\n",
      gap_ms, settings_ms, settings_floor, settings_ms / settings_floor, clock_ms, clock_floor,
      clock_ms / clock_floor, failures != 0 ? " (FAILURES)" : "");
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  run(2);
  run(50);
  return 0;
}
