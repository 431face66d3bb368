// Settings files and the battery profiles shipped in data/battery-profiles: every profile
// names real settings with values in range that keep the vendor's rules.

#include "app/settings_file.hpp"

#include <fstream>
#include <toml++/toml.h>

#include <gtest/gtest.h>

#include "app/cli_common.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

const protocol::SettingsCatalog& catalog() {
  return protocol::SettingsCatalog::builtin();
}

// A controller's settings before the profile: the vendor's example, type User, 12 V.
protocol::RegisterImage example_device() {
  protocol::RegisterImage image;
  const std::uint16_t words[] = {0,    200,  300,  1600, 1500, 1500, 1460, 1440,
                                 1380, 1320, 1260, 1220, 1200, 1110, 1060};
  for (std::uint16_t i = 0; i < 15; ++i)
    image[{protocol::Table::Holding, static_cast<std::uint16_t>(0x9000 + i)}] = words[i];
  image[{protocol::Table::Holding, protocol::k_rated_voltage_code}] = 1;
  return image;
}

TEST(BatteryProfiles, EveryProfileIsValidAndKeepsTheRules) {
  auto dir = std::filesystem::path(TRACERMON_DATA_DIR) / "battery-profiles";
  int profiles = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++profiles;
    auto file = read_settings_file(entry.path());
    SCOPED_TRACE(entry.path().filename().string());
    EXPECT_FALSE(file.name.empty());
    EXPECT_TRUE(file.dropped.empty()) << "a preset profile should not list voltages";
    auto merged = example_device();
    std::vector<protocol::RegisterKey> changed;
    for (const auto& a : file.settings) {
      auto field = catalog().find(a.name);
      ASSERT_TRUE(field.ok()) << field.error().message;
      auto raw = catalog().parse_value(*field.value(), a.value);
      ASSERT_TRUE(raw.ok()) << raw.error().message;
      protocol::put_raw(merged, *field.value(), raw.value());
      changed.push_back({field.value()->table, field.value()->address});
    }
    auto check = protocol::check_settings(catalog(), merged, changed);
    EXPECT_TRUE(check.ok()) << (check.ok() ? "" : check.violations.front());
  }
  EXPECT_GE(profiles, 4);
}

TEST(BatteryProfiles, EveryValueSaysWhereItComesFrom) {
  auto dir = std::filesystem::path(TRACERMON_DATA_DIR) / "battery-profiles";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto doc = toml::parse_file(entry.path().string());
    const auto* settings = doc["settings"].as_table();
    ASSERT_NE(settings, nullptr) << entry.path();
    for (const auto& [key, node] : *settings) {
      const auto* t = node.as_table();
      ASSERT_NE(t, nullptr) << entry.path().filename() << ": " << key.str() << " has no source";
      auto source = t->get("source") ? t->get("source")->value<std::string>() : std::nullopt;
      EXPECT_TRUE(source && !source->empty()) << entry.path().filename() << ": " << key.str();
    }
  }
}

std::filesystem::path write(const test::TempDir& dir, const std::string& text) {
  auto path = dir.path() / "s.toml";
  std::ofstream(path) << text;
  return path;
}

TEST(SettingsFile, APresetTypeDropsTheVoltages) {
  test::TempDir dir;
  auto file = read_settings_file(write(
      dir,
      "[settings]\nbattery_type = 1\nbattery_capacity = 100\nboost_charging_voltage = 14.4\n"));
  EXPECT_EQ(file.settings.size(), 2U);
  EXPECT_EQ(file.dropped, std::vector<std::string>{"boost_charging_voltage"});
}

TEST(SettingsFile, BadFilesNameTheLine) {
  test::TempDir dir;
  auto error = [&](const std::string& text) {
    try {
      (void)read_settings_file(write(dir, text));
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error("[settings\n").find("s.toml:1"), std::string::npos);
  EXPECT_NE(error("x = 1\n").find("no [settings] table"), std::string::npos);
  EXPECT_NE(error("[settings]\nboost_duration = [1]\n").find("s.toml:2"), std::string::npos);
  EXPECT_NE(error("[settings]\nboost_duration = { source = \"x\" }\n").find("needs a `value`"),
            std::string::npos);
  EXPECT_NE(error(std::string(2 << 20, '#')).find("s.toml"), std::string::npos);
}

}  // namespace
}  // namespace tracermon::app
