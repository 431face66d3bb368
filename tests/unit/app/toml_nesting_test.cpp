// The nesting guard in front of toml++: depth as documented, strings and comments skipped,
// the line of the first level too deep, and no recursion of its own.

#include "core/toml_nesting.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace tracermon::core {
namespace {

std::string repeated(std::string_view unit, int times, std::string_view separator = "") {
  return fmt::format(
      "{}", fmt::join(std::vector<std::string_view>(static_cast<size_t>(times), unit), separator));
}

// The smallest limit `text` passes.
int depth_of(std::string_view text) {
  for (int limit = 0; limit < 100; ++limit) {
    if (!toml_too_deep(text, limit)) return limit;
  }
  return -1;
}

TEST(TomlNesting, DepthCountsKeysOnThePathAndArrays) {
  EXPECT_EQ(depth_of(""), 0);
  EXPECT_EQ(depth_of("a = 1\n"), 1);
  EXPECT_EQ(depth_of("a.b.c = 1\n"), 3);
  EXPECT_EQ(depth_of("[a.b]\nc = 1\n"), 3);
  EXPECT_EQ(depth_of("[a . \"b\" . 'c']\n"), 3);
  EXPECT_EQ(depth_of("[[a.b]]\nc = 1\n"), 4);
  EXPECT_EQ(depth_of("a = [[1]]\n"), 3);
  EXPECT_EQ(depth_of("a = [[1], [2], 3]\n"), 3);
  EXPECT_EQ(depth_of("a = {b = {c = 1}}\n"), 3);
  EXPECT_EQ(depth_of("a = {b = 1, c.d.e = 2}\n"), 4);
  EXPECT_EQ(depth_of("a = [{b = [1]}, {}]\n"), 4);
  EXPECT_EQ(depth_of("[x]\na = 1\n[y.z]\nb = 2\n[w]\nc = 3\n"), 3);
}

TEST(TomlNesting, StringsQuotedKeysAndCommentsHideBrackets) {
  EXPECT_EQ(depth_of("a = \"[[[[{{{{\"\n"), 1);
  EXPECT_EQ(depth_of("a = \"\\\"[[[[\"\n"), 1);
  EXPECT_EQ(depth_of("a = '[[[[\\'\n"), 1);
  EXPECT_EQ(depth_of("a = 1 # [[[[ {{{{\n# [a.b.c.d]\n"), 1);
  EXPECT_EQ(depth_of("\"a.b.c.d\" = 1\n'e.f' = 2\n"), 1);
  EXPECT_EQ(depth_of("a = \"\"\"\n[[[[\nb.c.d = 1\n\"\"\"\n"), 1);
  EXPECT_EQ(depth_of("a = '''\n[b.c.d]\n'''\n"), 1);
  EXPECT_EQ(depth_of("a = \"\"\"x\\\"\"\"[[[\"\"\"\n"), 1);  // an escaped quote inside
  EXPECT_EQ(depth_of("a = [\"]]]\", ']]]', 1]\n"), 2);
}

TEST(TomlNesting, TheLineIsWhereItFirstGoesTooDeep) {
  EXPECT_EQ(toml_too_deep("x = 1\n\n[a.a.a.a]\n", 3), 3U);
  EXPECT_EQ(toml_too_deep("a = [\n  [\n    [\n      1]]]\n", 3), 3U);
  EXPECT_EQ(toml_too_deep("a = \"\"\"\n\n\n\"\"\"\nb.c.d.e = 1\n", 3), 5U);
  // Up to two quotes before the closing three belong to the string.
  EXPECT_EQ(toml_too_deep("a = \"\"\"x\"\"\"\"\"\nb.c.d.e = 1\n", 3), 2U);
  EXPECT_EQ(toml_too_deep("a = '''x'''''\r\nb.c.d.e = 1\r\n", 3), 2U);
  EXPECT_EQ(toml_too_deep("[a]\nb.c.d = 1\n", 3), 2U);
}

TEST(TomlNesting, FiftyThousandLevelsAreFoundWithoutRecursion) {
  auto header = "x = 1\n[" + repeated("a", 50000, ".") + "]\n";
  EXPECT_EQ(toml_too_deep(header), 2U);
  auto dotted = repeated("a", 50000, ".") + " = 1\n";
  EXPECT_EQ(toml_too_deep(dotted), 1U);
  auto arrays = "a = " + repeated("[", 50000) + repeated("]", 50000) + "\n";
  EXPECT_EQ(toml_too_deep(arrays), 1U);
  auto tables = "a = " + repeated("{b = ", 50000) + "1" + repeated("}", 50000) + "\n";
  EXPECT_EQ(toml_too_deep(tables), 1U);
  auto lines = "a = " + repeated("[", 50000, "\n") + "\n";
  EXPECT_EQ(toml_too_deep(lines), 32U);  // the 32nd line opens the 32nd array: depth 33
}

TEST(TomlNesting, BrokenTextEndsTheScanWithoutComplaint) {
  using namespace std::string_view_literals;
  for (auto text :
       {"[a.b"sv, "a.b.c"sv, "a = \"unterminated\n[x]\n"sv, "a = '''never closed\n"sv, "]]]]}}}}"sv,
        "a = {b.c = "sv, "= = =\n[[\n"sv, "a = [1, 2,,,]\n"sv, "\"a\\"sv, "a\0b = 1"sv}) {
    EXPECT_EQ(toml_too_deep(text, 3), std::nullopt) << text;
  }
}

TEST(TomlNesting, TracermonsOwnFilesAreFarFromTheLimit) {
  for (const char* name : {"tracermon.toml", "demo.toml", "profiles.toml"}) {
    std::ifstream in(std::string(TRACERMON_SOURCE_DIR) + "/examples/" + name);
    ASSERT_TRUE(in) << name;
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_LE(depth_of(text.str()), 4) << name;
  }
}

}  // namespace
}  // namespace tracermon::core
