#include "poller/validator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "protocol/decode.hpp"

namespace tracermon::poller {
namespace {

using protocol::Field;

// Measured values may exceed a rating somewhat (a surge, a cold panel's Voc, calibration):
// only values no healthy device can show are rejected.
constexpr double k_rating_factor = 1.5;       // currents and powers: rated x 1.5
constexpr double k_pv_voltage_factor = 1.1;   // PV voltage: rated (the Voc limit) + 10 %
constexpr double k_pv_voltage_unknown = 200;  // V, before the rated data is known
// A lead-acid battery in user mode may be charged to 17 V per 12 V block (1.417 x nominal);
// 1.34 x nominal is the highest preset (equalize at -40 C compensation), and 1 V per 12 V on
// top covers user settings and the reading of an open battery breaker with PV present.
constexpr double k_battery_voltage_factor = 1.34;
constexpr double k_battery_voltage_margin_per_12v = 1.0;
constexpr double k_battery_voltage_unknown = 70;  // V: a 48 V system at its worst
constexpr double k_current_unknown = 150;         // A: the largest Tracer (100 A) x 1.5
// -40..125 C is the range of the NTC sensors and power semiconductors. A heat sink may pass
// 100 C just before the over-temperature shutdown, and that is the reading a user must see;
// beyond 125 C (or below -40 C) is a broken or unplugged sensor or a garbled word.
constexpr double k_temperature_low = -40;
constexpr double k_temperature_high = 125;
// Energy counters are u32 at scale 100; a value with the top bit set (> 21 474 836.47 kWh,
// 2 450 years of a 1 kW array) is a garbled read, not energy.
constexpr std::int64_t k_energy_raw_max = std::numeric_limits<std::int32_t>::max();
// Caps on the rated data itself (0x3000-0x3010): anything higher is a garbled word.
constexpr double k_rated_voltage_cap = 1000;
constexpr double k_rated_current_cap = 500;
constexpr double k_rated_power_cap = 100000;

// The voltage of each battery_rated_voltage_code (0x9067): 0 is "auto recognise".
constexpr std::array<double, 10> k_code_volts = {0, 12, 24, 36, 48, 60, 110, 120, 220, 240};

enum class Rule {
  None,
  PvVoltage,
  PvCurrent,
  PvPower,
  BatteryVoltage,
  ChargeCurrent,
  ChargePower,
  LoadCurrent,
  LoadPower,
  NetCurrent,
  Temperature,
  Percent,
  Energy,
  SystemVoltage,
  VoltageCode,
  Rated,
};

Rule rule_of(const Field& field) {
  static constexpr std::pair<std::string_view, Rule> k_named[] = {
      {"pv_voltage", Rule::PvVoltage},
      {"max_pv_voltage_today", Rule::PvVoltage},
      {"min_pv_voltage_today", Rule::PvVoltage},
      {"pv_current", Rule::PvCurrent},
      {"pv_power", Rule::PvPower},
      {"battery_voltage", Rule::BatteryVoltage},
      {"battery_voltage_stat", Rule::BatteryVoltage},
      {"max_battery_voltage_today", Rule::BatteryVoltage},
      {"min_battery_voltage_today", Rule::BatteryVoltage},
      {"load_voltage", Rule::BatteryVoltage},  // the load output is the battery
      {"battery_charging_current", Rule::ChargeCurrent},
      {"battery_charging_power", Rule::ChargePower},
      {"load_current", Rule::LoadCurrent},
      {"load_power", Rule::LoadPower},
      {"battery_current_net", Rule::NetCurrent},
      {"battery_real_rated_voltage", Rule::SystemVoltage},
      {"battery_rated_voltage_code", Rule::VoltageCode},
  };
  for (const auto& [name, rule] : k_named) {
    if (field.name == name) return rule;
  }
  if (field.unit == "kWh") return Rule::Energy;
  if (field.unit == "degC") return Rule::Temperature;
  if (field.unit == "%") return Rule::Percent;
  if (field.group == "rated" && field.type != protocol::ValueType::Enum) return Rule::Rated;
  return Rule::None;
}

bool is_total(const Field& field) {
  return field.unit == "kWh" && field.name.ends_with("_total");
}

// 33.16, 150, 21474836.47: at most two decimals, no trailing zeros.
std::string number(double value) {
  auto text = fmt::format("{:.2f}", value);
  while (text.back() == '0')
    text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string unit_text(const Field& field) {
  return field.unit == "degC" ? "°C" : field.unit;
}

std::string value_text(const Field& field, std::int64_t raw) {
  return protocol::format_value(field, raw) + " " + unit_text(field);
}

// The reason `value` is outside `limit`, or nullopt.
std::optional<std::string> outside(const Field& field, std::int64_t raw, double value, double low,
                                   double high, const std::string& basis) {
  // Limits are computed in floating point (24 x 1.34 + 2); a value equal to one is inside.
  constexpr double k_slack = 1e-9;
  const char* side = nullptr;
  double limit = 0;
  if (value > high + k_slack) {
    side = "above";
    limit = high;
  } else if (value < low - k_slack) {
    side = "below";
    limit = low;
  } else {
    return std::nullopt;
  }
  return fmt::format("{} {} {} the {} {} limit ({})", field.name, value_text(field, raw), side,
                     number(limit), unit_text(field), basis);
}

std::optional<double> positive(double value) {
  return value > 0 && std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

}  // namespace

Validator::Validator(ValidatorOptions options) : m_options(options) {}

Verdict Validator::reject(const Field& field, std::string reason) {
  ++m_rejected[field.name];
  return Verdict{false, false, std::move(reason)};
}

Validator::Limit Validator::pv_voltage_limit() const {
  if (m_rated.pv_voltage) {
    return {0, *m_rated.pv_voltage * k_pv_voltage_factor,
            fmt::format("PV rated {} V + 10%", number(*m_rated.pv_voltage))};
  }
  return {0, k_pv_voltage_unknown * k_pv_voltage_factor,
          fmt::format("PV rating unknown: {} V + 10%", number(k_pv_voltage_unknown))};
}

Validator::Limit Validator::pv_current_limit() const {
  // An MPPT charger steps the voltage down: PV current stays below the charging current.
  if (auto rated = m_rated.pv_current ? m_rated.pv_current : m_rated.battery_current) {
    return {0, *rated * k_rating_factor, fmt::format("rated {} A x 1.5", number(*rated))};
  }
  return {0, k_current_unknown, "rating unknown"};
}

Validator::Limit Validator::charge_current_limit() const {
  if (auto rated = m_rated.battery_current ? m_rated.battery_current : m_rated.pv_current) {
    return {0, *rated * k_rating_factor, fmt::format("rated {} A x 1.5", number(*rated))};
  }
  return {0, k_current_unknown, "rating unknown"};
}

Validator::Limit Validator::load_current_limit() const {
  if (auto rated = m_rated.load_current ? m_rated.load_current : m_rated.battery_current) {
    return {0, *rated * k_rating_factor, fmt::format("rated {} A x 1.5", number(*rated))};
  }
  return {0, k_current_unknown, "rating unknown"};
}

std::optional<double> Validator::system_voltage() const {
  if (m_rated.system_voltage) return m_rated.system_voltage;
  if (m_rated.system_voltage_code) return m_rated.system_voltage_code;
  return std::nullopt;
}

Validator::Limit Validator::battery_voltage_limit() const {
  auto limit_of = [](double nominal) {
    return nominal * k_battery_voltage_factor + nominal / 12 * k_battery_voltage_margin_per_12v;
  };
  if (auto system = system_voltage()) {
    return {0, limit_of(*system), fmt::format("{} V system", number(*system))};
  }
  // 0x3004 is the highest system voltage the model supports: an upper bound.
  if (m_rated.battery_voltage) {
    return {0, limit_of(*m_rated.battery_voltage),
            fmt::format("battery rated {} V", number(*m_rated.battery_voltage))};
  }
  return {0, k_battery_voltage_unknown, "system voltage unknown"};
}

Verdict Validator::check(const Field& field, std::int64_t raw, double value) {
  auto range = [&](double low, double high, const std::string& basis) -> Verdict {
    if (auto why = outside(field, raw, value, low, high, basis)) return reject(field, *why);
    return Verdict{};
  };
  auto from = [&](const Limit& limit) { return range(limit.low, limit.high, limit.basis); };
  auto power = [&](const std::optional<double>& rated, const Limit& volts, const Limit& amps) {
    if (rated) {
      return range(0, *rated * k_rating_factor, fmt::format("rated {} W x 1.5", number(*rated)));
    }
    return range(0, volts.high * amps.high,
                 fmt::format("{} V x {} A", number(volts.high), number(amps.high)));
  };

  switch (rule_of(field)) {
    case Rule::None:
      return Verdict{};
    case Rule::PvVoltage:
      return from(pv_voltage_limit());
    case Rule::PvCurrent:
      return from(pv_current_limit());
    case Rule::PvPower:
      return power(m_rated.pv_power, pv_voltage_limit(), pv_current_limit());
    case Rule::BatteryVoltage:
      return from(battery_voltage_limit());
    case Rule::ChargeCurrent:
      return from(charge_current_limit());
    case Rule::ChargePower:
      return power(m_rated.battery_power, battery_voltage_limit(), charge_current_limit());
    case Rule::LoadCurrent:
      return from(load_current_limit());
    case Rule::LoadPower:
      return power(m_rated.load_power, battery_voltage_limit(), load_current_limit());
    case Rule::NetCurrent: {
      // Positive while charging, negative while the load draws more than the charger gives.
      auto charge = charge_current_limit();
      auto load = load_current_limit();
      return range(-load.high, charge.high,
                   fmt::format("charging {}, load {}", charge.basis, load.basis));
    }
    case Rule::Temperature:
      return range(k_temperature_low, k_temperature_high, "sensor range");
    case Rule::Percent:
      return range(0, 100, "a percentage");
    case Rule::Energy: {
      if (raw < 0 || raw > k_energy_raw_max) {
        return reject(field, fmt::format("{} {} outside 0..{} kWh (a garbled counter)", field.name,
                                         value_text(field, raw),
                                         protocol::format_value(field, k_energy_raw_max)));
      }
      return is_total(field) ? check_total(field, raw) : Verdict{};
    }
    case Rule::SystemVoltage: {
      // 0 while the controller is still recognising the battery; otherwise 12/24/36/48 V.
      for (double volts : k_code_volts) {
        if (std::abs(value - volts) < 1e-9) {
          learn_rated(field, value);
          return Verdict{};
        }
      }
      return reject(field, fmt::format("{} {} is not a system voltage (12/24/36/48 V)", field.name,
                                       value_text(field, raw)));
    }
    case Rule::VoltageCode:
      learn_rated(field, value);  // an enum: every value is decodable, nothing to reject
      return Verdict{};
    case Rule::Rated: {
      double cap = field.unit == "V"   ? k_rated_voltage_cap
                   : field.unit == "A" ? k_rated_current_cap
                                       : k_rated_power_cap;
      auto verdict = range(0, cap, "no controller is rated higher");
      if (verdict) learn_rated(field, value);
      return verdict;
    }
  }
  return Verdict{};
}

Verdict Validator::check_total(const Field& field, std::int64_t raw) {
  auto& state = m_totals[field.name];
  if (!state.last || raw >= *state.last) {
    state.last = raw;
    state.low_count = 0;
    return Verdict{};
  }
  // Below the last accepted total: a glitch, or a counter that was cleared. A cleared counter
  // stays low and only grows, so a run of such reads is accepted as a reset.
  state.low_count = state.low_count > 0 && raw >= state.low_last ? state.low_count + 1 : 1;
  state.low_last = raw;
  if (state.low_count >= m_options.reset_confirm_reads) {
    state.last = raw;
    state.low_count = 0;
    ++m_counter_resets;
    return Verdict{true, true, {}};
  }
  return reject(field,
                fmt::format("{} went backwards from {} to {} (low read {} of {} that "
                            "would be taken as a counter reset)",
                            field.name, value_text(field, *state.last), value_text(field, raw),
                            state.low_count, m_options.reset_confirm_reads));
}

void Validator::learn_rated(const Field& field, double value) {
  const std::string_view name = field.name;
  if (name == "battery_real_rated_voltage") {
    m_rated.system_voltage = positive(value);
  } else if (name == "battery_rated_voltage_code") {
    auto code = static_cast<std::size_t>(std::max(0.0, value));
    m_rated.system_voltage_code =
        code < k_code_volts.size() ? positive(k_code_volts[code]) : std::nullopt;
  } else if (name == "pv_rated_voltage") {
    m_rated.pv_voltage = positive(value);
  } else if (name == "pv_rated_current") {
    m_rated.pv_current = positive(value);
  } else if (name == "pv_rated_power") {
    m_rated.pv_power = positive(value);
  } else if (name == "battery_rated_voltage") {
    m_rated.battery_voltage = positive(value);
  } else if (name == "battery_rated_current") {
    m_rated.battery_current = positive(value);
  } else if (name == "battery_rated_power") {
    m_rated.battery_power = positive(value);
  } else if (name == "load_rated_current") {
    m_rated.load_current = positive(value);
  } else if (name == "load_rated_power") {
    m_rated.load_power = positive(value);
  }
}

void Validator::learn_rated(const protocol::RegisterMap& map,
                            const model::DeviceSnapshot& snapshot) {
  for (const auto& sample : snapshot.fields)
    learn_rated(map.field(sample.id), sample.value);
}

void Validator::remember_total(const Field& field, double value) {
  if (!is_total(field) || !std::isfinite(value) || value < 0) return;
  auto& state = m_totals[field.name];
  state.last = std::llround(value * field.scale);
  state.low_count = 0;
}

std::uint64_t Validator::rejected(std::string_view field_name) const {
  auto it = m_rejected.find(field_name);
  return it == m_rejected.end() ? 0 : it->second;
}

}  // namespace tracermon::poller
