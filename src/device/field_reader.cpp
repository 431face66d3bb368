#include "device/field_reader.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/decode.hpp"
#include "protocol/pdu.hpp"

namespace tracermon::device {

using core::ErrorKind;
using protocol::ReadBlock;

std::string describe_block(const ReadBlock& block) {
  return fmt::format("FC 0x{:02X} 0x{:04X} x{}", protocol::read_function(block.table), block.start,
                     block.count);
}

namespace {
bool silent(ErrorKind kind) {
  return kind == ErrorKind::Timeout || kind == ErrorKind::Echo;
}
}  // namespace

Reading FieldReader::read(std::uint8_t unit, std::span<const protocol::FieldId> wanted,
                          protocol::DeviceSupport& support,
                          const std::function<void()>& between_blocks) {
  Reading reading;
  reading.unit = unit;
  auto plan = protocol::plan_reads(m_map, wanted, m_options, support);
  int silent_blocks = 0;
  bool sent = false;
  for (const auto& block : plan) {
    if (silent_blocks >= 2) {
      for (auto id : block.fields) {
        reading.failures.push_back(
            {id,
             core::Error{ErrorKind::Timeout,
                         "skipped: the device did not answer the last two requests"},
             describe_block(block)});
      }
      continue;
    }
    if (sent && between_blocks) between_blocks();
    sent = true;
    auto failures_before = reading.failures.size();
    read_block(block, support, reading);
    bool all_silent =
        reading.failures.size() > failures_before &&
        std::all_of(reading.failures.begin() + static_cast<std::ptrdiff_t>(failures_before),
                    reading.failures.end(),
                    [](const FieldFailure& f) { return silent(f.error.kind); });
    silent_blocks = all_silent ? silent_blocks + 1 : 0;
  }
  for (auto id : wanted) {
    if (support.unsupported(id) && std::find(reading.unsupported.begin(), reading.unsupported.end(),
                                             id) == reading.unsupported.end()) {
      reading.unsupported.push_back(id);
    }
  }
  return reading;
}

void FieldReader::read_block(const ReadBlock& block, protocol::DeviceSupport& support,
                             Reading& reading) {
  ++reading.requests;
  auto words = m_client.read(reading.unit, block.table, block.start, block.count);
  if (words) {
    auto steady = m_clock.steady_now();
    auto wall = m_clock.wall_now();
    for (auto id : block.fields) {
      const auto& field = m_map.field(id);
      auto offset = static_cast<std::size_t>(field.address - block.start);
      std::vector<std::uint16_t> mine(
          words.value().begin() + static_cast<std::ptrdiff_t>(offset),
          words.value().begin() + static_cast<std::ptrdiff_t>(offset + field.width()));
      auto raw = protocol::raw_integer(field, mine);
      reading.values.push_back({id, std::move(mine), raw, steady, wall});
    }
    return;
  }
  const auto& error = words.error();
  bool illegal_address = error.kind == ErrorKind::Exception && error.exception_code == 2;
  if (illegal_address) {
    auto halves = protocol::split_block(m_map, block);
    if (!halves) {
      support.mark_unsupported(block.fields.front());
      return;
    }
    auto unsupported_before = support.unsupported_fields().size();
    auto failures_before = reading.failures.size();
    read_block(halves->first, support, reading);
    read_block(halves->second, support, reading);
    // Both halves answered although the whole was refused: the span itself is the problem
    // (an unanswered gap, or too many registers for this model). Never join them again.
    if (support.unsupported_fields().size() == unsupported_before &&
        reading.failures.size() == failures_before) {
      support.add_break(block.table, halves->second.start);
    }
    return;
  }
  for (auto id : block.fields)
    reading.failures.push_back({id, error, describe_block(block)});
}

}  // namespace tracermon::device
