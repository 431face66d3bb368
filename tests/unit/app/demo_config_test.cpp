// `tracermon demo` runs the built-in demo example from any folder: every file it writes lands
// in that folder, and the dashboard listens where the user said.

#include "app/demo_config.hpp"

#include <string>

#include <gtest/gtest.h>

#include "app/config.hpp"

namespace tracermon::app {

extern const std::string_view k_demo_config_toml;

namespace {

TEST(DemoConfig, EveryFileOfTheDemoIsInsideItsFolder) {
  const std::filesystem::path dir = "/home/pi/.cache/tracermon-demo";
  auto text = demo_config_text(k_demo_config_toml, "127.0.0.1:9090");
  auto config = parse_config(text, dir / "demo.toml");
  EXPECT_EQ(config.runtime_dir.parent_path(), dir);
  EXPECT_EQ(config.store.path.parent_path(), dir);
  EXPECT_EQ(config.files.json_dir.parent_path(), dir);
  EXPECT_EQ(config.http.listen(), "127.0.0.1:9090");
  ASSERT_EQ(config.buses.size(), 1U);
  EXPECT_EQ(config.buses[0].devices.size(), 3U);
  EXPECT_EQ(text.find("../build/"), std::string::npos);
}

TEST(DemoConfig, AnExampleWithoutItsPathsIsAnErrorNotASilentlyWrongDemo) {
  EXPECT_THROW(demo_config_text("[http]\nlisten = \"127.0.0.1:8080\"\n", "127.0.0.1:1"),
               std::logic_error);
  EXPECT_THROW(demo_config_text("path = \"../build/demo/x.db\"\n", "127.0.0.1:1"),
               std::logic_error);
}

}  // namespace
}  // namespace tracermon::app
