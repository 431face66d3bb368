#include "sim/controller.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace tracermon::sim {

using protocol::be16;
using protocol::Bytes;
using protocol::Table;
namespace fc = protocol::fc;

namespace {

constexpr std::uint8_t k_illegal_function = 1;
constexpr std::uint8_t k_illegal_address = 2;
constexpr std::uint8_t k_illegal_value = 3;
constexpr std::uint8_t k_device_failure = 4;

constexpr std::uint16_t k_battery_type = 0x9000;
constexpr std::uint16_t k_first_voltage = 0x9003;
constexpr std::uint16_t k_last_voltage = 0x900E;
constexpr std::uint16_t k_rtc_first = 0x9013;
constexpr std::uint16_t k_rtc_last = 0x9015;
constexpr std::uint16_t k_rated_voltage_code = 0x9067;

Bytes exception(std::uint8_t function, std::uint8_t code) {
  return {static_cast<std::uint8_t>(function | fc::k_exception_flag), code};
}

void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

std::uint16_t to_word(double v) {
  return static_cast<std::uint16_t>(static_cast<std::int16_t>(std::lround(v)));
}

// Charging voltages of the 12 V presets (V2.5 table), per battery type 1 sealed, 2 gel,
// 3 flooded: equalize, boost, float. Gel has no equalize: it sits at boost.
struct Preset {
  double equalize, boost, float_voltage;
};
constexpr Preset k_presets[] = {{14.6, 14.4, 13.8}, {14.2, 14.2, 13.8}, {14.8, 14.6, 13.8}};

}  // namespace

protocol::ControllerTime to_calendar(ClockSeconds seconds) {
  using namespace std::chrono;
  const sys_days epoch{year{2000} / January / 1};
  auto tp = epoch + std::chrono::seconds(static_cast<std::int64_t>(std::floor(seconds)));
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss hms{tp - day};
  protocol::ControllerTime t;
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  t.hour = static_cast<int>(hms.hours().count());
  t.minute = static_cast<int>(hms.minutes().count());
  t.second = static_cast<int>(hms.seconds().count());
  return t;
}

ClockSeconds from_calendar(const protocol::ControllerTime& t) {
  using namespace std::chrono;
  const sys_days epoch{year{2000} / January / 1};
  sys_days day{year{t.year} / month{static_cast<unsigned>(t.month)} /
               std::chrono::day{static_cast<unsigned>(t.day)}};
  return static_cast<double>((day - epoch).count()) * 86400.0 + t.hour * 3600.0 + t.minute * 60.0 +
         t.second;
}

SimulatedController::SimulatedController(const Profile& profile, std::uint8_t unit,
                                         ClockSeconds clock)
    : m_map(protocol::RegisterMap::builtin()), m_profile(profile), m_unit(unit), m_clock(clock) {
  for (const auto& name : profile.missing) {
    const auto* f = m_map.find(name);
    if (f == nullptr) continue;  // profiles are checked when loaded
    for (std::uint16_t i = 0; i < f->width(); ++i)
      m_missing.insert(key(f->table, static_cast<std::uint16_t>(f->address + i)));
  }
  load_defaults();
  // A controller in service for a while: its totals do not start at zero.
  double years_in_service = 1.0 + unit * 0.37;
  m_generated[3] = profile.panels.peak_power * 4.2 * 365 * years_in_service;  // Wh
  m_consumed[3] = profile.load_watts * 24 * 365 * years_in_service;
  auto t = to_calendar(m_clock);
  double day_fraction = (t.day - 1) / 30.0, year_fraction = (t.month - 1) / 12.0;
  m_generated[1] = profile.panels.peak_power * 4.2 * 30 * day_fraction;
  m_generated[2] = profile.panels.peak_power * 4.2 * 365 * year_fraction + m_generated[1];
  m_consumed[1] = profile.load_watts * 24 * 30 * day_fraction;
  m_consumed[2] = profile.load_watts * 24 * 365 * year_fraction + m_consumed[1];
}

// --- register image -------------------------------------------------------------------------

