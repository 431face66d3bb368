#include "app/settings_file.hpp"

#include <toml++/toml.h>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "core/bounded_file.hpp"
#include "core/toml_nesting.hpp"
#include "protocol/settings.hpp"

namespace tracermon::app {

namespace {

std::string value_text(const std::string& file, std::string_view key, const toml::node& node) {
  if (const auto* table = node.as_table()) {
    const auto* value = table->get("value");
    if (value == nullptr) {
      throw UsageError(
          fmt::format("{}:{}: {}: a table needs a `value`", file, node.source().begin.line, key));
    }
    return value_text(file, key, *value);
  }
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) return fmt::format("{}", *node.value<double>());
  throw UsageError(
      fmt::format("{}:{}: {}: use a number or a string", file, node.source().begin.line, key));
}

}  // namespace

SettingsFile read_settings_file(const std::filesystem::path& path) {
  auto file = path.string();
  auto text = core::read_bounded_file(path);
  if (!text) throw UsageError(fmt::format("{}: {}", file, text.error().message));
  if (auto line = core::toml_too_deep(text.value())) {
    throw UsageError(fmt::format("{}:{}: nested too deeply", file, *line));
  }
  toml::table doc;
  try {
    doc = toml::parse(text.value(), file);
  } catch (const toml::parse_error& e) {
    throw UsageError(fmt::format("{}:{}: {}", file, e.source().begin.line, e.description()));
  }
  SettingsFile out;
  if (auto name = doc["profile"]["name"].value<std::string>()) out.name = *name;
  const auto* table = doc["settings"].as_table();
  if (table == nullptr) throw UsageError(fmt::format("{}: no [settings] table", file));
  for (const auto& [key, node] : *table)
    out.settings.push_back({std::string(key.str()), value_text(file, key.str(), node)});

  // With a preset battery type the controller sets the voltages itself (and refuses them).
  const auto& catalog = protocol::SettingsCatalog::builtin();
  const auto* type_field = catalog.map().find("battery_type");
  bool preset = false;
  for (const auto& a : out.settings) {
    if (a.name != "battery_type") continue;
    auto raw = catalog.parse_value(*type_field, a.value);
    preset = raw && raw.value() != 0;
  }
  if (preset) {
    std::erase_if(out.settings, [&](const control::Assignment& a) {
      const auto* f = catalog.map().find(a.name);
      bool voltage = f != nullptr && protocol::is_battery_voltage(*f);
      if (voltage) out.dropped.push_back(a.name);
      return voltage;
    });
  }
  return out;
}

}  // namespace tracermon::app
