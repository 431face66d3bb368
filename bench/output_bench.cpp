// `build/bench/output_bench`: what the network outputs cost.
//  1. Encoding one controller's cycle for MQTT (state message) and InfluxDB (lines), against
//     the state-file JSON the daemon already writes every cycle (a baseline in this process)
//     and against the wire time of that cycle at 115200 baud (the physical limit).
//  2. An outbox after an outage: one hour of six controllers spilled to disk and drained,
//     against the rate it filled.
//  3. With Debian's mosquitto on PATH: QoS 1 state messages through a real broker per second,
//     acknowledged, against the rate six controllers produce them.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "format/ha_discovery.hpp"
#include "format/influx_lines.hpp"
#include "format/mqtt_messages.hpp"
#include "format/snapshot_json.hpp"
#include "protocol/pdu.hpp"
#include "protocol/read_plan.hpp"
#include "sinks/mqtt_connection.hpp"
#include "sinks/outbox.hpp"

namespace {

using namespace tracermon;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Every live and statistics field of a Tracer, as one fast+slow cycle reads them.
model::DeviceSnapshot full_cycle(const protocol::RegisterMap& map, core::SteadyTime now) {
  model::DeviceSnapshot s;
  s.device = "east";
  s.bus = "garage";
  s.site = "garage";
  s.unit = 1;
  s.health = model::Health::Online;
  s.time = std::chrono::system_clock::now();
  for (const auto& field : map.fields()) {
    if (!format::has_entity(field)) continue;
    model::FieldSample sample;
    sample.id = field.id;
    sample.raw = 1234 + field.address % 97;
    sample.word_count = static_cast<std::uint8_t>(field.width());
    sample.words[0] = static_cast<std::uint16_t>(sample.raw);
    sample.value = static_cast<double>(sample.raw) / static_cast<double>(field.scale);
    sample.read_at = now;
    sample.wall_time = s.time;
    s.fields.push_back(sample);
  }
  return s;
}

// The wire time of reading `fields` at 115200 baud: request and reply bytes at 10 bits a byte
// plus the 1.75 ms RTU silence per request; no turnaround (the floor).
double wire_ms(const protocol::RegisterMap& map, const model::DeviceSnapshot& s) {
  std::vector<protocol::FieldId> ids;
  for (const auto& f : s.fields)
    ids.push_back(f.id);
  double total = 0;
  for (const auto& b : protocol::plan_reads(map, ids, {}, {})) {
    auto request = protocol::make_read_request(b.table, b.start, b.count);
    auto bytes = 8 + protocol::expected_reply_size(request) + 3;
    total += static_cast<double>(bytes) * 10.0 / 115200.0 * 1000.0 + 1.75;
  }
  return total;
}

void encoding(const protocol::RegisterMap& map) {
  auto now = Clock::now();
  auto cycle = full_cycle(map, now);
  model::PollIntervals intervals;
  constexpr int k_rounds = 20000;
  std::size_t sink = 0;
  auto time = [&](auto&& work) {
    auto start = Clock::now();
    for (int i = 0; i < k_rounds; ++i)
      sink += work().size();
    return ms_since(start) * 1000.0 / k_rounds;  // us per cycle
  };
  auto baseline = time([&] { return format::snapshot_json(map, cycle, intervals).dump(); });
  auto state = time([&] { return format::device_state_message(map, cycle, intervals, now); });
  auto lines = time([&] {
    return format::device_lines(map, cycle, "tracer", format::InfluxPrecision::Nanoseconds);
  });
  auto wire = wire_ms(map, cycle) * 1000.0;
  std::printf("1. encoding one controller's full cycle (%zu fields), %d rounds:\n",
              cycle.fields.size(), k_rounds);
  std::printf("   state file JSON (baseline) %8.1f us\n", baseline);
  std::printf("   MQTT state message         %8.1f us  %.2fx baseline  %zu bytes\n", state,
              state / baseline, format::device_state_message(map, cycle, intervals, now).size());
  std::printf(
      "   InfluxDB lines             %8.1f us  %.2fx baseline  %zu bytes\n", lines,
      lines / baseline,
      format::device_lines(map, cycle, "tracer", format::InfluxPrecision::Nanoseconds).size());
  std::printf("   wire time of that cycle    %8.1f us: both outputs cost %.4f of it\n", wire,
              (state + lines) / wire);
  if (sink == 0) std::printf("(nothing encoded)\n");
}

void outbox_drain(const protocol::RegisterMap& map) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tracermon-bench-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto now = Clock::now();
  auto payload =
      "tracermon/east/state\n" + format::device_state_message(map, full_cycle(map, now), {}, now);
  constexpr std::size_t k_items = std::size_t{6} * 720;  // six controllers, one hour at 5 s
  auto opened = sinks::Outbox::open(dir);
  if (!opened) {
    std::printf("2. outbox: %s\n", opened.error().describe().c_str());
    return;
  }
  auto& outbox = *opened.value();
  auto start = Clock::now();
  for (std::size_t i = 0; i < k_items; ++i)
    (void)outbox.append(payload);
  auto spill_ms = ms_since(start);
  start = Clock::now();
  while (!outbox.empty()) {
    auto batch = outbox.peek(100, std::size_t{256} * 1024);
    if (!batch) break;
    (void)outbox.ack(batch.value().size());
  }
  auto drain_ms = ms_since(start);
  (void)outbox.close();
  std::filesystem::remove_all(dir);
  double mb = static_cast<double>(k_items * payload.size()) / 1e6;
  std::printf("2. outbox, one hour of six controllers (%zu state messages, %.1f MB):\n", k_items,
              mb);
  std::printf(
      "   spilled in %.0f ms, drained in %.0f ms: %.0fx faster than the hour that filled it\n",
      spill_ms, drain_ms, 3600e3 / (spill_ms + drain_ms));
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void broker_rate(const protocol::RegisterMap& map) {
  auto port = free_port();
  pid_t pid = ::fork();
  if (pid == 0) {
    auto text = std::to_string(port);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execlp("mosquitto", "mosquitto", "-p", text.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  sinks::MqttConnectionOptions options;
  options.port = port;
  options.client_id = "tracermon-bench";
  options.retry_initial = 100ms;
  sinks::MqttConnection connection(options, nullptr, nullptr);
  connection.start();
  auto deadline = Clock::now() + 5s;
  while (!connection.connected() && Clock::now() < deadline)
    std::this_thread::sleep_for(10ms);  // a bench waiting for a process to start, not a test
  if (!connection.connected()) {
    std::printf("3. broker: mosquitto did not start (is it installed?)\n");
  } else {
    auto now = Clock::now();
    auto payload = format::device_state_message(map, full_cycle(map, now), {}, now);
    std::vector<sinks::MqttMessage> batch(100, {"tracermon/east/state", payload, 1, true});
    constexpr int k_batches = 50;
    auto start = Clock::now();
    int delivered = 0;
    for (int i = 0; i < k_batches; ++i) {
      if (connection.publish_all(batch, 10s)) delivered += static_cast<int>(batch.size());
    }
    auto seconds = ms_since(start) / 1000.0;
    double rate = delivered / seconds;
    std::printf("3. QoS 1 state messages through mosquitto on loopback, acknowledged:\n");
    std::printf("   %d in %.2f s = %.0f/s; six controllers at 5 s make 1.2/s: %.0fx headroom\n",
                delivered, seconds, rate, rate / 1.2);
    std::printf("   (an hour of outage drains in %.1f s)\n", 6 * 720 / rate);
  }
  connection.stop();
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

int main() {
  const auto& map = protocol::RegisterMap::builtin();
  encoding(map);
  outbox_drain(map);
  broker_rate(map);
  return 0;
}