bool SimulatedController::present(Table table, std::uint16_t address) const {
  if (m_missing.contains(key(table, address))) return false;
  const auto* f = m_map.covering(table, address);
  if (f != nullptr) return true;
  return m_map.in_answered_gap(table, address);
}

std::optional<std::uint16_t> SimulatedController::word(Table table, std::uint16_t address) const {
  if (!present(table, address)) return std::nullopt;
  auto it = m_words.find(key(table, address));
  return it == m_words.end() ? std::uint16_t{0} : it->second;
}

void SimulatedController::set_raw(std::string_view field, std::uint32_t raw) {
  const auto* f = m_map.find(field);
  m_words[key(f->table, f->address)] = static_cast<std::uint16_t>(raw & 0xFFFF);
  if (f->width() == 2) {
    // The analyzer follows a one-word field into this branch and calls the shift undefined.
    m_words[key(f->table, static_cast<std::uint16_t>(f->address + 1))] = static_cast<std::uint16_t>(
        raw >> 16U);  // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult)
  }
}

void SimulatedController::set(std::string_view field, double value) {
  const auto* f = m_map.find(field);
  double scaled = std::round(value * f->scale);
  if (f->width() == 2) {
    set_raw(field, static_cast<std::uint32_t>(static_cast<std::int64_t>(scaled)));
  } else {
    set_raw(field, to_word(scaled));
  }
}

std::uint32_t SimulatedController::raw(std::string_view field) const {
  const auto* f = m_map.find(field);
  auto get = [&](std::uint16_t a) {
    auto it = m_words.find(key(f->table, a));
    return it == m_words.end() ? 0U : it->second;
  };
  std::uint32_t v = get(f->address);
  if (f->width() == 2) v |= get(static_cast<std::uint16_t>(f->address + 1)) << 16;
  return v;
}

double SimulatedController::value(std::string_view field) const {
  const auto* f = m_map.find(field);
  auto r = raw(field);
  double v = f->type == protocol::ValueType::S16 ? static_cast<double>(static_cast<std::int16_t>(r))
                                                 : static_cast<double>(r);
  return v / f->scale;
}

double SimulatedController::system_voltage() const {
  auto code = raw("battery_rated_voltage_code");
  return code >= 1 && code <= 4 ? 12.0 * code : m_profile.battery_rated_voltage;
}

