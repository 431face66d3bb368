#pragma once
// The fixed inputs of the golden-file tests: one controller at 2026-06-21T12:34:56.789Z with a
// field of every kind (numbers, signed and 32-bit values, status words, enums, a packed word,
// the clock, discrete inputs, rated data and settings), one stale value, missing fields, its
// bus and counters, a site and two network outputs. Change them only together with the golden
// files.

#include <chrono>
#include <memory>
#include <vector>

#include "model/device_status.hpp"
#include "model/output_status.hpp"
#include "model/poll_intervals.hpp"
#include "model/site_totals.hpp"
#include "snapshot_builder.hpp"

namespace tracermon::test::golden {

using namespace std::chrono_literals;

inline constexpr std::chrono::milliseconds k_since_epoch{1'782'045'296'789};
inline const core::SteadyTime k_now = core::SteadyTime{} + k_since_epoch;
inline const core::WallTime k_wall = core::WallTime{} + k_since_epoch;
inline const model::PollIntervals k_intervals{5s, 60s, 3600s, 8};

// "east": what a merged latest view holds after a full read (the stale field was read an hour
// ago; fast and slow fields go stale after three intervals).
inline model::DeviceSnapshot east() {
  auto now = k_now;
  auto s = snapshot("east", 1,
                    {
                        sample("pv_rated_voltage", 15000, now - 2h),
                        sample("charging_mode", 2, now - 2h),
                        sample("pv_voltage", 3852, now),
                        sample("pv_current", 512, now),
                        sample("pv_power", 19722, now),
                        sample("battery_voltage", 2612, now),
                        sample("battery_charging_current", 720, now),
                        sample("battery_charging_power", 18806, now),
                        sample("load_voltage", 2612, now),
                        sample("load_current", 120, now),
                        sample("load_power", 3134, now),
                        sample("battery_temperature", -350, now),
                        sample("device_temperature", 2850, now),
                        sample("battery_soc", 87, now),
                        sample("battery_status", 0x0000, now),
                        sample("charging_equipment_status", 0x0009, now),
                        sample("discharging_equipment_status", 0x1001, now),
                        sample("max_pv_voltage_today", 4120, now - 20s),
                        sample("consumed_energy_today", 45, now - 20s),
                        sample("consumed_energy_total", 12345, now - 20s),
                        sample("generated_energy_today", 123, now - 20s),
                        sample("generated_energy_this_month", 4567, now - 1h),  // stale
                        sample("generated_energy_total", 304847, now - 20s),
                        sample("co2_reduction", 301, now - 20s),
                        sample("battery_current_net", -250, now),
                        sample("battery_type", 1, now - 30min),
                        sample("battery_capacity", 200, now - 30min),
                        sample("load_timer1_working_length", 0x0130, now - 30min),
                        // 2026-06-21 12:34:56 read at 12:34:36 UTC: 20 s ahead.
                        sample("rtc_minute_second", 0x2238, now - 20s),
                        sample("rtc_day_hour", 0x150C, now - 20s),
                        sample("rtc_year_month", 0x1A06, now - 20s),
                        sample("over_temperature_inside_device", 0, now),
                        sample("day_night", 0, now),
                    });
  s.site = "shed";
  s.cycle = 42;
  s.time = k_wall;
  s.steady = k_now;
  s.missing = {{id_of("remote_battery_temperature"), model::Missing::Unsupported, "exception 2"},
               {id_of("ambient_temperature"), model::Missing::ReadFailed, "timeout"}};
  return s;
}

// "west": the other member of the site, with only a few fields.
inline model::DeviceSnapshot west() {
  auto s = snapshot("west", 2,
                    {sample("pv_voltage", 3790, k_now), sample("pv_power", 15367, k_now),
                     sample("battery_voltage", 2614, k_now), sample("battery_soc", 88, k_now),
                     sample("generated_energy_total", 1000, k_now - 20s)});
  s.site = "shed";
  s.time = k_wall;
  s.steady = k_now;
  return s;
}

inline model::DeviceStatus east_status() {
  model::DeviceStatus d;
  d.name = "east";
  d.site = "shed";
  d.unit = 1;
  d.model = "Tracer4215BN";
  d.identity = {"EPsolar Tech co., Ltd", "Tracer4215BN", "V02.13+V07.24", "1234567"};
  d.health = model::Health::Degraded;
  d.last_error = "0x3300 x16: timeout";
  d.last_error_time = k_wall - 5min;
  d.last_seen = k_wall;
  d.unsupported = {"remote_battery_temperature"};
  auto& c = d.counters;
  c.cycles = 1000;
  c.silent_cycles = 3;
  c.requests = 34'123;
  c.replies = 34'050;
  c.timeouts = 61;
  c.crc_errors = 4;
  c.bad_replies = 2;
  c.wrong_unit = 5;
  c.echoes = 6;
  c.noise_bytes = 77;
  c.late_replies = 8;
  c.other_master = 9;
  c.retries = 10;
  c.link_errors = 11;
  c.rejected_values = 12;
  c.counter_resets = 13;
  c.exceptions = {{2, 14}, {4, 1}};
  c.latency_ms_last = 21.5;
  c.latency_ms_mean = 23.25;
  c.latency_ms_max = 180.125;
  return d;
}

inline model::DeviceStatus west_status() {
  model::DeviceStatus d;
  d.name = "west";
  d.site = "shed";
  d.unit = 2;
  d.health = model::Health::Offline;
  d.counters.cycles = 998;
  d.counters.silent_cycles = 998;
  d.counters.requests = 1996;
  d.counters.timeouts = 1996;
  return d;
}

inline std::vector<model::BusStatus> buses() {
  model::BusStatus bus;
  bus.name = "bus1";
  bus.port = "/dev/ttyUSB0";
  bus.link_up = true;
  bus.rounds = 1000;
  bus.devices = {east_status(), west_status()};
  return {bus};
}

// The site of both: "west" does not measure every field a sum needs, so those are left out.
inline model::SiteTotals shed() {
  model::SiteTotals t;
  t.site = "shed";
  t.members = {"east", "west"};
  t.missing_members = {"west"};
  t.left_out = {"battery_charging_power",
                "load_power",
                "pv_current",
                "battery_charging_current",
                "load_current",
                "battery_current_net",
                "generated_energy_today",
                "consumed_energy_today",
                "consumed_energy_total"};
  t.complete = false;
  t.time = k_wall;
  t.values = {{"pv_power", 350.89},
              {"battery_voltage", 26.13},
              {"battery_soc", 87},
              {"generated_energy_total", 3058.47}};
  return t;
}

// MQTT connected after an error three hours ago; InfluxDB down, spilling to its outbox.
inline std::vector<model::OutputStatus> outputs() {
  model::OutputStatus mqtt;
  mqtt.name = "mqtt";
  mqtt.endpoint = "mqtt://broker.lan:1883";
  mqtt.connected = true;
  mqtt.counters.sent = 5000;
  mqtt.counters.queued = 2;
  mqtt.counters.errors = 1;
  mqtt.counters.last_error = "connection lost";
  mqtt.counters.last_error_time = k_wall - 3h;
  model::OutputStatus influx;
  influx.name = "influxdb";
  influx.endpoint = "http://influx.lan:8086 db=solar";
  influx.connected = false;
  influx.counters.sent = 1200;
  influx.counters.in_outbox = 340;
  influx.counters.dropped = 7;
  influx.counters.rejected = 3;
  influx.counters.errors = 25;
  influx.counters.last_error = "connect: Connection refused";
  influx.counters.last_error_time = k_wall - 1min;
  influx.counters.state = model::OutputState::Retrying;
  influx.counters.retry_delay = 8s;
  return {mqtt, influx};
}

}  // namespace tracermon::test::golden
