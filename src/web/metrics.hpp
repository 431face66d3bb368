#pragma once
// /metrics: the daemon's state in the Prometheus text format (format/prometheus.hpp) and the
// HTTP listener's own counters.

#include <string>

#include "web/daemon_view.hpp"
#include "web/http_limits.hpp"

namespace tracermon::web {

std::string render_metrics(const DaemonView& view);

// The HTTP listener's connections and refusals (tracermon_http_*).
std::string render_listener_metrics(const ListenerCounters& counters);

}  // namespace tracermon::web