void SimulatedController::load_defaults() {
  const auto& p = m_profile;
  set("pv_rated_voltage", p.rating.max_pv_voltage);
  set("pv_rated_current", p.rating.rated_charge_current);
  set("pv_rated_power", p.rating.rated_charge_current * p.battery_rated_voltage);
  set("battery_rated_voltage", p.battery_rated_voltage);
  set("battery_rated_current", p.rating.rated_charge_current);
  set("battery_rated_power", p.rating.rated_charge_current * p.battery_rated_voltage);
  set_raw("charging_mode", p.rating.mppt ? 2 : 1);
  set("load_rated_voltage", p.battery_rated_voltage);
  set("load_rated_current", p.rating.rated_load_current);
  set("load_rated_power", p.rating.rated_load_current * p.battery_rated_voltage);

  set_raw("battery_type", 1);  // sealed
  set("battery_capacity", 200);
  set("temperature_compensation_coefficient", 3);
  set("over_voltage_disconnect_voltage", 16.0);
  set("charging_limit_voltage", 15.0);
  set("over_voltage_reconnect_voltage", 15.0);
  apply_battery_type_presets(1);
  set("boost_reconnect_charging_voltage", 13.2);
  set("low_voltage_reconnect_voltage", 12.6);
  set("under_voltage_warning_recover_voltage", 12.2);
  set("under_voltage_warning_voltage", 12.0);
  set("low_voltage_disconnect_voltage", 11.1);
  set("discharging_limit_voltage", 10.6);
  auto t = to_calendar(m_clock);
  auto rtc = protocol::encode_rtc(t);
  set_raw("rtc_minute_second", rtc[0]);
  set_raw("rtc_day_hour", rtc[1]);
  set_raw("rtc_year_month", rtc[2]);
  set("equalization_charging_cycle", 30);
  set("battery_temp_warning_upper_limit", 65);
  set("battery_temp_warning_lower_limit", -40);
  set("controller_inner_temp_upper_limit", 85);
  set("controller_inner_temp_upper_limit_recover", 75);
  set("power_component_temp_upper_limit", 85);
  set("power_component_temp_upper_limit_recover", 75);
  set("line_impedance", 0);
  set("night_time_threshold_voltage", 5);
  set("light_signal_startup_night_delay_time", 10);
  set("day_time_threshold_voltage", 6);
  set("light_signal_turn_off_day_delay_time", 10);
  set_raw("load_control_mode", 0);                // manual
  set_raw("load_timer1_working_length", 0x0100);  // 1 h 00 min
  set_raw("load_timer2_working_length", 0x0100);
  set_raw("turn_on_timing1_hour", 19);
  set_raw("turn_off_timing1_hour", 6);
  set_raw("turn_on_timing2_hour", 19);
  set_raw("turn_off_timing2_hour", 6);
  set("backlight_time", 60);
  set_raw("length_of_night", 0x0A00);  // 10 h 00 min
  set_raw("main_power_supply", 1);
  set_raw("battery_rated_voltage_code", 0);  // auto
  set_raw("load_timing_control_selection", 0);
  set_raw("default_load_on_off_in_manual_mode", 1);
  set("equalize_duration", 120);
  set("boost_duration", 120);
  set("discharging_percentage", 30);
  set("charging_percentage", 100);
  set_raw("battery_management_mode", 0);
  set_raw("charging_device_on_off", 1);
  set_raw("output_control_mode_manual", 1);
  set_raw("manual_load_control", 1);
  set_raw("default_load_control", 1);
  set_raw("load_test_mode", 0);
  set_raw("force_load_on_off", 0);
}

void SimulatedController::apply_battery_type_presets(std::uint16_t type) {
  if (type < 1 || type > 3) return;  // User and lithium keep what was written
  const auto& p = k_presets[type - 1];
  set("equalize_charging_voltage", p.equalize);
  set("boost_charging_voltage", p.boost);
  set("float_charging_voltage", p.float_voltage);
}

void SimulatedController::power_cycle() {
  set_raw("manual_load_control", raw("default_load_on_off_in_manual_mode") != 0 ? 1 : 0);
  set_raw("load_test_mode", 0);
  set_raw("force_load_on_off", 0);
  m_since_timer_start = 0;
}

// --- the physics' view ----------------------------------------------------------------------

ChargeSettings SimulatedController::charge_settings() const {
  double k = system_voltage() / 12.0;
  ChargeSettings s;
  s.over_voltage_disconnect = value("over_voltage_disconnect_voltage") * k;
  s.charging_limit = value("charging_limit_voltage") * k;
  s.equalize = value("equalize_charging_voltage") * k;
  s.boost = value("boost_charging_voltage") * k;
  s.float_voltage = value("float_charging_voltage") * k;
  s.boost_reconnect = value("boost_reconnect_charging_voltage") * k;
  s.low_voltage_reconnect = value("low_voltage_reconnect_voltage") * k;
  s.under_voltage_recover = value("under_voltage_warning_recover_voltage") * k;
  s.under_voltage_warning = value("under_voltage_warning_voltage") * k;
  s.low_voltage_disconnect = value("low_voltage_disconnect_voltage") * k;
  s.discharging_limit = value("discharging_limit_voltage") * k;
  s.temperature_compensation = value("temperature_compensation_coefficient");
  s.boost_minutes = value("boost_duration");
  s.equalize_minutes = raw("battery_type") == 2 ? 0 : value("equalize_duration");
  auto cycle =
      m_missing.contains(key(Table::Holding, 0x9016)) ? 30.0 : value("equalization_charging_cycle");
  s.equalize_cycle_days = std::max(1.0, cycle);
  return s;
}

double SimulatedController::battery_capacity() const {
  return value("battery_capacity");
}

