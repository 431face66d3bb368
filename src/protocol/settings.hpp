#pragma once
// The settings a Tracer lets us write, and the rules a write must keep (NOTES.md section 7):
// which fields are settable and their allowed range (data/settings.csv), how a value typed by
// a user ("28.8V", "200Ah", "user", "on", "2:00") becomes the register's raw value, the
// vendor's ordering and battery-type rules, and the blocks a change is written in (the
// battery block 0x9000-0x900E always as one FC 0x10, the clock as one, coils one by one).
// Pure: no I/O.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::protocol {

// One register word (or coil bit, 0/1) by table and address.
struct RegisterKey {
  Table table = Table::Holding;
  std::uint16_t address = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const RegisterKey&) const = default;
};
using RegisterImage = std::map<RegisterKey, std::uint16_t>;

// A field's raw value as words (one, or two for the 32-bit types) into `image`.
void put_raw(RegisterImage& image, const Field& field, std::int64_t raw);
// The field's raw value from `image`; nullopt when a word is missing.
std::optional<std::int64_t> get_raw(const RegisterImage& image, const Field& field);

struct SettingSpec {
  FieldId id = 0;
  std::int64_t min_raw = 0;  // the allowed range in raw units (enums: the table's values)
  std::int64_t max_raw = 0;
  std::string source;  // where the range comes from
};

class SettingsCatalog {
 public:
  // The catalogue of the built-in register map and data/settings.csv.
  static const SettingsCatalog& builtin();
  // Throws std::runtime_error naming the line of a bad row.
  static SettingsCatalog parse(const RegisterMap& map, std::string_view settings_csv);

  [[nodiscard]] const RegisterMap& map() const { return *m_map; }
  // Every field `set` may write, in register map order.
  [[nodiscard]] std::vector<FieldId> settable() const;
  [[nodiscard]] const SettingSpec* spec(FieldId id) const;

  // The settable field called `name`, or an error that says why not (unknown, read-only,
  // written by `clock` only).
  [[nodiscard]] core::Result<const Field*> find(std::string_view name) const;
  // `text` as the field's raw value: a number with or without the field's unit ("28.8",
  // "28.8V", "200Ah"), an enum value by number or name ("user", "24V", "manual"), on/off for
  // coils, "H:MM" for hour-minute words. Errors say what was wrong and what is allowed.
  [[nodiscard]] core::Result<std::int64_t> parse_value(const Field& field,
                                                       std::string_view text) const;
  // The value as the user reads it: "14.40 V", "User defined (0)", "on", "2:00".
  [[nodiscard]] std::string describe(const Field& field, std::int64_t raw) const;
  // The value as parse_value reads it back: "14.4", "0", "on", "2:00" (no unit).
  [[nodiscard]] std::string plain(const Field& field, std::int64_t raw) const;

 private:
  const RegisterMap* m_map = nullptr;
  std::map<FieldId, SettingSpec> m_specs;
};

// What the vendor rules say about a set of new values: `violations` stop the write (each
// names both settings of a broken rule); `notes` are worth showing but do not.
struct SettingsCheck {
  std::vector<std::string> violations;
  std::vector<std::string> notes;
  [[nodiscard]] bool ok() const { return violations.empty(); }
};

// Checks `merged` (the device's current settings with the changes applied) where `changed`
// (the keys that differ from the device) touches a rule.
SettingsCheck check_settings(const SettingsCatalog& catalog, const RegisterImage& merged,
                             const std::vector<RegisterKey>& changed);

// One write request: FC 0x10 for holding registers, FC 0x05 for a coil (one word 0/1).
struct WriteBlock {
  Table table = Table::Holding;
  std::uint16_t start = 0;
  std::vector<std::uint16_t> words;
  [[nodiscard]] std::string describe() const;  // "FC 0x10 0x9000 x15", "FC 0x05 0x0002 on"
};

// The requests that take the device from its current settings to `merged`: the battery
// block 0x9000-0x900E as one (only 0x9000-0x9002 when no voltage changes and the type is not
// User), the clock 0x9013-0x9015 as one, other registers in runs of consecutive changed
// addresses, in address order (so the load mode 0x903D goes before its timers), then coils.
std::vector<WriteBlock> plan_writes(const RegisterImage& merged,
                                    const std::vector<RegisterKey>& changed);

// The registers to read before a write to `fields`, so the rules and the blocks can be
// computed from fresh values: the fields themselves, the whole battery block and the rated
// voltage code for any of 0x9000-0x900E or 0x9067, the battery type for the durations, the
// three clock words. As reads of consecutive addresses (at most `max_registers` each).
struct RegisterRange {
  Table table = Table::Holding;
  std::uint16_t start = 0;
  std::uint16_t count = 0;
};
std::vector<RegisterRange> context_reads(const RegisterMap& map, const std::vector<FieldId>& fields,
                                         std::uint16_t max_registers);

// The values of an enum field's whole word (enums.csv), in value order.
std::vector<const EnumEntry*> word_enums(const RegisterMap& map, const Field& field);

// The battery block and the clock.
constexpr std::uint16_t k_battery_first = 0x9000;
constexpr std::uint16_t k_battery_last = 0x900E;
constexpr std::uint16_t k_voltage_first = 0x9003;
constexpr std::uint16_t k_rtc_first = 0x9013;
constexpr std::uint16_t k_rtc_last = 0x9015;
constexpr std::uint16_t k_rated_voltage_code = 0x9067;

// One of the eleven charging/discharging voltages 0x9003-0x900E (per 12 V block; only with
// battery type User).
inline bool is_battery_voltage(const Field& field) {
  return field.table == Table::Holding && field.address >= k_voltage_first &&
         field.address <= k_battery_last;
}

}  // namespace tracermon::protocol
