#include "sim/profile.hpp"

#include <stdexcept>
#include <toml++/toml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/bounded_file.hpp"
#include "core/printable.hpp"
#include "core/toml_nesting.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::sim {

namespace {

// Documented only for the LS-B (LS-B V1.1): an AN or BN answers them with exception 2.
std::vector<std::string> lsb_only() {
  return {"power_components_temperature",
          "co2_reduction",
          "battery_temperature_stat",
          "ambient_temperature",
          "power_component_temp_upper_limit",
          "power_component_temp_upper_limit_recover",
          "line_impedance"};
}
// Only in the V2.5 document.
std::vector<std::string> v25_only() {
  return {"load_rated_voltage", "load_rated_power"};
}

std::vector<std::string> join(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<Profile> make_builtin() {
  std::vector<Profile> out;

  Profile an;
  an.key = "tracer-an";
  an.model = "Tracer3210AN";
  an.firmware = "V02.13+V07.24";
  an.serial = "000321021060";
  an.battery_rated_voltage = 24;
  an.rating = {100.0, 30.0, 20.0, true};
  an.panels = {780.0, 88.0, 72.0};  // two 390 W panels in series
  an.load_watts = 60;
  an.missing = lsb_only();
  out.push_back(an);

  Profile small = an;  // NOTES.md 14: 0x9066 and coil 1 error on a 2206AN
  small.key = "tracer-2206an";
  small.model = "Tracer2206AN";
  small.firmware = "V02.12+V07.23";
  small.serial = "000220619110";
  small.battery_rated_voltage = 12;
  small.rating = {60.0, 20.0, 20.0, true};
  small.panels = {260.0, 44.0, 36.0};
  small.load_watts = 25;
  small.missing = join({lsb_only(), {"main_power_supply", "output_control_mode_manual"}});
  out.push_back(small);

  Profile bn;
  bn.key = "tracer-bn";
  bn.model = "Tracer4215BN";
  bn.firmware = "V02.14+V07.24";
  bn.serial = "000421518090";
  bn.battery_rated_voltage = 24;
  bn.rating = {150.0, 40.0, 20.0, true};
  bn.panels = {1050.0, 132.0, 108.0};  // three 350 W panels in series
  bn.load_watts = 80;
  bn.missing = join({lsb_only(), v25_only(), {"equalization_charging_cycle"}});
  out.push_back(bn);

  Profile lsb;  // PWM; NOTES.md 14: adds 0x3112/0x3314/0x331D-E/0x901B-D, lacks 0x3202 and more
  lsb.key = "ls-b";
  lsb.model = "LS2024B";
  lsb.firmware = "V01.04+V01.02";
  lsb.serial = "000202417020";
  lsb.battery_rated_voltage = 12;
  lsb.rating = {50.0, 20.0, 20.0, false};
  lsb.panels = {200.0, 22.0, 18.0};
  lsb.load_watts = 20;
  lsb.missing =
      join({v25_only(),
            {"discharging_equipment_status", "backlight_time", "main_power_supply",
             "charging_device_on_off", "output_control_mode_manual", "default_load_control"}});
  out.push_back(lsb);
  return out;
}

[[noreturn]] void fail_at(const std::filesystem::path& file, const toml::node& node,
                          const std::string& key, const std::string& what) {
  throw std::runtime_error(core::printable(
      fmt::format("{} line {}: {}: {}", file.string(), node.source().begin.line, key, what)));
}

double number(const std::filesystem::path& file, const toml::node& node, const std::string& key,
              double min, double max) {
  auto v = node.value<double>();
  if (!v || *v < min || *v > max) {
    fail_at(file, node, key, fmt::format("must be a number from {} to {}", min, max));
  }
  return *v;
}

std::string text(const std::filesystem::path& file, const toml::node& node,
                 const std::string& key) {
  auto v = node.value<std::string>();
  if (!v || v->empty()) fail_at(file, node, key, "must be a non-empty string");
  return *v;
}

void apply(const std::filesystem::path& file, const std::string& name, const toml::table& t,
           Profile& p) {
  for (const auto& [k, node] : t) {
    std::string key = fmt::format("profile.{}.{}", name, k.str());
    std::string_view f = k.str();
    if (f == "base") {
      continue;
    } else if (f == "vendor") {
      p.vendor = text(file, node, key);
    } else if (f == "model") {
      p.model = text(file, node, key);
    } else if (f == "firmware") {
      p.firmware = text(file, node, key);
    } else if (f == "serial") {
      p.serial = text(file, node, key);
    } else if (f == "battery_rated_voltage") {
      p.battery_rated_voltage = number(file, node, key, 12, 48);
    } else if (f == "max_pv_voltage") {
      p.rating.max_pv_voltage = number(file, node, key, 10, 600);
    } else if (f == "rated_charge_current") {
      p.rating.rated_charge_current = number(file, node, key, 1, 200);
    } else if (f == "rated_load_current") {
      p.rating.rated_load_current = number(file, node, key, 0, 200);
    } else if (f == "mppt") {
      auto v = node.value<bool>();
      if (!v) fail_at(file, node, key, "must be true or false");
      p.rating.mppt = *v;
    } else if (f == "panel_peak_power") {
      p.panels.peak_power = number(file, node, key, 0, 20000);
    } else if (f == "panel_open_circuit_voltage") {
      p.panels.open_circuit_voltage = number(file, node, key, 1, 1000);
    } else if (f == "panel_max_power_voltage") {
      p.panels.max_power_voltage = number(file, node, key, 1, 1000);
    } else if (f == "load_watts") {
      p.load_watts = number(file, node, key, 0, 10000);
    } else if (f == "missing") {
      const auto* arr = node.as_array();
      if (arr == nullptr) fail_at(file, node, key, "must be an array of field names");
      p.missing.clear();
      for (const auto& item : *arr) {
        auto field = text(file, item, key);
        if (protocol::RegisterMap::builtin().find(field) == nullptr) {
          fail_at(file, item, key, fmt::format("'{}' is not a field of registers.csv", field));
        }
        p.missing.push_back(field);
      }
    } else {
      fail_at(file, node, key,
              "unknown key (allowed: base, vendor, model, firmware, serial, "
              "battery_rated_voltage, max_pv_voltage, rated_charge_current, rated_load_current, "
              "mppt, panel_peak_power, panel_open_circuit_voltage, panel_max_power_voltage, "
              "load_watts, missing)");
    }
  }
  if (p.panels.max_power_voltage >= p.panels.open_circuit_voltage) {
    throw std::runtime_error(core::printable(fmt::format(
        "{}: profile.{}: panel_max_power_voltage must be below panel_open_circuit_voltage",
        file.string(), name)));
  }
}

}  // namespace

const std::vector<Profile>& builtin_profiles() {
  static const std::vector<Profile> profiles = make_builtin();
  return profiles;
}

const Profile& find_profile(std::string_view key) {
  std::vector<std::string> keys;
  for (const auto& p : builtin_profiles()) {
    if (p.key == key) return p;
    keys.push_back(p.key);
  }
  throw std::invalid_argument(
      fmt::format("unknown profile '{}' (built in: {})", key, fmt::join(keys, ", ")));
}

std::vector<Profile> load_profiles(const std::filesystem::path& file) {
  auto content = core::read_bounded_file(file, core::k_max_config_bytes);
  if (!content) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), content.error().message));
  }
  // toml++ recurses once per level of nesting: 50 000 levels overflow the stack.
  if (auto line = core::toml_too_deep(content.value())) {
    throw std::runtime_error(fmt::format("{} line {}: nested deeper than {} levels", file.string(),
                                         *line, core::k_max_toml_depth));
  }
  toml::table doc;
  try {
    doc = toml::parse(content.value(), file.string());
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(
        fmt::format("{} line {}: {}", file.string(), e.source().begin.line, e.description()));
  }
  const auto* profiles = doc["profile"].as_table();
  if (profiles == nullptr || profiles->empty()) {
    throw std::runtime_error(
        fmt::format("{}: no [profile.NAME] table (see examples/profiles.toml)", file.string()));
  }
  std::vector<Profile> out;
  for (const auto& [name, node] : *profiles) {
    const auto* t = node.as_table();
    std::string key(name.str());
    if (t == nullptr) fail_at(file, node, "profile." + key, "must be a table");
    std::string base = "tracer-an";
    if (const auto* b = t->get("base")) base = text(file, *b, "profile." + key + ".base");
    Profile p;
    try {
      p = find_profile(base);
    } catch (const std::invalid_argument& e) {
      fail_at(file, *t->get("base"), "profile." + key + ".base", e.what());
    }
    p.key = key;
    apply(file, key, *t, p);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace tracermon::sim