ControllerInputs SimulatedController::inputs() const {
  ControllerInputs in;
  in.charging_enabled = raw("charging_device_on_off") != 0;
  bool on = false;
  auto t = to_calendar(m_clock);
  int minute_of_day = t.hour * 60 + t.minute;
  auto hm = [&](const char* hour, const char* minute) {
    return static_cast<int>(raw(hour)) * 60 + static_cast<int>(raw(minute));
  };
  switch (raw("load_control_mode")) {
    case 0:  // manual: coil 2
      on = raw("manual_load_control") != 0;
      break;
    case 1:  // light on/off: dusk to dawn
      on = m_was_night;
      break;
    case 2: {  // light on + timer: from dusk for timer 1
      auto timer = raw("load_timer1_working_length");
      on = m_was_night && m_since_timer_start < ((timer >> 8) * 3600.0 + (timer & 0xFF) * 60.0);
      break;
    }
    case 3: {  // time control by the controller clock
      int from = hm("turn_on_timing1_hour", "turn_on_timing1_minute");
      int to = hm("turn_off_timing1_hour", "turn_off_timing1_minute");
      on = from <= to ? (minute_of_day >= from && minute_of_day < to)
                      : (minute_of_day >= from || minute_of_day < to);
      break;
    }
    default:
      on = false;
  }
  if (raw("force_load_on_off") != 0 || raw("load_test_mode") != 0) on = true;
  in.load_on = on;
  return in;
}

void SimulatedController::update(const ControllerReadings& r, double dt) {
  // The clock first: the statistics roll over at its midnight.
  auto before = to_calendar(m_clock);
  m_clock += dt * (1.0 + m_drift_ppm * 1e-6);
  auto now = to_calendar(m_clock);
  auto rtc = protocol::encode_rtc(now);
  set_raw("rtc_minute_second", rtc[0]);
  set_raw("rtc_day_hour", rtc[1]);
  set_raw("rtc_year_month", rtc[2]);
  if (now.day != before.day || now.month != before.month || now.year != before.year) {
    m_generated[0] = m_consumed[0] = 0;
    set("max_pv_voltage_today", r.pv_voltage);
    set("min_pv_voltage_today", r.pv_voltage);
    set("max_battery_voltage_today", r.battery_voltage);
    set("min_battery_voltage_today", r.battery_voltage);
  }
  if (now.month != before.month || now.year != before.year) m_generated[1] = m_consumed[1] = 0;
  if (now.year != before.year) m_generated[2] = m_consumed[2] = 0;

  m_since_timer_start = r.night && m_was_night ? m_since_timer_start + dt : 0;
  m_was_night = r.night;

  set("pv_voltage", r.pv_voltage);
  set("pv_current", r.pv_current);
  set("pv_power", r.pv_power);
  set("battery_voltage", r.battery_voltage);
  set("battery_charging_current", r.charging_current);
  set("battery_charging_power", r.charging_power);
  set("load_voltage", r.load_voltage);
  set("load_current", r.load_current);
  set("load_power", r.load_power);
  set("battery_temperature", r.battery_temperature);
  set("device_temperature", r.device_temperature);
  set("power_components_temperature", r.power_components_temperature);
  set("battery_soc", r.soc);
  set("remote_battery_temperature", r.battery_temperature);
  set("battery_real_rated_voltage", system_voltage());
  set("battery_voltage_stat", r.battery_voltage);
  set("battery_current_net", r.battery_net_current);
  set("battery_temperature_stat", r.battery_temperature);
  set("ambient_temperature", r.ambient_temperature);
  set_raw("over_temperature_inside_device", r.device_over_temperature ? 1 : 0);
  set_raw("day_night", r.night ? 1 : 0);
  update_statistics(r);
  update_status(r);
}

