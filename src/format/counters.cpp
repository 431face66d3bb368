#include "format/counters.hpp"

#include <array>

namespace tracermon::format {
namespace {

using model::DeviceCounters;
using model::OutputCounters;

constexpr std::array<DeviceCounterInfo, 16> k_device_counters = {{
    {"cycles", "tracermon_poll_cycles_total", "Poll cycles tried", &DeviceCounters::cycles, false},
    {"silent_cycles", "tracermon_poll_silent_cycles_total", "Poll cycles without any answer",
     &DeviceCounters::silent_cycles, false},
    {"requests", "tracermon_modbus_requests_total", "Modbus requests sent, retries included",
     &DeviceCounters::requests, true},
    {"replies", "tracermon_modbus_replies_total", "Valid replies, exceptions included",
     &DeviceCounters::replies, true},
    {"timeouts", "tracermon_modbus_timeouts_total", "Requests without a reply in time",
     &DeviceCounters::timeouts, true},
    {"crc_errors", "tracermon_modbus_crc_errors_total", "Frames for us with a bad CRC",
     &DeviceCounters::crc_errors, true},
    {"bad_replies", "tracermon_modbus_bad_replies_total", "Replies that did not fit the request",
     &DeviceCounters::bad_replies, true},
    {"wrong_unit", "tracermon_modbus_wrong_unit_total", "Frames from another slave id",
     &DeviceCounters::wrong_unit, true},
    {"echoes", "tracermon_modbus_echoes_total", "Our own request echoed back by the adapter",
     &DeviceCounters::echoes, true},
    {"noise_bytes", "tracermon_modbus_noise_bytes_total",
     "Bytes on the line that belonged to no frame", &DeviceCounters::noise_bytes, true},
    {"late_replies", "tracermon_modbus_late_replies_total",
     "Replies that came after their request gave up (discarded)", &DeviceCounters::late_replies,
     true},
    {"other_master", "tracermon_modbus_other_master_frames_total",
     "Another master's requests and the replies to them", &DeviceCounters::other_master, true},
    {"retries", "tracermon_modbus_retries_total", "Requests sent again", &DeviceCounters::retries,
     true},
    {"link_errors", "tracermon_modbus_link_errors_total", "Port open or I/O failures",
     &DeviceCounters::link_errors, true},
    {"rejected_values", "tracermon_rejected_values_total", "Values read but physically impossible",
     &DeviceCounters::rejected_values, true},
    {"counter_resets", "tracermon_energy_counter_resets_total", "Energy totals that restarted",
     &DeviceCounters::counter_resets, true},
}};

constexpr std::array<LatencyInfo, 3> k_latencies = {{
    {"last", "", "", &DeviceCounters::latency_ms_last, false},
    {"mean", "tracermon_modbus_latency_seconds", "Mean reply latency",
     &DeviceCounters::latency_ms_mean, true},
    {"max", "", "", &DeviceCounters::latency_ms_max, true},
}};

constexpr std::array<OutputCounterInfo, 6> k_output_counters = {{
    {"sent", "tracermon_output_sent_total", MetricType::Counter, "Items delivered",
     &OutputCounters::sent},
    {"queued", "tracermon_output_queued", MetricType::Gauge, "Items waiting in memory",
     &OutputCounters::queued},
    {"in_outbox", "tracermon_output_outbox_items", MetricType::Gauge,
     "Items waiting in the outbox on disk", &OutputCounters::in_outbox},
    {"dropped", "tracermon_output_dropped_total", MetricType::Counter,
     "Items lost to the queue or outbox bounds", &OutputCounters::dropped},
    {"rejected", "tracermon_output_rejected_total", MetricType::Counter,
     "Items the far end refused", &OutputCounters::rejected},
    {"errors", "tracermon_output_errors_total", MetricType::Counter, "Failed deliveries",
     &OutputCounters::errors},
}};

}  // namespace

std::span<const DeviceCounterInfo> device_counters() {
  return k_device_counters;
}

std::span<const LatencyInfo> device_latencies() {
  return k_latencies;
}

std::span<const OutputCounterInfo> output_counters() {
  return k_output_counters;
}

std::string_view to_string(MetricType type) {
  return type == MetricType::Counter ? "counter" : "gauge";
}

}  // namespace tracermon::format
