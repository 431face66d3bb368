#pragma once
// Reads a set of fields from one device with the planner's block reads. A block refused with
// exception 2 is split until the unsupported field is found; what is learned goes into the
// device's DeviceSupport so the next plan avoids it. A failed read leaves a field absent, with
// the reason: never a made-up value.

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "protocol/read_plan.hpp"
#include "protocol/register_map.hpp"
#include "transport/modbus_client.hpp"

namespace tracermon::device {

struct FieldValue {
  protocol::FieldId id;
  std::vector<std::uint16_t> words;  // raw register words (1 or 2), or one 0/1 for a bit
  std::int64_t raw;                  // the integer they mean (sign and 32-bit applied)
  std::chrono::steady_clock::time_point read_at;
  std::chrono::system_clock::time_point wall_time;
};

struct FieldFailure {
  protocol::FieldId id;
  core::Error error;
  std::string block;  // the request that failed, e.g. "FC 0x04 0x3100 x16"
};

struct Reading {
  std::uint8_t unit = 0;
  std::vector<FieldValue> values;
  std::vector<FieldFailure> failures;
  std::vector<protocol::FieldId> unsupported;  // the device answers exception 2 for these
  int requests = 0;                            // block reads sent (retries not counted)
};

// "FC 0x04 0x3100 x16"
std::string describe_block(const protocol::ReadBlock& block);

class FieldReader {
 public:
  // `clock` stamps the read times of the values (the bus worker's clock).
  FieldReader(const protocol::RegisterMap& map, transport::ModbusClient& client,
              protocol::PlanOptions options, const core::Clock& clock = core::system_clock())
      : m_map(map), m_client(client), m_options(options), m_clock(clock) {}

  // Reads `wanted` from device `unit`. After two blocks in a row got no reply at all, the rest
  // are not sent (a silent device costs two timeouts, not one per block). `between_blocks`, if
  // set, is called between two blocks that are sent (the bus worker runs a command there, so
  // a command never waits for more than one block).
  Reading read(std::uint8_t unit, std::span<const protocol::FieldId> wanted,
               protocol::DeviceSupport& support, const std::function<void()>& between_blocks = {});

 private:
  void read_block(const protocol::ReadBlock& block, protocol::DeviceSupport& support,
                  Reading& reading);

  const protocol::RegisterMap& m_map;
  transport::ModbusClient& m_client;
  protocol::PlanOptions m_options;
  const core::Clock& m_clock;
};

}  // namespace tracermon::device