void SimulatedController::update_statistics(const ControllerReadings& r) {
  if (m_last_generated_wh >= 0) {
    double gen = std::max(0.0, r.generated_wh - m_last_generated_wh);
    double con = std::max(0.0, r.consumed_wh - m_last_consumed_wh);
    for (int i = 0; i < 4; ++i) {
      m_generated[i] += gen;
      m_consumed[i] += con;
    }
  }
  m_last_generated_wh = r.generated_wh;
  m_last_consumed_wh = r.consumed_wh;
  write_statistics();
  auto track = [&](const char* max_name, const char* min_name, double v) {
    if (raw(max_name) == 0 || v > value(max_name)) set(max_name, v);
    if (raw(min_name) == 0 || v < value(min_name)) set(min_name, v);
  };
  track("max_pv_voltage_today", "min_pv_voltage_today", r.pv_voltage);
  track("max_battery_voltage_today", "min_battery_voltage_today", r.battery_voltage);
}

void SimulatedController::write_statistics() {
  const char* generated[] = {"generated_energy_today", "generated_energy_this_month",
                             "generated_energy_this_year", "generated_energy_total"};
  const char* consumed[] = {"consumed_energy_today", "consumed_energy_this_month",
                            "consumed_energy_this_year", "consumed_energy_total"};
  for (int i = 0; i < 4; ++i) {
    // The registers count in 0.01 kWh and never round up past what was made.
    set_raw(generated[i], static_cast<std::uint32_t>(std::floor(m_generated[i] / 10.0)));
    set_raw(consumed[i], static_cast<std::uint32_t>(std::floor(m_consumed[i] / 10.0)));
  }
  set("co2_reduction", m_generated[3] / 1000.0 * 0.000997);  // t of CO2 per kWh, as the LS-B
}

void SimulatedController::update_status(const ControllerReadings& r) {
  std::uint16_t battery = 0;
  if (r.over_voltage) {
    battery = 1;
  } else if (r.low_voltage_disconnect) {
    battery = 3;
  } else if (r.under_voltage_warning) {
    battery = 2;
  }
  if (r.battery_temperature > value("battery_temp_warning_upper_limit")) {
    battery |= 1 << 4;
  } else if (r.battery_temperature < value("battery_temp_warning_lower_limit")) {
    battery |= 2 << 4;
  }
  set_raw("battery_status", battery);

  std::uint16_t charging = 0;
  if (r.pv_over_voltage) {
    charging |= 2 << 14;
  } else if (r.night) {
    charging |= 1 << 14;
  }
  charging |= static_cast<std::uint16_t>(static_cast<unsigned>(r.phase) << 2);
  if (r.phase != ChargePhase::None) charging |= 1;  // running
  set_raw("charging_equipment_status", charging);

  std::uint16_t discharging = 0;
  if (r.load_on) discharging |= 1;
  double load_ratio = r.load_current / std::max(0.1, m_profile.rating.rated_load_current);
  std::uint16_t level = load_ratio > 1.0 ? 3 : load_ratio > 0.8 ? 2 : load_ratio > 0.3 ? 1 : 0;
  discharging |= static_cast<std::uint16_t>(level << 12);
  if (r.low_voltage_disconnect) discharging |= 1 << 14;
  set_raw("discharging_equipment_status", discharging);
}

// --- Modbus ---------------------------------------------------------------------------------

Bytes SimulatedController::handle(std::span<const std::uint8_t> pdu, std::uint16_t max_registers) {
  if (pdu.empty()) return {};
  std::uint8_t function = pdu[0];
  switch (function) {
    case fc::k_read_coils:
    case fc::k_read_discrete_inputs:
    case fc::k_read_holding_registers:
    case fc::k_read_input_registers:
      return read(function, pdu, max_registers);
    case fc::k_write_single_coil:
      return write_coil(pdu);
    case fc::k_write_multiple_registers:
      return write_registers(pdu);
    case fc::k_encapsulated_interface:
      return device_id(pdu);
    default:
      return exception(function, k_illegal_function);
  }
}

