#pragma once
// A model profile: what one kind of Tracer says about itself (Read Device Identification,
// rated data), what its panels and load look like in the simulation, and which optional
// registers it lacks (NOTES.md section 14). Built-in profiles cover the common series; a TOML
// file can define more.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sim/plant.hpp"

namespace tracermon::sim {

struct Profile {
  std::string key;  // what --profile takes: "tracer-an"
  std::string vendor = "EPsolar Tech co., Ltd";
  std::string model;                  // 0x2B object 1, e.g. "Tracer3210AN"
  std::string firmware;               // 0x2B object 2, e.g. "V02.13+V07.24"
  std::string serial;                 // 0x2B object 3: 12 digits; the unit id is appended as 4 more
  double battery_rated_voltage = 24;  // 0x3004 (V): 12/24 auto units report their system
  ControllerRating rating;
  PanelArray panels;
  double load_watts = 40;
  // registers.csv names of the fields this model answers with exception 2.
  std::vector<std::string> missing;
};

// "tracer-an", "tracer-2206an", "tracer-bn", "ls-b".
const std::vector<Profile>& builtin_profiles();
// A built-in profile by key; throws std::invalid_argument listing the keys.
const Profile& find_profile(std::string_view key);
// Profiles from a TOML file: one [profile.KEY] table each, any key of Profile, starting from
// the built-in profile named by `base` (default "tracer-an"). Throws std::runtime_error with
// the file, line and key of the first error.
std::vector<Profile> load_profiles(const std::filesystem::path& file);

}  // namespace tracermon::sim
