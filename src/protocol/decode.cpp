#include "protocol/decode.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tracermon::protocol {

std::int64_t raw_integer(const Field& field, std::span<const std::uint16_t> words) {
  switch (field.type) {
    case ValueType::S16:
      return static_cast<std::int16_t>(words[0]);
    case ValueType::U32LoHi:
      return static_cast<std::int64_t>((std::uint32_t{words[1]} << 16) | words[0]);
    case ValueType::S32LoHi:
      return static_cast<std::int32_t>((std::uint32_t{words[1]} << 16) | words[0]);
    case ValueType::U16:
    case ValueType::Enum:
    case ValueType::Bitfield:
      return words[0];
  }
  return words[0];
}

double scaled_value(const Field& field, std::int64_t raw) {
  return static_cast<double>(raw) / static_cast<double>(field.scale);
}

std::string format_value(const Field& field, std::int64_t raw) {
  if (field.scale == 1) return fmt::format("{}", raw);
  // Exact decimal arithmetic, no binary floating point in the text.
  auto scale = static_cast<std::int64_t>(field.scale);
  int decimals = 0;
  for (auto s = scale; s > 1; s /= 10)
    ++decimals;
  if (fmt::format("{}", scale) != "1" + std::string(static_cast<std::size_t>(decimals), '0')) {
    return fmt::format("{}", scaled_value(field, raw));  // not a power of ten
  }
  std::uint64_t magnitude =
      raw < 0 ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  auto whole = magnitude / static_cast<std::uint64_t>(scale);
  auto frac = fmt::format("{:0{}}", magnitude % static_cast<std::uint64_t>(scale), decimals);
  while (!frac.empty() && frac.back() == '0')
    frac.pop_back();
  std::string text = fmt::format("{}{}", raw < 0 ? "-" : "", whole);
  if (!frac.empty()) text += "." + frac;
  return text;
}

namespace {

struct BitRange {
  std::string_view key;
  std::uint8_t hi;
  std::uint8_t lo;
};

struct Bit {
  std::string_view key;
  std::uint8_t bit;
  std::string_view text;
  bool problem;
};

struct StatusLayout {
  std::string_view field;
  std::vector<BitRange> states;
  std::vector<Bit> flags;
};

// Bit meanings from NOTES.md section 5 (V2.3 C1/C2/C7, V2.5 A15-A17). The multi-bit states
// take their words from enums.csv.
const std::vector<StatusLayout>& layouts() {
  static const std::vector<StatusLayout> k_layouts = {
      {"battery_status",
       {{"voltage", 3, 0}, {"temperature", 7, 4}},
       {{"internal_resistance_abnormal", 8, "battery internal resistance abnormal", true},
        {"wrong_rated_voltage", 15, "wrong identification of rated voltage", true}}},
      {"charging_equipment_status",
       {{"input_voltage", 15, 14}, {"charging_phase", 3, 2}},
       {{"charging_mosfet_short", 13, "charging MOSFET short circuit", true},
        {"charging_or_anti_reverse_mosfet_open", 12,
         "charging or anti-reverse MOSFET open (V2.3: short)", true},
        {"anti_reverse_mosfet_short", 11, "anti-reverse MOSFET short circuit", true},
        {"input_over_current", 10, "input over current", true},
        {"load_over_current", 9, "load over current", true},
        {"load_short", 8, "load short circuit", true},
        {"load_mosfet_short", 7, "load MOSFET short circuit", true},
        {"three_circuit_disequilibrium", 6, "disequilibrium in three circuits", true},
        {"pv_input_short", 4, "PV input short circuit", true},
        {"fault", 1, "fault (unreliable on some firmware)", true},
        {"running", 0, "running", false}}},
      {"discharging_equipment_status",
       {{"input_voltage", 15, 14}, {"output_power", 13, 12}},
       {{"output_short_circuit", 11, "output short circuit", true},
        {"unable_to_discharge", 10, "unable to discharge", true},
        {"unable_to_stop_discharging", 9, "unable to stop discharging", true},
        {"output_voltage_abnormal", 8, "output voltage abnormal", true},
        {"input_over_voltage", 7, "input over voltage", true},
        {"high_voltage_side_short", 6, "short circuit in high voltage side", true},
        {"boost_over_voltage", 5, "boost over voltage", true},
        {"output_over_voltage", 4, "output over voltage", true},
        {"fault", 1, "fault", true},
        {"running", 0, "load output on", false}}},
  };
  return k_layouts;
}

// States whose value 0 is not "normal" but still not a problem.
bool state_is_problem(std::string_view field, std::string_view key, std::uint16_t value) {
  if (value == 0) return false;
  if (key == "charging_phase") return false;
  if (key == "output_power") return value == 3;  // overload
  if (field == "charging_equipment_status" && key == "input_voltage") {
    return value != 1;  // "no input power connected" is every night, not a fault
  }
  return true;
}

}  // namespace

std::vector<std::string> DecodedStatus::problems() const {
  std::vector<std::string> out;
  for (const auto& s : states) {
    if (s.problem) out.push_back(fmt::format("{}: {}", s.key, s.meaning));
  }
  for (const auto& f : flags) {
    if (f.set && f.problem) out.emplace_back(f.text);
  }
  return out;
}

