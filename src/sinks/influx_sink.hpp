#pragma once
// The InfluxDB output: turns snapshots, communication counters and site totals into line
// protocol (influx_lines.hpp) and hands them to its own OutputRunner, whose thread writes them
// with an InfluxWriter. Every call only queues: a slow or dead InfluxDB never delays polling,
// and what it cannot take waits in the outbox (see output_queue.hpp).

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "model/device_status.hpp"
#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"
#include "sinks/influx_writer.hpp"
#include "sinks/outbox.hpp"
#include "sinks/output_queue.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

// Runner defaults for InfluxDB: larger batches than the generic ones (one POST per batch;
// InfluxDB recommends batches of thousands of points).
OutputRunnerOptions influx_runner_defaults();

struct InfluxSinkOptions {
  InfluxWriterOptions writer;
  std::string measurement_prefix = "tracer";
  bool legacy = false;  // also write the old tool's point
  std::string legacy_measurement = "solar";
  // The old point sums these devices (in this order), written after the last one's cycle, from
  // values at most `legacy_max_age` old.
  std::vector<std::string> legacy_devices;
  std::chrono::milliseconds legacy_max_age{30000};
  // The old tool ran from cron once a minute; its dashboards expect about that rate. Timed on
  // the cycles' monotonic clock, so a wall-clock jump neither bunches nor skips points.
  std::chrono::milliseconds legacy_interval{60000};
  // A cycle this much before the due time still gets the point: half the fast interval, so the
  // point goes to the cycle nearest its due time and the jitter of a read cannot push it a
  // whole cycle late.
  std::chrono::milliseconds legacy_slack{0};
  OutputRunnerOptions runner = influx_runner_defaults();  // name "influxdb", 500 items, 1 MiB
};

class InfluxSink final : public Sink {
 public:
  // `outbox` may be null (then an outage longer than the queue loses the oldest items).
  InfluxSink(const protocol::RegisterMap& map, InfluxSinkOptions options,
             std::unique_ptr<Outbox> outbox);
  ~InfluxSink() override;  // stop()
  InfluxSink(const InfluxSink&) = delete;
  InfluxSink& operator=(const InfluxSink&) = delete;

  [[nodiscard]] std::string_view name() const override { return "influxdb"; }
  // Once the host clock is known good: the cycle's lines, its counters and, after the last
  // legacy device's cycle and at most once per legacy_interval, the old point.
  void on_cycle(const CycleEvent& event) override;
  void on_site(const model::SiteTotals& totals) override;
  [[nodiscard]] std::optional<OutputStatus> status() const override;

  // The device's lines (one per group); nothing when the snapshot has no value to write.
  void write(const model::DeviceSnapshot& snapshot);
  // The device's communication counters, tagged and timed like `cycle`.
  void write_comm(const model::DeviceStatus& status, const model::DeviceSnapshot& cycle);
  void write_site(const model::SiteTotals& totals);
  // The legacy point of `members` (the legacy list, in order); a no-op unless options.legacy.
  // False when nothing was written (off, or no fresh value).
  bool write_legacy(std::span<const model::SnapshotPtr> members, core::SteadyTime now,
                    std::chrono::milliseconds max_age);

  [[nodiscard]] OutputCounters counters() const;
  [[nodiscard]] std::string endpoint() const;
  // Delivers or saves what is queued (OutputRunner::stop). Idempotent.
  void stop() override;

 private:
  void offer(std::string lines);
  // After a legacy point written at `now`: when the next is due (on_cycle's thread only).
  void book_next_legacy(core::SteadyTime now);

  const protocol::RegisterMap& m_map;
  InfluxSinkOptions m_options;
  std::shared_ptr<InfluxWriter> m_writer;  // used by the runner's thread only
  OutputRunner m_runner;
  std::optional<core::SteadyTime> m_next_legacy;  // unset until the first point
};

}  // namespace tracermon::sinks
