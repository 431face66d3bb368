#pragma once
// What one poll of one device produced: an immutable value handed from the bus worker to the
// store, the sinks and the readers (the data model: nothing here knows the bus). Only fields that
// were read and passed validation carry a value; a field whose read failed or was rejected is
// absent (listed, never made up).

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/wall_time.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::model {

using core::SteadyTime;
using core::WallTime;

// One field's value as read: the raw words, the integer they mean and the scaled value.
struct FieldSample {
  protocol::FieldId id = 0;
  std::array<std::uint16_t, 2> words{};
  std::uint8_t word_count = 1;
  std::int64_t raw = 0;
  double value = 0;      // raw / scale, in the field's unit
  SteadyTime read_at{};  // monotonic: for staleness and scheduling
  WallTime wall_time{};  // host wall clock at the read (see DeviceSnapshot::clock_trusted)
};

enum class Health : std::uint8_t {
  Unknown,   // not polled yet
  Online,    // the last cycle read everything it asked for
  Degraded,  // answered, but some reads failed or were rejected
  Offline,   // no answer: being retried with backoff
};
const char* to_string(Health health);

// Why a wanted field has no value in this snapshot.
enum class Missing : std::uint8_t { ReadFailed, Rejected, Unsupported };
const char* to_string(Missing why);

struct MissingField {
  protocol::FieldId id = 0;
  Missing why = Missing::ReadFailed;
  std::string detail;  // "timeout", "exception 2", "battery_voltage 655.35 V above 64 V"
};

struct DeviceSnapshot {
  std::string device;  // the configured name: the key everywhere downstream
  std::string bus;     // bus name
  std::string site;    // site (shared battery) name; empty when the device is alone
  std::uint8_t unit = 0;
  std::uint64_t cycle = 0;  // poll cycle number of this device since start
  WallTime time{};          // host wall clock when the cycle ended
  SteadyTime steady{};      // monotonic time when the cycle ended
  // False while the host clock is not yet known good (no NTP sync after boot on a Pi without
  // an RTC): such snapshots are not filed into history or energy accounting.
  bool clock_trusted = true;
  Health health = Health::Unknown;
  std::vector<FieldSample> fields;  // read this cycle and valid, in map order
  std::vector<MissingField> missing;
  // Energy totals that restarted this cycle (statistics cleared, factory reset): accepted by
  // the validator, and the energy ledger re-baselines instead of counting a drop.
  std::vector<protocol::FieldId> counter_resets;

  [[nodiscard]] const FieldSample* find(protocol::FieldId id) const;
  [[nodiscard]] std::optional<double> value(const protocol::RegisterMap& map,
                                            std::string_view name) const;
};

using SnapshotPtr = std::shared_ptr<const DeviceSnapshot>;

// Orders `fields` by field id, as DeviceSnapshot::find expects.
void sort_by_field(std::vector<FieldSample>& fields);

}  // namespace tracermon::model
