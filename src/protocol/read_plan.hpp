#pragma once
// Request planning: which block reads fetch a set of wanted fields in the fewest requests.
// Pure: the same inputs give the same plan; what a device taught us comes in as DeviceSupport.

#include <cstdint>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "protocol/register_map.hpp"

namespace tracermon::protocol {

// One read request: a function code's table, a start address and a count, and the fields
// whose values it carries.
struct ReadBlock {
  Table table = Table::Input;
  std::uint16_t start = 0;
  std::uint16_t count = 0;
  std::vector<FieldId> fields;  // in address order
  bool optional = false;        // holds only optional fields

  [[nodiscard]] std::uint16_t last() const { return static_cast<std::uint16_t>(start + count - 1); }
  friend bool operator==(const ReadBlock&, const ReadBlock&) = default;
};

struct PlanOptions {
  // Registers (or bits) per request. Real units answer 20 (vendor software); Modbus allows 125.
  std::uint16_t max_registers = 20;
};

// What one device has taught us, remembered between plans: fields it answers with
// exception 2, and addresses a block must not run across (a span it refused although
// every field in it reads on its own).
class DeviceSupport {
 public:
  void mark_unsupported(FieldId id) {
    m_unsupported.insert(id);
    ++m_generation;
  }
  void add_break(Table table, std::uint16_t address) {
    m_breaks.insert({table, address});
    ++m_generation;
  }
  [[nodiscard]] bool unsupported(FieldId id) const { return m_unsupported.contains(id); }
  [[nodiscard]] bool breaks_before(Table table, std::uint16_t address) const {
    return m_breaks.contains({table, address});
  }
  [[nodiscard]] const std::set<FieldId>& unsupported_fields() const { return m_unsupported; }
  // Changes whenever something is learned, so a cached plan knows it is stale.
  [[nodiscard]] std::uint64_t generation() const { return m_generation; }

 private:
  std::set<FieldId> m_unsupported;
  std::set<std::pair<Table, std::uint16_t>> m_breaks;
  std::uint64_t m_generation = 0;
};

// Plans block reads for `wanted` (write-only fields and fields the device lacks are left
// out). Rules: one function code per block; a block never holds more than max_registers; a
// 32-bit pair is never split; optional fields never share a block with mandatory ones; a block
// runs across addresses that are not wanted only where a documented readable field of the same
// kind or an answered gap (quirks.csv) is there, and never across a learned break.
// Throws std::invalid_argument when max_registers < 2.
std::vector<ReadBlock> plan_reads(const RegisterMap& map, std::span<const FieldId> wanted,
                                  const PlanOptions& options, const DeviceSupport& support);

// Every readable field of the map, in map order.
std::vector<FieldId> all_readable_fields(const RegisterMap& map);

// Splits a block after the device refused it with exception 2: two blocks with half of the
// fields each, or nothing when it holds a single field (then that field is unsupported).
std::optional<std::pair<ReadBlock, ReadBlock>> split_block(const RegisterMap& map,
                                                           const ReadBlock& block);

}  // namespace tracermon::protocol
