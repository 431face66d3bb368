#include "sim/faults.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace tracermon::sim {

namespace {

constexpr std::array<std::string_view, k_fault_count> k_names = {
    "no-reply", "bad-crc",    "truncated",  "late",          "garbage", "wrong-id",
    "echo",     "exception4", "exception6", "second-master", "stuck",   "unplug"};

double parse_number(std::string_view text, std::string_view option) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument(
        fmt::format("fault option '{}': '{}' is not a number", option, text));
  }
  return v;
}

}  // namespace

std::string_view fault_name(Fault f) {
  return k_names.at(static_cast<std::size_t>(f));
}

std::optional<Fault> parse_fault_name(std::string_view name) {
  std::string dashed(name);
  for (auto& c : dashed) {
    if (c == '_') c = '-';
  }
  for (std::size_t i = 0; i < k_names.size(); ++i) {
    if (k_names[i] == dashed) return static_cast<Fault>(i);
  }
  return std::nullopt;
}

std::string fault_names() {
  std::string out;
  for (auto n : k_names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

void apply_fault_option(FaultSettings& settings, std::string_view option) {
  auto eq = option.find('=');
  if (eq == std::string_view::npos) {
    throw std::invalid_argument(fmt::format(
        "fault option '{}' must be NAME=RATE, late-ms=MS, unplug-ms=MS or unit=ID", option));
  }
  auto name = option.substr(0, eq);
  auto text = option.substr(eq + 1);
  double v = parse_number(text, option);
  if (name == "late-ms" || name == "late_ms" || name == "unplug-ms" || name == "unplug_ms") {
    if (v < 0 || v > 600000) {
      throw std::invalid_argument(fmt::format("fault option '{}': milliseconds 0-600000", option));
    }
    (name[0] == 'l' ? settings.late_ms : settings.unplug_ms) = v;
    return;
  }
  if (name == "unit") {
    if (v < 1 || v > 247 || v != static_cast<int>(v)) {
      throw std::invalid_argument(fmt::format("fault option '{}': unit is 1-247", option));
    }
    settings.only_unit = static_cast<std::uint8_t>(v);
    return;
  }
  auto fault = parse_fault_name(name);
  if (!fault) {
    throw std::invalid_argument(fmt::format(
        "unknown fault '{}' (known: {}, late-ms, unplug-ms, unit)", name, fault_names()));
  }
  if (v < 0 || v > 1) {
    throw std::invalid_argument(
        fmt::format("fault option '{}': the rate is a chance per request from 0 to 1", option));
  }
  settings.rate[static_cast<std::size_t>(*fault)] = v;
}

std::optional<Fault> FaultDice::roll(const FaultSettings& settings, std::uint8_t unit) {
  if (settings.only_unit && *settings.only_unit != unit) return std::nullopt;
  for (std::size_t i = 0; i < k_fault_count; ++i) {
    // Always draw, so one fault's rate does not shift the others' sequence.
    double u = uniform();
    if (settings.rate[i] > 0 && u < settings.rate[i]) return static_cast<Fault>(i);
  }
  return std::nullopt;
}

double FaultDice::uniform() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(m_rng);
}

int FaultDice::between(int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(m_rng);
}

}  // namespace tracermon::sim
