#pragma once
// Simulated controllers inside this process, reached through a `sim:` port: the same bus, faults
// and timing as the pty and TCP links, without an external process or a pty. Tests and the demo
// use it. `sim:ids=1,2,3&profile=tracer-bn&seed=7&speed=60&fault=no-reply=0.1`.

#include <memory>
#include <string_view>

#include "sim/bus.hpp"
#include "transport/byte_stream.hpp"

namespace tracermon::sim {

// Options of a sim: port, '&'-separated KEY=VALUE: ids (1,2,3 or 1-3), profile (one, or one per
// id separated by '+'), seed, speed, max-registers, turnaround-ms, shared-battery (0/1),
// cloudiness, start (YYYY-MM-DDTHH:MM:SS), fault (as --fault, repeatable), instant (0/1: no wire
// time). Throws
// std::invalid_argument naming the bad option.
BusOptions parse_sim_options(std::string_view text);

// The bus a sim: port names: one per distinct option text in this process, made on first use.
std::shared_ptr<SimulatedBus> shared_bus(std::string_view options);

// A stream whose replies come at once, without wire time, for running a bus faster than real
// time (the demo's history).
std::unique_ptr<transport::ByteStream> make_instant_stream(std::shared_ptr<SimulatedBus> bus);

// Puts `bus` in place for a sim: port before it is first used (the demo hands over a bus whose
// past week it already simulated). Replaces a bus made earlier for the same options.
void install_shared_bus(std::string_view options, std::shared_ptr<SimulatedBus> bus);

// Makes `sim:` ports work in transport::make_stream.
void register_sim_ports();

// "2026-06-21T05:30:00" as controller-clock seconds; throws std::invalid_argument.
ClockSeconds parse_start_time(std::string_view text);

}  // namespace tracermon::sim
