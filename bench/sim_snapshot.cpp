// How long a full block-read snapshot (every readable field) of 1 and of 6 simulated
// controllers takes over a pty at 115200 baud, against the wire-time floor of the same
// requests: request 8 bytes, reply 5+2N bytes, 10 bits a byte, the controller's turnaround
// (which holds the 1.75 ms silence before the reply) and 1.75 ms of silence before the next
// request. The client's gap is 2 ms (the smallest whole millisecond above 1.75) and 50 ms (its
// default, NOTES.md section 9). Run: build/bench/sim_snapshot

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "device/field_reader.hpp"
#include "protocol/pdu.hpp"
#include "protocol/read_plan.hpp"
#include "sim/bus.hpp"
#include "sim/controller.hpp"
#include "slave/links.hpp"
#include "transport/modbus_client.hpp"
#include "wire_floor.hpp"

using namespace tracermon;

namespace {

void run(int controllers, int gap_ms) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tracermon-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  sim::BusOptions options;
  options.ids.clear();
  for (int i = 1; i <= controllers; ++i)
    options.ids.push_back(static_cast<std::uint8_t>(i));
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
  const auto& map = protocol::RegisterMap::builtin();
  auto all = protocol::all_readable_fields(map);
  protocol::PlanOptions plan;
  device::FieldReader reader(map, *client, plan);
  std::vector<protocol::DeviceSupport> support(options.ids.size());
  // First snapshot learns which registers the model lacks; it is not timed.
  for (std::size_t i = 0; i < options.ids.size(); ++i)
    (void)reader.read(options.ids[i], all, support[i]);
  constexpr int k_rounds = 5;
  std::size_t requests = 0, failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < k_rounds; ++r) {
    for (std::size_t i = 0; i < options.ids.size(); ++i) {
      auto reading = reader.read(options.ids[i], all, support[i]);
      requests += reading.requests;
      failures += reading.failures.size();
    }
  }
  double measured =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
      k_rounds;
  double floor = 0;
  for (const auto& s : support)
    floor += bench::wire_floor_ms(bus, map, all, plan, s);
  std::printf(
      "%d controller(s), gap %2d ms: %zu requests per snapshot, %.1f ms measured, %.1f ms "
      "wire floor, ratio %.2f%s\n",
      controllers, gap_ms, requests / k_rounds, measured, floor, measured / floor,
      failures != 0 ? " (READ FAILURES)" : "");
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  for (int gap : {2, 50}) {
    run(1, gap);
    run(6, gap);
  }
  return 0;
}
