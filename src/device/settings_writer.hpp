#pragma once
// How a setting is written, the same for every interface (CLI, HTTP, MQTT): read the current
// values fresh from the device in the same command, apply the changes, check the vendor rules,
// send nothing when nothing changes (settings live in EEPROM), write the blocks, read back and
// compare. A write that timed out is read back before it is sent again, and sent again once at
// most. Nothing half-written is ever reported as done: the report says which settings took.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "protocol/decode.hpp"
#include "protocol/settings.hpp"
#include "transport/modbus_client.hpp"

namespace tracermon::device {

struct SettingChange {
  protocol::FieldId id = 0;
  std::int64_t raw = 0;
};

enum class WriteOutcome : std::uint8_t {
  Unchanged,  // the device already holds every value: nothing sent
  DryRun,     // checked and planned, nothing sent
  Written,    // sent and read back equal
  Refused,    // not sent: a rule, or the current values could not be read
  Failed,     // sent (or partly sent) and a write failed or did not take
};
const char* to_string(WriteOutcome outcome);

struct SettingResult {
  protocol::FieldId id = 0;
  std::optional<std::int64_t> before;  // read fresh before the write
  std::int64_t wanted = 0;
  std::optional<std::int64_t> after;  // read back after it
  [[nodiscard]] bool took() const { return after && *after == wanted; }
};

struct WriteReport {
  std::uint8_t unit = 0;
  WriteOutcome outcome = WriteOutcome::Failed;
  std::vector<SettingResult> settings;
  protocol::SettingsCheck check;
  std::vector<std::string> sent;    // the requests written, in order ("FC 0x10 0x9000 x15")
  std::string error;                // Refused/Failed: what went wrong, naming the settings
  std::uint8_t exception_code = 0;  // the device refused with this exception (0: none)
  [[nodiscard]] bool ok() const {
    return outcome == WriteOutcome::Unchanged || outcome == WriteOutcome::DryRun ||
           outcome == WriteOutcome::Written;
  }
};

// The controller clock against the host's: the drift is controller minus host, in seconds.
struct ClockReport {
  std::uint8_t unit = 0;
  WriteOutcome outcome = WriteOutcome::Failed;
  std::optional<protocol::ControllerTime> before;
  std::optional<protocol::ControllerTime> host;  // the host's local time when it was read
  double drift_s = 0;
  std::optional<protocol::ControllerTime> after;  // read back after a sync
  double drift_after_s = 0;
  std::string error;
  [[nodiscard]] bool ok() const {
    return outcome == WriteOutcome::Unchanged || outcome == WriteOutcome::DryRun ||
           outcome == WriteOutcome::Written;
  }
};

// The host's wall clock (a test's fixed time).
using WallClock = std::function<std::chrono::system_clock::time_point()>;

class SettingsWriter {
 public:
  SettingsWriter(const protocol::SettingsCatalog& catalog, transport::ModbusClient& client,
                 std::uint16_t max_registers = 16)
      : m_catalog(catalog), m_client(client), m_max_registers(max_registers) {}

  // Applies `changes` to device `unit` (dry_run: up to the plan, nothing sent).
  WriteReport apply(std::uint8_t unit, std::span<const SettingChange> changes, bool dry_run);

  // Reads the clock and, with `sync`, writes the host's time when they differ by more than
  // `tolerance_s`, then reads it back.
  ClockReport clock(std::uint8_t unit, bool sync, const WallClock& now, double tolerance_s = 2.0);

  // Reads `fields` fresh (with the context the rules need): for export and `set` previews.
  core::Result<protocol::RegisterImage> read(std::uint8_t unit,
                                             const std::vector<protocol::FieldId>& fields);

 private:
  core::Result<protocol::RegisterImage> read_ranges(
      std::uint8_t unit, const std::vector<protocol::RegisterRange>& ranges);
  core::Status send(std::uint8_t unit, const protocol::WriteBlock& block);
  // Writes `block`; after a timeout (or a garbled reply) reads it back and sends it once
  // more only when it did not take.
  core::Status write_checked(std::uint8_t unit, const protocol::WriteBlock& block,
                             std::vector<std::string>& sent);
  [[nodiscard]] core::Result<bool> holds(std::uint8_t unit, const protocol::WriteBlock& block);

  const protocol::SettingsCatalog& m_catalog;
  transport::ModbusClient& m_client;
  std::uint16_t m_max_registers;
};

}  // namespace tracermon::device
