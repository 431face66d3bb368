#include "sinks/influx_sink.hpp"

#include <utility>
#include <vector>

#include "format/influx_lines.hpp"
#include "model/live_state.hpp"

namespace tracermon::sinks {

// The lines are pure shapes (src/format).
using format::comm_lines;
using format::device_lines;
using format::legacy_line;
using format::site_lines;

namespace {

// The delivery thread may outlive the sink (a hung write is left behind by stop()), so it
// shares the writer.
DeliverFunction delivery(std::shared_ptr<InfluxWriter> writer) {
  return [writer = std::move(writer)](std::span<const std::string> batch) {
    return writer->write(batch);
  };
}

}  // namespace

OutputRunnerOptions influx_runner_defaults() {
  OutputRunnerOptions options;
  options.name = "influxdb";
  options.batch_items = 500;
  options.batch_bytes = 1U << 20;
  return options;
}

InfluxSink::InfluxSink(const protocol::RegisterMap& map, InfluxSinkOptions options,
                       std::unique_ptr<Outbox> outbox)
    : m_map(map),
      m_options(std::move(options)),
      m_writer(std::make_shared<InfluxWriter>(m_options.writer)),
      m_runner(delivery(m_writer), std::move(outbox), m_options.runner) {}

InfluxSink::~InfluxSink() {
  stop();
}

void InfluxSink::offer(std::string lines) {
  if (!lines.empty()) m_runner.offer(std::move(lines));
}

void InfluxSink::write(const model::DeviceSnapshot& snapshot) {
  offer(device_lines(m_map, snapshot, m_options.measurement_prefix, m_options.writer.precision));
}

void InfluxSink::write_comm(const model::DeviceStatus& status, const model::DeviceSnapshot& cycle) {
  offer(comm_lines(status, cycle, m_options.measurement_prefix, m_options.writer.precision));
}

void InfluxSink::write_site(const model::SiteTotals& totals) {
  offer(site_lines(totals, m_options.measurement_prefix, m_options.writer.precision));
}

bool InfluxSink::write_legacy(std::span<const model::SnapshotPtr> members, core::SteadyTime now,
                              std::chrono::milliseconds max_age) {
  if (!m_options.legacy) return false;
  auto line = legacy_line(m_map, members, now, max_age, m_options.legacy_measurement,
                          m_options.writer.precision);
  if (line.empty()) return false;
  offer(std::move(line));
  return true;
}

OutputCounters InfluxSink::counters() const {
  return m_runner.counters();
}

std::string InfluxSink::endpoint() const {
  return m_writer->endpoint();  // fixed at construction: safe beside the delivery thread
}

void InfluxSink::on_cycle(const CycleEvent& event) {
  const auto& cycle = *event.cycle;
  // Values before the host clock is known good would land under a wrong date.
  if (!cycle.clock_trusted) return;
  write(cycle);
  if (event.status) write_comm(*event.status, cycle);
  const auto& legacy = m_options.legacy_devices;
  if (!m_options.legacy || event.live == nullptr || legacy.empty() ||
      cycle.device != legacy.back()) {
    return;
  }
  std::vector<model::SnapshotPtr> members;
  for (const auto& name : legacy) {
    auto snapshot = event.live->device(name);
    if (!snapshot) return;  // not polled yet: no point rather than a partial sum
    members.push_back(snapshot);
  }
  if (m_next_legacy && cycle.steady < *m_next_legacy - m_options.legacy_slack) return;
  if (write_legacy(members, cycle.steady, m_options.legacy_max_age)) book_next_legacy(cycle.steady);
}

void InfluxSink::book_next_legacy(core::SteadyTime now) {
  // From the last due time, not from `now`: cycles that come a little late must not stretch
  // the interval, so the rate stays one point per interval on average. After a long gap
  // (outage, stale values) the schedule restarts from now instead of catching up.
  auto next = (m_next_legacy ? *m_next_legacy : now) + m_options.legacy_interval;
  if (next <= now) next = now + m_options.legacy_interval;
  m_next_legacy = next;
}

void InfluxSink::on_site(const model::SiteTotals& totals) {
  if (totals.clock_trusted && !totals.values.empty()) write_site(totals);
}

std::optional<OutputStatus> InfluxSink::status() const {
  auto counters = m_runner.counters();
  bool accepting = counters.state == OutputState::Connected;
  return OutputStatus{"influxdb", endpoint(), accepting, counters};
}

void InfluxSink::stop() {
  m_runner.stop();
}

}  // namespace tracermon::sinks
