#pragma once
// Golden files: an output shape compared byte for byte with its checked-in copy under
// tests/golden/, so any change to what tracermon sends shows as a diff in review.
//
//   TRACERMON_UPDATE_GOLDEN=1 build/tests/format_tests   rewrites the copies from the code;
//   then read `git diff tests/golden` and commit what is meant.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace tracermon::test {

inline std::filesystem::path golden_path(std::string_view name) {
  return std::filesystem::path(TRACERMON_SOURCE_DIR) / "tests" / "golden" / name;
}

inline bool updating_golden() {
  const char* update = std::getenv("TRACERMON_UPDATE_GOLDEN");
  return update != nullptr && std::string_view(update) == "1";
}

// Where `expected` and `actual` first differ: line, column and both lines (with a marker).
inline std::string first_difference(const std::string& expected, const std::string& actual) {
  auto e = std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end()).first;
  auto at = static_cast<std::size_t>(e - expected.begin());
  auto line_number = std::count(expected.begin(), e, '\n') + 1;
  auto line_start = expected.rfind('\n', at == 0 ? 0 : at - 1);
  line_start = line_start == std::string::npos || at == 0 ? 0 : line_start + 1;
  auto line_of = [&](const std::string& text) {
    auto end = text.find('\n', line_start);
    auto line = text.substr(std::min(line_start, text.size()),
                            end == std::string::npos ? std::string::npos : end - line_start);
    return line;
  };
  auto column = at - line_start;
  // Long lines (one JSON object per line) are cut to the neighbourhood of the difference.
  auto cut = [&](const std::string& line) {
    constexpr std::size_t k_context = 60;
    auto from = column > k_context ? column - k_context : 0;
    auto part = line.substr(std::min(from, line.size()), 2 * k_context);
    return (from > 0 ? "..." : "") + part;
  };
  auto marker = std::string((column > 60 ? 63 : column), ' ') + "^";
  std::ostringstream out;
  out << "first difference at line " << line_number << ", column " << column + 1 << " (byte " << at
      << "; expected " << expected.size() << " bytes, got " << actual.size() << ")\n"
      << "  expected: " << cut(line_of(expected)) << "\n"
      << "  actual:   " << cut(line_of(actual)) << "\n"
      << "            " << marker << "\n";
  return out.str();
}

// Compares `actual` with tests/golden/<name>; with TRACERMON_UPDATE_GOLDEN=1 writes it there.
inline void expect_golden(std::string_view name, const std::string& actual) {
  auto path = golden_path(name);
  if (updating_golden()) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    std::cout << "[ golden ] wrote " << path.string() << "\n";
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << path.string() << ": no golden file. Create it with "
                  << "TRACERMON_UPDATE_GOLDEN=1 and the test's executable, then review and "
                  << "commit it.";
    return;
  }
  std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (expected == actual) return;
  ADD_FAILURE() << "output differs from its golden file " << path.string() << "\n"
                << first_difference(expected, actual)
                << "If the change is meant (the shape is an interface: MQTT, Home Assistant, "
                << "InfluxDB, Prometheus and API users see it), update the file with\n"
                << "  TRACERMON_UPDATE_GOLDEN=1 " << ::testing::internal::GetArgvs()[0]
                << " --gtest_filter='"
                << ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name()
                << ".*'\nand review `git diff tests/golden`.";
}

}  // namespace tracermon::test
