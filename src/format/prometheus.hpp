#pragma once
// /metrics in the Prometheus text format: the daemon, its buses, each device's health and
// communication counters (named in format/counters.hpp), each network output's state and
// counters, the latest value of every fast and slow field of each device and its clock drift
// (model/clock_drift.hpp), named by Prometheus conventions (base units as suffixes, `_total`
// counters). Pure: the caller gathers the inputs (web/metrics.cpp).

#include <span>
#include <string>
#include <string_view>

#include "model/device_status.hpp"
#include "model/output_status.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::format {

// `devices`: each device's latest view, in the order the families first show them.
std::string prometheus_text(const protocol::RegisterMap& map,
                            std::span<const model::BusStatus> buses,
                            std::span<const model::OutputStatus> outputs,
                            std::span<const model::SnapshotPtr> devices);

// "pv_voltage" + "V" -> "tracermon_pv_voltage_volts".
std::string metric_name(std::string_view field, std::string_view unit);

}  // namespace tracermon::format
