#include "protocol/read_plan.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <tuple>

namespace tracermon::protocol {

namespace {

// May a block that ends at `end` grow over `from`..`to` (the registers between it and the next
// wanted field)? Only across registers a device is known to answer in the same kind of block.
bool can_bridge(const RegisterMap& map, const DeviceSupport& support, Table table, bool optional,
                std::uint32_t from, std::uint32_t to) {
  for (auto a = from; a <= to; ++a) {
    auto address = static_cast<std::uint16_t>(a);
    if (support.breaks_before(table, address)) return false;
    if (const Field* f = map.covering(table, address)) {
      if (!f->readable() || f->optional != optional || support.unsupported(f->id)) return false;
    } else if (optional || !map.in_answered_gap(table, address)) {
      return false;
    }
  }
  return true;
}

ReadBlock block_of(const Field& f) {
  return ReadBlock{f.table, f.address, f.width(), {f.id}, f.optional};
}

}  // namespace

std::vector<ReadBlock> plan_reads(const RegisterMap& map, std::span<const FieldId> wanted,
                                  const PlanOptions& options, const DeviceSupport& support) {
  if (options.max_registers < 2) {
    throw std::invalid_argument("max registers per request must be at least 2 (32-bit values)");
  }
  std::vector<const Field*> fields;
  for (auto id : wanted) {
    const Field& f = map.field(id);
    if (!f.readable() || support.unsupported(id)) continue;
    if (std::find(fields.begin(), fields.end(), &f) == fields.end()) fields.push_back(&f);
  }
  // Group by kind of block, then by address.
  std::sort(fields.begin(), fields.end(), [](const Field* a, const Field* b) {
    return std::tie(a->table, a->optional, a->address) <
           std::tie(b->table, b->optional, b->address);
  });

  std::vector<ReadBlock> plan;
  for (const Field* f : fields) {
    if (!plan.empty()) {
      ReadBlock& open = plan.back();
      std::uint32_t from = open.last() + 1U;
      std::uint32_t new_count = f->last_address() + 1U - open.start;
      bool same_kind = open.table == f->table && open.optional == f->optional;
      if (same_kind && new_count <= options.max_registers &&
          !support.breaks_before(f->table, f->address) &&
          (from == f->address ||
           can_bridge(map, support, f->table, f->optional, from, f->address - 1U))) {
        open.count = static_cast<std::uint16_t>(new_count);
        open.fields.push_back(f->id);
        continue;
      }
    }
    plan.push_back(block_of(*f));
  }
  return plan;
}

std::vector<FieldId> all_readable_fields(const RegisterMap& map) {
  std::vector<FieldId> ids;
  for (const auto& f : map.fields()) {
    if (f.readable()) ids.push_back(f.id);
  }
  return ids;
}

std::optional<std::pair<ReadBlock, ReadBlock>> split_block(const RegisterMap& map,
                                                           const ReadBlock& block) {
  if (block.fields.size() < 2) return std::nullopt;
  auto middle = block.fields.begin() + static_cast<std::ptrdiff_t>(block.fields.size() / 2);
  auto make = [&](std::vector<FieldId> ids) {
    const Field& first = map.field(ids.front());
    const Field& last = map.field(ids.back());
    return ReadBlock{block.table, first.address,
                     static_cast<std::uint16_t>(last.last_address() + 1 - first.address),
                     std::move(ids), block.optional};
  };
  return std::pair{make({block.fields.begin(), middle}), make({middle, block.fields.end()})};
}

}  // namespace tracermon::protocol
