// Configuration input that must not crash, hang or garble the error: nesting deeper than the
// parser can take, files that are not files or are too large, control characters in keys.
// `config check` and a SIGHUP reload go through load_config, as these tests do.

#include <cstring>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "app/influx_ini.hpp"
#include "config_errors.hpp"
#include "sim/profile.hpp"
#include "temp_dir.hpp"

namespace tracermon::app {
namespace {

using namespace std::string_literals;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view k_bus = "[[bus]]\nport = \"/dev/ttyUSB0\"\n[[bus.device]]\nid = 1\n";

std::string repeated(std::string_view unit, int times, std::string_view separator = "") {
  return fmt::format(
      "{}", fmt::join(std::vector<std::string_view>(static_cast<size_t>(times), unit), separator));
}

std::string write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// The message of the ConfigError load_config throws for `path`.
std::string load_error(const std::filesystem::path& path) {
  try {
    load_config(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted " << path;
  return {};
}

TEST(ConfigLimits, FiftyThousandLevelsAreRefusedBeforeTheParser) {
  const auto& file = test::config_file().string();
  auto header = std::string(k_bus) + "[" + repeated("a", 50000, ".") + "]\n";
  EXPECT_THAT(test::config_error_of(header),
              StartsWith(file + ":5: nested deeper than 32 levels of tables, dotted keys and "
                                "arrays"));
  auto dotted = "runtime_dir = \"/run\"\n" + repeated("a", 50000, ".") + " = 1\n";
  EXPECT_THAT(test::config_error_of(dotted), StartsWith(file + ":2: nested deeper than 32"));
  auto arrays = "x = " + repeated("[", 50000) + repeated("]", 50000) + "\n";
  EXPECT_THAT(test::config_error_of(arrays), StartsWith(file + ":1: nested deeper than 32"));
  auto inline_tables = "x = " + repeated("{a = ", 50000) + "1" + repeated("}", 50000) + "\n";
  EXPECT_THAT(test::config_error_of(inline_tables), StartsWith(file + ":1: nested deeper"));
}

TEST(ConfigLimits, ThirtyTwoLevelsStillReachTheChecker) {
  // Within the limit the text is parsed and the usual checks apply: an unknown table.
  auto text = std::string(k_bus) + "[" + repeated("a", 32, ".") + "]\n";
  test::expect_config_error(text, 5, "a", "unknown table");
}

TEST(ConfigLimits, TextOverOneMebibyteIsRefused) {
  auto text = std::string(k_bus) + "# " + std::string(1 << 20, 'x') + "\n";
  EXPECT_THAT(test::config_error_of(text),
              StartsWith(test::config_file().string() + ":1: larger than 1 MiB"));
}

TEST(ConfigLimits, OnlyRegularFilesOfAtMostOneMebibyteAreRead) {
  ::tracermon::test::TempDir dir;
  EXPECT_THAT(load_error("/dev/zero"), StartsWith("/dev/zero:1: not a regular file (a character "
                                                  "device)"));
  EXPECT_THAT(load_error(dir.path()),
              StartsWith(dir.path().string() + ":1: not a regular file (a directory)"));
  auto fifo = dir.path() / "fifo.toml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  EXPECT_THAT(load_error(fifo), StartsWith(fifo.string() + ":1: not a regular file (a FIFO)"));
  auto big = write(dir.path() / "big.toml", std::string(k_bus) + std::string(1 << 20, '#'));
  EXPECT_EQ(load_error(big), big + ":1: larger than 1 MiB");
  // A link to a regular file is that file.
  auto good = write(dir.path() / "good.toml", std::string(k_bus));
  std::filesystem::create_symlink(good, dir.path() / "link.toml");
  EXPECT_EQ(load_config(dir.path() / "link.toml").buses.size(), 1U);
}

TEST(ConfigLimits, InfluxDbMustBeARegularFileToo) {
  ::tracermon::test::TempDir dir;
  auto fifo = dir.path() / "influx.db";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  for (const auto& target : std::vector<std::string>{"/dev/zero", fifo.string()}) {
    auto config =
        write(dir.path() / "tracermon.toml", fmt::format("influx_db = \"{}\"\n{}", target, k_bus));
    auto message = load_error(config);
    EXPECT_THAT(message, StartsWith(config + ":1: influx_db: " + target + ":1: not a regular file"))
        << message;
  }
  EXPECT_THROW(load_influx_ini("/dev/zero"), ConfigError);
}

TEST(ConfigLimits, ControlCharactersInKeysAreEscapedAndTheLineStaysWhole) {
  auto message = test::config_error_of("\"a\\u0000b\" = 1\n" + std::string(k_bus));
  EXPECT_EQ(std::strlen(message.c_str()), message.size()) << "a NUL in the message";
  EXPECT_THAT(message, StartsWith(test::config_file().string() + ":1: a\\u0000b: unknown key"));
  EXPECT_THAT(message, HasSubstr("; allowed: runtime_dir,"));

  message = test::config_error_of(std::string(k_bus) + "[poll]\n\"\\u001b[31mred\" = 1\n");
  EXPECT_THAT(message, HasSubstr(":6: poll.\\u001b[31mred: unknown key; allowed: fast,"));

  // A value quoted in the message.
  message = test::config_error_of(std::string(k_bus) + "[log]\nlevel = \"x\\u0000y\"\n");
  EXPECT_THAT(message, HasSubstr("x\\u0000y"));
  EXPECT_EQ(std::strlen(message.c_str()), message.size());
}

TEST(ConfigLimits, ControlCharactersInTheOldInfluxFileAreEscaped) {
  auto text = "[INFLUXDB]\nHo\0st = x\n"s;
  try {
    parse_influx_ini(text, "/etc/influx.db");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), StartsWith("/etc/influx.db:2: unknown key 'Ho\\u0000st' in [INFLUXDB]"));
    EXPECT_THAT(e.what(), EndsWith("Measurement"));
  }
}

// Simulator profile files are TOML too, read the same way.
std::string profile_error(const std::filesystem::path& file) {
  try {
    sim::load_profiles(file);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ConfigLimits, ProfileFilesAreBoundedLikeTheConfiguration) {
  ::tracermon::test::TempDir dir;
  EXPECT_EQ(profile_error("/dev/zero"), "/dev/zero: not a regular file (a character device)");
  auto deep = write(dir.path() / "deep.toml", "[profile." + repeated("a", 50000, ".") + "]\n");
  EXPECT_EQ(profile_error(deep), deep + " line 1: nested deeper than 32 levels");
  auto big = write(dir.path() / "big.toml", std::string((1 << 20) + 1, '#'));
  EXPECT_EQ(profile_error(big), big + ": larger than 1 MiB");
  auto nul = write(dir.path() / "nul.toml", "[profile.x]\n\"vol\\u0000ts\" = 3\n");
  auto message = profile_error(nul);
  EXPECT_EQ(std::strlen(message.c_str()), message.size());
  EXPECT_THAT(message, HasSubstr("line 2: profile.x.vol\\u0000ts: unknown key"));
}

}  // namespace
}  // namespace tracermon::app
