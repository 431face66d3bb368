#pragma once
// Every counter tracermon shows, described once: its key, its Prometheus family and help text,
// and the member of the data model it reads. /api/v1/status (status_json), /metrics
// (prometheus) and the InfluxDB `comm` line (influx_lines) render from these tables, so a new
// counter is one row here and every output names it the same way.
//
// The names are interfaces (docs/outputs.md, dashboards, alerts, scripts): a row's names never
// change; rows are added at the end of their group.

#include <cstdint>
#include <span>
#include <string_view>

#include "model/device_status.hpp"
#include "model/output_status.hpp"

namespace tracermon::format {

// One of a device's communication counters (model::DeviceCounters, cumulative since start).
struct DeviceCounterInfo {
  std::string_view key;     // /api/v1/status "counters" key; InfluxDB `comm` field
  std::string_view metric;  // Prometheus counter family (ends in _total), labels device/bus/id
  std::string_view help;    // Prometheus HELP
  std::uint64_t model::DeviceCounters::*member;
  bool in_comm_line;  // an integer field of InfluxDB `<prefix>_comm` (the cycle counts are not)
};

// requests, replies, timeouts ... counter_resets, in the order every output lists them.
std::span<const DeviceCounterInfo> device_counters();

// One of a device's reply latency figures, in milliseconds.
struct LatencyInfo {
  std::string_view key;     // /api/v1/status "latency_ms" key; InfluxDB field latency_ms_<key>
  std::string_view metric;  // Prometheus gauge in seconds; empty = not in /metrics
  std::string_view help;
  double model::DeviceCounters::*member;
  bool in_comm_line;  // a float field of InfluxDB `<prefix>_comm`
};

// last, mean, max.
std::span<const LatencyInfo> device_latencies();

// Prometheus metric types.
enum class MetricType : std::uint8_t { Counter, Gauge };
std::string_view to_string(MetricType type);

// One of a network output's counters (model::OutputCounters).
struct OutputCounterInfo {
  std::string_view key;     // /api/v1/status "outputs" key
  std::string_view metric;  // Prometheus family, label output
  MetricType type;          // counters end in _total, gauges (what waits now) do not
  std::string_view help;
  std::uint64_t model::OutputCounters::*member;
};

// sent, queued, in_outbox, dropped, rejected, errors.
std::span<const OutputCounterInfo> output_counters();

// Modbus exception replies by code (DeviceCounters::exceptions): /api/v1/status
// "exceptions": {"<code>": n}; Prometheus counter family `metric` with the label code.
struct ExceptionCountsInfo {
  std::string_view key;
  std::string_view metric;
  std::string_view help;
};
inline constexpr ExceptionCountsInfo k_exception_counts{
    "exceptions", "tracermon_modbus_exceptions_total", "Modbus exception replies by code"};

}  // namespace tracermon::format
