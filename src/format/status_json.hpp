#pragma once
// The status shapes of /api/v1/status: each bus with its devices (health, identity, errors,
// counters) and each network output with its state and counters. The counters' keys come from
// format/counters.hpp, the same table /metrics and the InfluxDB `comm` line render from.

#include <nlohmann/json.hpp>

#include "model/device_status.hpp"
#include "model/output_status.hpp"

namespace tracermon::format {

// {"cycles", ... "counter_resets", "exceptions": {"<code>": n}, "latency_ms": {last, mean, max}}
nlohmann::ordered_json device_counters_json(const model::DeviceCounters& counters);

// {"name","id","site","model","health",["identity"],"last_seen","last_error",
//  "last_error_time","unsupported","counters"}; times RFC 3339 (null when never).
nlohmann::ordered_json device_status_json(const model::DeviceStatus& device);

// {"name","port","link_up","link_error","rounds","devices":[...]}
nlohmann::ordered_json bus_status_json(const model::BusStatus& bus);

// {"name","endpoint","connected","state","sent", ... "errors","last_error","last_error_time",
//  "retry_in_s"}
nlohmann::ordered_json output_status_json(const model::OutputStatus& output);

}  // namespace tracermon::format
