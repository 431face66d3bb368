#pragma once
// The wire-time floor of a device's reads, which the benchmarks divide by: per request, the
// request's 8 bytes and the reply's 5+2N bytes at 10 bits a byte, the simulator's turnaround
// (its turnaround_ms plus 0.5 ms a register) and the 1.75 ms RTU inter-frame silence.

#include <span>

#include "protocol/pdu.hpp"
#include "protocol/read_plan.hpp"
#include "sim/bus.hpp"

namespace tracermon::bench {

inline double wire_floor_ms(const sim::SimulatedBus& bus, const protocol::RegisterMap& map,
                            std::span<const protocol::FieldId> fields,
                            const protocol::PlanOptions& plan,
                            const protocol::DeviceSupport& support) {
  double total = 0;
  for (const auto& b : protocol::plan_reads(map, fields, plan, support)) {
    auto request = protocol::make_read_request(b.table, b.start, b.count);
    auto reply = protocol::expected_reply_size(request) + 3;
    double registers = b.table == protocol::Table::Coil || b.table == protocol::Table::Discrete
                           ? b.count / 16.0
                           : b.count;
    total += bus.wire_ms(8 + reply) + bus.options().turnaround_ms + 0.5 * registers + 1.75;
  }
  return total;
}

}  // namespace tracermon::bench
