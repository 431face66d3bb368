// How many requests, bytes and milliseconds of wire time a full read of one controller takes
// with the planner's block reads, against one request per readable field (the old tool).
// Wire time: 10 bits a byte at the baud rate, 3.5 characters of silence between frames, plus
// the device's turnaround (NOTES.md: 3-25 ms measured; 10 ms taken here).

#include <cstdio>

#include "protocol/pdu.hpp"
#include "protocol/read_plan.hpp"
#include "protocol/register_map.hpp"

using namespace tracermon::protocol;

namespace {

struct Cost {
  std::size_t requests = 0;
  std::size_t bytes = 0;
  double wire_ms = 0;
};

Cost cost_of(const std::vector<ReadBlock>& plan, double baud, double turnaround_ms) {
  Cost c;
  const double byte_ms = 10.0 / baud * 1000.0;
  for (const auto& b : plan) {
    auto request = make_read_request(b.table, b.start, b.count);
    std::size_t reply = expected_reply_size(request) + 3;  // unit + PDU + CRC
    std::size_t sent = request.size() + 3;
    c.requests += 1;
    c.bytes += sent + reply;
    c.wire_ms += static_cast<double>(sent + reply) * byte_ms + 2 * 3.5 * byte_ms + turnaround_ms;
  }
  return c;
}

}  // namespace

int main() {
  const auto& map = RegisterMap::builtin();
  auto all = all_readable_fields(map);
  DeviceSupport none;
  const double baud = 115200;
  const double turnaround = 10;
  for (int max : {20, 32, 125}) {
    PlanOptions options;
    options.max_registers = static_cast<std::uint16_t>(max);
    auto blocks = plan_reads(map, all, options, none);
    std::vector<ReadBlock> per_field;
    for (auto id : all) {
      const auto& f = map.field(id);
      per_field.push_back({f.table, f.address, f.width(), {id}, f.optional});
    }
    auto planned = cost_of(blocks, baud, turnaround);
    auto single = cost_of(per_field, baud, turnaround);
    std::printf(
        "max %3d registers: full read of %zu readable fields = %zu requests, %zu bytes, %.1f ms "
        "on the wire; one request per field = %zu requests, %.1f ms; ratio %.2f\n",
        max, all.size(), planned.requests, planned.bytes, planned.wire_ms, single.requests,
        single.wire_ms, single.wire_ms / planned.wire_ms);
  }
  return 0;
}
