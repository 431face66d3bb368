#pragma once
// What the daemon tells about each network output (MQTT, InfluxDB): its state and the counters
// of its deliveries. Plain values, copied out of the output's runner (sinks/output_queue.hpp).

#include <chrono>
#include <cstdint>
#include <string>

namespace tracermon::model {

enum class OutputState : std::uint8_t { Connected, Retrying, Stopped };
const char* to_string(OutputState state);

struct OutputCounters {
  std::uint64_t sent = 0;       // items delivered
  std::uint64_t queued = 0;     // in memory, including a batch being delivered
  std::uint64_t in_outbox = 0;  // on disk
  std::uint64_t dropped = 0;    // lost to the queue or outbox bounds
  std::uint64_t errors = 0;     // failed deliveries and outbox errors
  std::uint64_t rejected = 0;   // items the far end refused (not retried)
  std::string last_error;
  std::chrono::system_clock::time_point last_error_time{};  // epoch when there was none
  OutputState state = OutputState::Connected;
  std::chrono::milliseconds retry_delay{0};  // the current backoff while retrying
};

// What /api/v1/status and /metrics show of one output.
struct OutputStatus {
  std::string name;        // "mqtt", "influxdb"
  std::string endpoint;    // where it delivers, without credentials
  bool connected = false;  // the far end accepts (MQTT: the broker connection is up)
  OutputCounters counters;
};

}  // namespace tracermon::model
