#include "web/metrics.hpp"

#include <vector>

#include <fmt/format.h>

#include "format/prometheus.hpp"

namespace tracermon::web {

std::string render_metrics(const DaemonView& view) {
  auto buses = view.buses();
  auto outputs = view.outputs ? view.outputs() : std::vector<model::OutputStatus>{};
  auto devices = view.live->devices();
  return format::prometheus_text(*view.map, buses, outputs, devices);
}

std::string render_listener_metrics(const ListenerCounters& counters) {
  return fmt::format(
      "# HELP tracermon_http_connections HTTP connections open now.\n"
      "# TYPE tracermon_http_connections gauge\n"
      "tracermon_http_connections {}\n"
      "# HELP tracermon_http_connections_accepted_total HTTP connections accepted.\n"
      "# TYPE tracermon_http_connections_accepted_total counter\n"
      "tracermon_http_connections_accepted_total {}\n"
      "# HELP tracermon_http_refused_total Connections and requests the HTTP listener refused: "
      "at the connection limit (503), oversized or with a body (400, 413, 414, 431), head not "
      "complete in time (408).\n"
      "# TYPE tracermon_http_refused_total counter\n"
      "tracermon_http_refused_total{{reason=\"connections\"}} {}\n"
      "tracermon_http_refused_total{{reason=\"request\"}} {}\n"
      "tracermon_http_refused_total{{reason=\"timeout\"}} {}\n",
      counters.open, counters.accepted, counters.refused_busy, counters.refused_requests,
      counters.timed_out);
}

}  // namespace tracermon::web
