#pragma once
// Shared by the configuration tests: parse a text and get its error, or check its
// "FILE:LINE: KEY: what; allowed: ..." shape.

#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"

namespace tracermon::app::test {

inline const std::filesystem::path& config_file() {
  static const std::filesystem::path k_file = "/etc/tracermon/test.toml";
  return k_file;
}

// The error `text` is refused with; a test failure when it is accepted.
inline std::string config_error_of(std::string_view text) {
  try {
    parse_config(text, config_file());
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return {};
}

// "FILE:LINE: KEY: ..." with `fragment` somewhere in it (and "; allowed: " when `allowed`).
inline void expect_config_error(std::string_view text, int line, std::string_view key,
                                std::string_view fragment, bool allowed = true) {
  auto message = config_error_of(text);
  EXPECT_THAT(message,
              ::testing::StartsWith(fmt::format("{}:{}: {}: ", config_file().string(), line, key)))
      << text;
  if (allowed) {
    EXPECT_THAT(message, ::testing::HasSubstr("; allowed: "));
  }
  EXPECT_THAT(message, ::testing::HasSubstr(fragment)) << text;
}

}  // namespace tracermon::app::test
