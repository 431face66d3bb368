// What users type on the command line: id lists, the adapter lookup, timestamps.

#include "app/cli_common.hpp"

#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

using namespace tracermon::app;

TEST(CliIds, ParsesListsAndRanges) {
  EXPECT_EQ(parse_ids("1"), std::vector<std::uint8_t>{1});
  EXPECT_EQ(parse_ids("1,2,3"), (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(parse_ids("3-5,1,4"), (std::vector<std::uint8_t>{3, 4, 5, 1}));
  EXPECT_EQ(parse_ids("1-247").size(), 247u);
}

TEST(CliIds, RejectsBadIds) {
  for (const char* bad : {"0", "248", "abc", "", "1,", "1,,2", "-1", "5-3", "1-", "2x"}) {
    EXPECT_THROW(parse_ids(bad), UsageError) << bad;
  }
  try {
    parse_ids("1,248");
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "bad id '248' in '1,248': slave ids are 1-247");
  }
}

TEST(CliAdapter, FindsTheSingleAdapter) {
  auto dir =
      std::filesystem::temp_directory_path() / ("tracermon-by-id-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THROW(find_serial_adapter(dir.string()), UsageError);  // none
  std::ofstream(dir / "usb-Exar-if00").put('x');
  EXPECT_EQ(find_serial_adapter(dir.string()), (dir / "usb-Exar-if00").string());
  std::ofstream(dir / "usb-FTDI-if00").put('x');
  try {
    find_serial_adapter(dir.string());
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("several serial adapters"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
  EXPECT_THROW(find_serial_adapter(dir.string()), UsageError);  // directory gone
}

TEST(CliLinkOptions, RejectsBadSettings) {
  LinkOptions o;
  o.port = "tcp://";
  EXPECT_THROW((void)o.port_spec(), UsageError);
  o = LinkOptions{};
  o.baud = 12345;
  EXPECT_THROW((void)o.serial(), UsageError);
  o = LinkOptions{};
  o.timeout_ms = 0;
  EXPECT_THROW((void)o.client(), UsageError);
  o = LinkOptions{};
  o.max_registers = 1;
  EXPECT_THROW((void)o.client(), UsageError);
  EXPECT_EQ(LinkOptions{}.client().timeout, std::chrono::milliseconds(1000));
}

TEST(CliTime, Rfc3339WithOffset) {
  auto text = rfc3339(std::chrono::system_clock::now());
  EXPECT_TRUE(std::regex_match(
      text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d))")))
      << text;
}
