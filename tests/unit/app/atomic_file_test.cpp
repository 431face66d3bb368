#include "core/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace tracermon::core {
namespace {

using ::tracermon::test::TempDir;

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  return out;
}

TEST(AtomicFile, CreatesTheFile) {
  TempDir dir;
  auto path = dir.path() / "state.json";
  ASSERT_TRUE(write_file_atomically(path, "{\"a\":1}\n").ok());
  EXPECT_EQ(read(path), "{\"a\":1}\n");
  EXPECT_THAT(entries(dir.path()), ::testing::ElementsAre("state.json"));
}

TEST(AtomicFile, ReplacesTheFileAndLeavesNoTemporary) {
  TempDir dir;
  auto path = dir.path() / "state.json";
  {
    std::ofstream old(path);
    old << "a much longer old content that must not survive in any part\n";
  }
  ASSERT_TRUE(write_file_atomically(path, "new\n").ok());
  EXPECT_EQ(read(path), "new\n");
  ASSERT_TRUE(write_file_atomically(path, "").ok());
  EXPECT_EQ(read(path), "");
  EXPECT_THAT(entries(dir.path()), ::testing::ElementsAre("state.json"));
}

TEST(AtomicFile, AMissingDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  auto path = dir.path() / "no-such-dir" / "state.json";
  auto written = write_file_atomically(path, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().kind, ErrorKind::Io);
  EXPECT_THAT(written.error().message, ::testing::HasSubstr(path.string()));
  EXPECT_THAT(written.error().message, ::testing::HasSubstr("No such file or directory"));
  EXPECT_THAT(entries(dir.path()), ::testing::IsEmpty());
}

TEST(AtomicFile, AFailedRenameLeavesNoTemporary) {
  TempDir dir;
  auto path = dir.path() / "state.json";
  std::filesystem::create_directories(path / "occupied");  // a non-empty directory in the way
  auto written = write_file_atomically(path, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.error().message, ::testing::HasSubstr(path.string()));
  EXPECT_THAT(entries(dir.path()), ::testing::ElementsAre("state.json"));
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

}  // namespace
}  // namespace tracermon::core
