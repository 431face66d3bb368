#pragma once
// /metrics in the Prometheus text format: bus health counters and the latest value of every
// numeric field, named by Prometheus conventions (base units as suffixes, `_total` counters).

#include <string>

#include "web/daemon_view.hpp"
#include "web/http_limits.hpp"

namespace tracermon::web {

std::string render_metrics(const DaemonView& view);

// The HTTP listener's connections and refusals (tracermon_http_*).
std::string render_listener_metrics(const ListenerCounters& counters);

// "pv_voltage" + "V" -> "tracermon_pv_voltage_volts".
std::string metric_name(std::string_view field, std::string_view unit);

}  // namespace tracermon::web
