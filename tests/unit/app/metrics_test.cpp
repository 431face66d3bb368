#include "web/metrics.hpp"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/prometheus.hpp"
#include "model/live_state.hpp"
#include "prometheus_exposition.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::web {
namespace {

using test::sample;
using test::snapshot;

// The route gathers the daemon's view and leaves the text to format::prometheus_text.
TEST(MetricsRoute, RendersTheDaemonViewThroughTheFormat) {
  model::LiveState live;
  live.merge(snapshot("roof", 1, {sample("pv_voltage", 1852), sample("battery_voltage", 1380)}));
  model::BusStatus bus;
  bus.name = "bus1";
  model::DeviceStatus roof;
  roof.name = "roof";
  roof.unit = 1;
  roof.counters.timeouts = 7;
  bus.devices.push_back(roof);
  std::vector<model::BusStatus> buses{bus};
  model::OutputStatus mqtt;
  mqtt.name = "mqtt";
  mqtt.counters.sent = 3;
  std::vector<model::OutputStatus> outputs{mqtt};
  DaemonView view;
  view.map = &test::map();
  view.live = &live;
  view.buses = [&] { return buses; };
  EXPECT_EQ(render_metrics(view), format::prometheus_text(test::map(), buses, {}, live.devices()));
  view.outputs = [&] { return outputs; };
  EXPECT_EQ(render_metrics(view),
            format::prometheus_text(test::map(), buses, outputs, live.devices()));
}

TEST(MetricsRoute, ListenerConnectionsAndRefusalsFollowTheTextFormat) {
  ListenerCounters counters;
  counters.open = 3;
  counters.accepted = 40;
  counters.refused_busy = 5;
  counters.refused_requests = 2;
  counters.timed_out = 1;
  model::LiveState live;
  DaemonView view;
  view.map = &test::map();
  view.live = &live;
  view.buses = [] { return std::vector<model::BusStatus>{}; };
  auto text = render_metrics(view) + render_listener_metrics(counters);
  auto e = test::parse_exposition(text);
  EXPECT_THAT(e.problems, ::testing::IsEmpty()) << text;
  EXPECT_EQ(e.types["tracermon_http_connections"], "gauge");
  EXPECT_EQ(e.value("tracermon_http_connections", {}), 3);
  EXPECT_EQ(e.value("tracermon_http_connections_accepted_total", {}), 40);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "connections"}}), 5);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "request"}}), 2);
  EXPECT_EQ(e.value("tracermon_http_refused_total", {{"reason", "timeout"}}), 1);
}

}  // namespace
}  // namespace tracermon::web
