#pragma once
// Settings files: what `tracermon settings export` prints and the battery profiles of
// data/battery-profiles/ (each value with its source). Both are TOML with a [settings] table
// of NAME = value or NAME = { value = ..., source = "..." }. Applying one is a `set` of its
// values, previewed unless --yes: a profile is a template, never applied by itself.

#include <filesystem>
#include <string>
#include <vector>

#include "control/control_service.hpp"

namespace tracermon::app {

struct SettingsFile {
  std::string name;  // [profile] name, when there is one
  std::vector<control::Assignment> settings;
  // Voltages left out because the file's battery type is a preset (the controller sets them
  // itself and refuses them).
  std::vector<std::string> dropped;
};

// Throws UsageError "FILE:LINE: what" for a file that cannot be read, bad TOML, no [settings]
// table, a value that is neither a number nor a string.
SettingsFile read_settings_file(const std::filesystem::path& file);

}  // namespace tracermon::app