Bytes SimulatedController::read(std::uint8_t function, std::span<const std::uint8_t> pdu,
                                std::uint16_t max_registers) {
  if (pdu.size() != 5) return exception(function, k_illegal_value);
  Table table = function == fc::k_read_coils               ? Table::Coil
                : function == fc::k_read_discrete_inputs   ? Table::Discrete
                : function == fc::k_read_holding_registers ? Table::Holding
                                                           : Table::Input;
  bool bits = function <= fc::k_read_discrete_inputs;
  std::uint16_t start = be16(pdu, 1), count = be16(pdu, 3);
  std::uint16_t limit = bits ? 2000 : max_registers;
  if (count == 0 || count > limit) return exception(function, k_illegal_value);
  if (start + count > 0x10000) return exception(function, k_illegal_address);
  for (std::uint32_t a = start; a < start + count; ++a) {
    auto address = static_cast<std::uint16_t>(a);
    const auto* f = m_map.covering(table, address);
    bool readable = f == nullptr || f->readable();
    if (!present(table, address) || !readable) return exception(function, k_illegal_address);
  }
  Bytes out{function};
  if (bits) {
    out.push_back(static_cast<std::uint8_t>((count + 7) / 8));
    for (std::uint16_t i = 0; i < count; i += 8) {
      std::uint8_t byte = 0;
      for (std::uint16_t b = 0; b < 8 && i + b < count; ++b) {
        if (word(table, static_cast<std::uint16_t>(start + i + b)).value_or(0) != 0) {
          byte |= static_cast<std::uint8_t>(1 << b);
        }
      }
      out.push_back(byte);
    }
  } else {
    out.push_back(static_cast<std::uint8_t>(count * 2));
    for (std::uint16_t i = 0; i < count; ++i)
      put16(out, word(table, static_cast<std::uint16_t>(start + i)).value_or(0));
  }
  return out;
}

Bytes SimulatedController::write_coil(std::span<const std::uint8_t> pdu) {
  const auto function = fc::k_write_single_coil;
  if (pdu.size() != 5) return exception(function, k_illegal_value);
  std::uint16_t address = be16(pdu, 1), v = be16(pdu, 3);
  const auto* f = m_map.at(Table::Coil, address);
  if (f == nullptr || !present(Table::Coil, address)) return exception(function, k_illegal_address);
  if (v != 0xFF00 && v != 0x0000) return exception(function, k_illegal_value);
  bool on = v == 0xFF00;
  if (f->name == "restore_system_defaults") {
    if (on) {
      auto clock = m_clock;
      load_defaults();
      m_clock = clock;
    }
  } else if (f->name == "clear_generating_statistics") {
    if (on) {
      for (double& g : m_generated)
        g = 0;
      write_statistics();
    }
  } else {
    m_words[key(Table::Coil, address)] = on ? 1 : 0;
  }
  return {pdu.begin(), pdu.end()};  // the reply echoes the request
}

std::uint8_t SimulatedController::check_settings_write(std::uint16_t start,
                                                       std::span<const std::uint16_t> words) const {
  auto last = static_cast<std::uint16_t>(start + words.size() - 1);
  auto new_value = [&](std::uint16_t address) -> std::uint16_t {
    if (address >= start && address <= last) return words[address - start];
    return word(Table::Holding, address).value_or(0);
  };
  auto touches = [&](std::uint16_t first, std::uint16_t end) {
    return start <= end && last >= first;
  };
  std::uint16_t type = new_value(k_battery_type);
  if (touches(k_battery_type, k_battery_type)) {
    if (type > 12) return k_device_failure;
    // V2.5 warning 2: type User and rated voltage "auto" must not be set at the same time.
    if (type == 0 && new_value(k_rated_voltage_code) == 0) return k_device_failure;
  }
  if (touches(k_rated_voltage_code, k_rated_voltage_code)) {
    if (new_value(k_rated_voltage_code) > 6) return k_device_failure;
    if (new_value(k_rated_voltage_code) == 0 && type == 0) return k_device_failure;
  }
  if (touches(k_first_voltage, k_last_voltage)) {
    // The voltages only as one block, alone or with 0x9000-0x9002, and only for type User.
    if (start > k_first_voltage || last != k_last_voltage || type != 0) return k_device_failure;
    auto v = [&](std::uint16_t a) { return new_value(a); };
    bool ordered = v(0x9003) > v(0x9004) && v(0x9004) > v(0x9006) && v(0x9006) > v(0x9007) &&
                   v(0x9007) > v(0x9008) && v(0x9008) > v(0x9009) && v(0x900B) > v(0x900C) &&
                   v(0x900C) > v(0x900D) && v(0x900D) > v(0x900E) && v(0x9003) > v(0x9005) &&
                   v(0x900A) > v(0x900D);
    if (!ordered) return k_device_failure;
  }
  if (touches(k_rtc_first, k_rtc_last)) {
    if (start != k_rtc_first || last != k_rtc_last) return k_device_failure;
    auto t = protocol::decode_rtc(words[0], words[1], words[2]);
    if (!t.valid()) return k_device_failure;
  }
  return 0;
}