std::optional<DecodedStatus> decode_status(const RegisterMap& map, const Field& field,
                                           std::uint16_t word) {
  for (const auto& layout : layouts()) {
    if (layout.field != field.name) continue;
    DecodedStatus status;
    for (const auto& r : layout.states) {
      auto mask = static_cast<std::uint16_t>((1U << (r.hi - r.lo + 1)) - 1);
      auto value = static_cast<std::uint16_t>((word >> r.lo) & mask);
      auto meaning = map.enum_meaning(field.address, r.hi, r.lo, value);
      status.states.push_back({r.key, value,
                               meaning ? std::string(*meaning) : fmt::format("unknown ({})", value),
                               state_is_problem(layout.field, r.key, value)});
    }
    for (const auto& b : layout.flags) {
      status.flags.push_back({b.key, b.text, ((word >> b.bit) & 1U) != 0, b.problem});
    }
    return status;
  }
  return std::nullopt;
}

std::optional<std::string_view> enum_text(const RegisterMap& map, const Field& field,
                                          std::uint16_t value) {
  if (field.type != ValueType::Enum) return std::nullopt;
  if (field.is_bit()) return value != 0 ? "on" : "off";
  return map.enum_meaning(field.address, 15, 0, value);
}

bool ControllerTime::valid() const {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 &&
         second < 60;
}

std::string ControllerTime::iso8601() const {
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, month, day, hour, minute, second);
}

ControllerTime local_calendar(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&t, &tm);
  ControllerTime c;
  c.year = tm.tm_year + 1900;
  c.month = tm.tm_mon + 1;
  c.day = tm.tm_mday;
  c.hour = tm.tm_hour;
  c.minute = tm.tm_min;
  c.second = std::min(tm.tm_sec, 59);  // a leap second is not a time the controller keeps
  return c;
}

double seconds_between(const ControllerTime& a, const ControllerTime& b) {
  auto seconds = [](const ControllerTime& c) {
    using namespace std::chrono;
    auto day = sys_days{year{c.year} / month{static_cast<unsigned>(c.month)} /
                        std::chrono::day{static_cast<unsigned>(c.day)}};
    return static_cast<double>(day.time_since_epoch().count()) * 86400.0 + c.hour * 3600.0 +
           c.minute * 60.0 + c.second;
  };
  return seconds(a) - seconds(b);
}

ControllerTime decode_rtc(std::uint16_t minute_second, std::uint16_t day_hour,
                          std::uint16_t year_month) {
  ControllerTime t;
  t.minute = minute_second >> 8;
  t.second = minute_second & 0xFF;
  t.day = day_hour >> 8;
  t.hour = day_hour & 0xFF;
  t.year = 2000 + (year_month >> 8);
  t.month = year_month & 0xFF;
  return t;
}

std::array<std::uint16_t, 3> encode_rtc(const ControllerTime& t) {
  auto pack = [](int hi, int lo) { return static_cast<std::uint16_t>((hi << 8) | (lo & 0xFF)); };
  return {pack(t.minute, t.second), pack(t.day, t.hour), pack(t.year - 2000, t.month)};
}

HourMinute decode_hour_minute(std::uint16_t word) {
  return {word >> 8, word & 0xFF};
}

std::string HourMinute::text() const {
  return fmt::format("{:02}:{:02}", hours, minutes);
}

std::string describe_value(const RegisterMap& map, const Field& field, std::int64_t raw) {
  auto word = static_cast<std::uint16_t>(raw);
  if (auto status = decode_status(map, field, word)) {
    std::vector<std::string> parts;
    for (const auto& s : status->states)
      parts.push_back(fmt::format("{}: {}", s.key, s.meaning));
    for (const auto& f : status->flags) {
      if (f.set) parts.emplace_back(f.text);
    }
    return fmt::format("0x{:04X} ({})", word, fmt::join(parts, ", "));
  }
  if (auto text = enum_text(map, field, word)) return fmt::format("{} ({})", raw, *text);
  if (field.type == ValueType::Bitfield) {
    if (field.name == "rtc_minute_second") return fmt::format("{}m {}s", word >> 8, word & 0xFF);
    if (field.name == "rtc_day_hour") return fmt::format("day {} {}h", word >> 8, word & 0xFF);
    if (field.name == "rtc_year_month") {
      return fmt::format("{}-{:02}", 2000 + (word >> 8), word & 0xFF);
    }
    return fmt::format("{} h {} min", word >> 8, word & 0xFF);  // packed hour/minute
  }
  auto text = format_value(field, raw);
  return field.unit.empty() ? text : fmt::format("{} {}", text, field.unit);
}

std::string status_flag_key(std::string_view status_field, std::string_view flag) {
  constexpr std::string_view k_suffix = "_status";
  if (status_field.ends_with(k_suffix)) status_field.remove_suffix(k_suffix.size());
  return fmt::format("{}_{}", status_field, flag);
}

std::string status_state_key(std::string_view status_field, std::string_view state) {
  if (state == "charging_phase") return std::string(state);
  return status_flag_key(status_field, state) + "_state";
}

}  // namespace tracermon::protocol
