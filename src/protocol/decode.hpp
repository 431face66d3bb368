#pragma once
// Pure decoding of register words into values: sign, 32-bit assembly (low word first),
// scale, status words, enums, the controller clock and packed hour/minute fields.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/register_map.hpp"

namespace tracermon::protocol {

// The integer the device means by these words: u16, two's-complement s16, (hi << 16 | lo) for
// u32_lo_hi, its signed reading for s32_lo_hi. `words` must hold field.width() words.
std::int64_t raw_integer(const Field& field, std::span<const std::uint16_t> words);

// raw / scale, in the field's unit.
double scaled_value(const Field& field, std::int64_t raw);

// The value as text with exactly the digits the scale gives and no trailing zeros:
// 1852 at scale 100 is "18.52", 1380 is "13.8", -4000 is "-40", 80 at scale 1 is "80".
std::string format_value(const Field& field, std::int64_t raw);

// A named multi-bit state inside a status word, with its meaning from enums.csv.
struct StatusState {
  std::string_view key;  // e.g. "charging_phase"
  std::uint16_t value;
  std::string meaning;  // e.g. "boost"; "unknown (7)" for a value the tables do not list
  bool problem;         // a fault or warning (night-time "no input power" is not)
};

// A single-bit flag inside a status word.
struct StatusFlag {
  std::string_view key;   // e.g. "pv_input_short"
  std::string_view text;  // e.g. "PV input short circuit"
  bool set;
  bool problem;  // a fault or warning when set (running/standby bits are not)
};

struct DecodedStatus {
  std::vector<StatusState> states;
  std::vector<StatusFlag> flags;

  // The states that are not normal and the problem flags that are set, in words.
  [[nodiscard]] std::vector<std::string> problems() const;
};

// Decodes battery_status (0x3200), charging_equipment_status (0x3201) and
// discharging_equipment_status (0x3202); nullopt for any other field.
std::optional<DecodedStatus> decode_status(const RegisterMap& map, const Field& field,
                                           std::uint16_t word);

// The key of one status flag in every output (state messages, InfluxDB, the API): the status field
// without "_status", then the flag ("charging_equipment_fault", "battery_wrong_rated_voltage"),
// because the charging and discharging words both have "fault" and "running".
std::string status_flag_key(std::string_view status_field, std::string_view flag);
// The state-message key of one multi-bit state of a status word: "charging_phase" as it is,
// the others like a flag with "_state" ("battery_voltage_state": "normal"), so that none
// collides with a register name (battery_voltage).
std::string status_state_key(std::string_view status_field, std::string_view state);

// The meaning of an enum field's value from enums.csv (battery type, rated voltage code,
// charging mode, load control mode, ...).
std::optional<std::string_view> enum_text(const RegisterMap& map, const Field& field,
                                          std::uint16_t value);

// The controller clock (0x9013-0x9015): binary, not BCD; year has two digits.
struct ControllerTime {
  int year = 0;  // full year, 2000-2255
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;

  // True when every part is in range (a clock that was never set reads 2000-00-00 on some).
  [[nodiscard]] bool valid() const;
  // "2016-02-24T11:26:27", the controller's local time without zone.
  [[nodiscard]] std::string iso8601() const;
};

ControllerTime decode_rtc(std::uint16_t minute_second, std::uint16_t day_hour,
                          std::uint16_t year_month);
// A host wall-clock time as the controller keeps time: local, zone-less, to the second
// (truncated; a leap second clamped). Reads the host's zone (TZ), nothing else.
ControllerTime local_calendar(std::chrono::system_clock::time_point time);
// Seconds from `b` to `a` (a minus b), both zone-less calendar times.
double seconds_between(const ControllerTime& a, const ControllerTime& b);

// The three words to write for `time` (the inverse of decode_rtc).
std::array<std::uint16_t, 3> encode_rtc(const ControllerTime& time);

// Packed D15-D8 hours, D7-D0 minutes (0x903E, 0x903F, 0x9065).
struct HourMinute {
  int hours = 0;
  int minutes = 0;
  [[nodiscard]] std::string text() const;  // "10:00"
};
HourMinute decode_hour_minute(std::uint16_t word);

// Human text for a field's value: decoded status, enum meaning, clock part or number + unit.
std::string describe_value(const RegisterMap& map, const Field& field, std::int64_t raw);

}  // namespace tracermon::protocol
