#include "format/status_json.hpp"

#include <chrono>
#include <string>

#include "core/wall_time.hpp"
#include "format/counters.hpp"

namespace tracermon::format {

using nlohmann::ordered_json;

namespace {

// RFC 3339, or null for the epoch (never happened).
ordered_json time_or_null(core::WallTime time) {
  return time.time_since_epoch().count() == 0 ? ordered_json(nullptr)
                                              : ordered_json(core::rfc3339(time));
}

}  // namespace

ordered_json device_counters_json(const model::DeviceCounters& counters) {
  ordered_json out = ordered_json::object();
  for (const auto& counter : device_counters())
    out[std::string(counter.key)] = counters.*counter.member;
  ordered_json exceptions = ordered_json::object();
  for (const auto& [code, count] : counters.exceptions)
    exceptions[std::to_string(code)] = count;
  out[std::string(k_exception_counts.key)] = std::move(exceptions);
  ordered_json latency = ordered_json::object();
  for (const auto& figure : device_latencies())
    latency[std::string(figure.key)] = counters.*figure.member;
  out["latency_ms"] = std::move(latency);
  return out;
}

ordered_json device_status_json(const model::DeviceStatus& device) {
  ordered_json out{{"name", device.name},
                   {"id", device.unit},
                   {"site", device.site},
                   {"model", device.model},
                   {"health", model::to_string(device.health)}};
  const auto& identity = device.identity;
  if (!identity.product_code.empty()) {
    out["identity"] = {{"vendor", identity.vendor},
                       {"product", identity.product_code},
                       {"revision", identity.revision},
                       {"serial", identity.serial}};
  }
  out["last_seen"] = time_or_null(device.last_seen);
  out["last_error"] = device.last_error;
  out["last_error_time"] = time_or_null(device.last_error_time);
  out["unsupported"] = device.unsupported;
  out["counters"] = device_counters_json(device.counters);
  return out;
}

ordered_json bus_status_json(const model::BusStatus& bus) {
  auto devices = ordered_json::array();
  for (const auto& device : bus.devices)
    devices.push_back(device_status_json(device));
  return ordered_json{{"name", bus.name},       {"port", bus.port},
                      {"link_up", bus.link_up}, {"link_error", bus.link_error},
                      {"rounds", bus.rounds},   {"devices", std::move(devices)}};
}

ordered_json output_status_json(const model::OutputStatus& output) {
  const auto& c = output.counters;
  ordered_json out{{"name", output.name},
                   {"endpoint", output.endpoint},
                   {"connected", output.connected},
                   {"state", model::to_string(c.state)}};
  for (const auto& counter : output_counters())
    out[std::string(counter.key)] = c.*counter.member;
  out["last_error"] = c.last_error;
  // The time of the last error, null while there was none.
  out["last_error_time"] =
      c.last_error.empty() ? ordered_json(nullptr) : ordered_json(core::rfc3339(c.last_error_time));
  out["retry_in_s"] = std::chrono::duration<double>(c.retry_delay).count();
  return out;
}

}  // namespace tracermon::format