Bytes SimulatedController::write_registers(std::span<const std::uint8_t> pdu) {
  const auto function = fc::k_write_multiple_registers;
  if (pdu.size() < 6) return exception(function, k_illegal_value);
  std::uint16_t start = be16(pdu, 1), count = be16(pdu, 3);
  if (count == 0 || count > 123 || pdu[5] != count * 2 || pdu.size() != 6U + count * 2U) {
    return exception(function, k_illegal_value);
  }
  if (start + count > 0x10000) return exception(function, k_illegal_address);
  std::vector<std::uint16_t> words(count);
  for (std::uint16_t i = 0; i < count; ++i) {
    auto address = static_cast<std::uint16_t>(start + i);
    const auto* f = m_map.covering(Table::Holding, address);
    if (f == nullptr || !present(Table::Holding, address) || f->access == protocol::Access::Read) {
      return exception(function, k_illegal_address);
    }
    words[i] = be16(pdu, 6 + 2U * i);
  }
  if (auto code = check_settings_write(start, words); code != 0) {
    return exception(function, code);
  }
  for (std::uint16_t i = 0; i < count; ++i)
    m_words[key(Table::Holding, static_cast<std::uint16_t>(start + i))] = words[i];
  if (start <= k_battery_type && start + count > k_battery_type) {
    apply_battery_type_presets(words[k_battery_type - start]);
  }
  if (start == k_rtc_first) {
    m_clock = from_calendar(protocol::decode_rtc(words[0], words[1], words[2]));
  }
  Bytes out{function};
  put16(out, start);
  put16(out, count);
  return out;
}

Bytes SimulatedController::device_id(std::span<const std::uint8_t> pdu) const {
  const auto function = fc::k_encapsulated_interface;
  if (pdu.size() != 4 || pdu[1] != fc::k_mei_read_device_id) {
    return exception(function, k_illegal_value);
  }
  std::uint8_t code = pdu[2], object = pdu[3];
  auto serial = fmt::format("{}{:04}", m_profile.serial, m_unit);
  const std::string* objects[] = {&m_profile.vendor, &m_profile.model, &m_profile.firmware,
                                  &serial};
  std::uint8_t first = 0, last = 0;
  switch (code) {
    case 1:  // basic: vendor, product code, revision
      first = object <= 2 ? object : 0;
      last = 2;
      break;
    case 2:  // regular: an EPEVER answers only object 3, its serial number (vendor capture)
    case 3:
      first = 3;
      last = 3;
      break;
    case 4:  // one object
      if (object > 3) return exception(function, k_illegal_address);
      first = last = object;
      break;
    default:
      return exception(function, k_illegal_value);
  }
  Bytes out{function,
            fc::k_mei_read_device_id,
            code,
            0x01,
            0x00,
            0x00,
            static_cast<std::uint8_t>(last - first + 1)};
  for (std::uint8_t id = first; id <= last; ++id) {
    const auto& text = *objects[id];
    out.push_back(id);
    out.push_back(static_cast<std::uint8_t>(text.size()));
    out.insert(out.end(), text.begin(), text.end());
  }
  return out;
}

}  // namespace tracermon::sim
