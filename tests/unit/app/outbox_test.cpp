#include "sinks/outbox.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "numbered_items.hpp"
#include "temp_dir.hpp"

namespace tracermon::sinks {
namespace {

using ::testing::ElementsAre;
using ::tracermon::test::TempDir;
namespace fs = std::filesystem;

constexpr std::size_t k_header_bytes = 16;  // the documented record header

using test::item;
using test::items;

std::unique_ptr<Outbox> open_outbox(const fs::path& dir, OutboxOptions options = {}) {
  auto outbox = Outbox::open(dir, std::move(options));
  EXPECT_TRUE(outbox.ok()) << (outbox.ok() ? "" : outbox.error().describe());
  return outbox.ok() ? std::move(outbox).value() : nullptr;
}

std::vector<std::string> peek_all(Outbox& outbox) {
  auto all = outbox.peek(1'000'000, 1ULL << 30);
  EXPECT_TRUE(all.ok());
  return all.ok() ? all.value() : std::vector<std::string>{};
}

void append_range(Outbox& outbox, int from, int to) {
  for (int i = from; i < to; ++i)
    ASSERT_TRUE(outbox.append(item(i)).ok());
}

std::vector<fs::path> files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir))
    out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& path : files(dir)) {
    if (path.extension() == ".seg") out.push_back(path);
  }
  return out;
}

TEST(Outbox, HandsOutItemsOldestFirstUntilAcknowledged) {
  TempDir dir;
  auto outbox = open_outbox(dir.path());
  append_range(*outbox, 0, 10);
  EXPECT_EQ(outbox->size(), 10U);
  EXPECT_EQ(outbox->bytes(), 10 * (k_header_bytes + item(0).size()));

  auto first = outbox->peek(4, 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value(), items(0, 4));
  // Peeking again without an ack hands out the same items.
  EXPECT_EQ(outbox->peek(4, 1000).value(), items(0, 4));
  ASSERT_TRUE(outbox->ack(4).ok());
  EXPECT_EQ(outbox->size(), 6U);
  EXPECT_EQ(peek_all(*outbox), items(4, 10));
  EXPECT_FALSE(outbox->ack(7).ok()) << "only 6 are queued";
}

TEST(Outbox, PeekStopsAtTheByteLimitButAlwaysGivesOne) {
  TempDir dir;
  auto outbox = open_outbox(dir.path());
  ASSERT_TRUE(outbox->append(std::string(100, 'a')).ok());
  ASSERT_TRUE(outbox->append(std::string(100, 'b')).ok());
  auto batch = outbox->peek(10, 150);
  ASSERT_TRUE(batch.ok());
  EXPECT_THAT(batch.value(), ElementsAre(std::string(100, 'a')));
  batch = outbox->peek(10, 10);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch.value().size(), 1U) << "an item larger than the limit must not stall delivery";
}

TEST(Outbox, WritesNothingUntilTheFirstAppend) {
  TempDir dir;
  auto path = dir.path() / "outbox";
  {
    auto outbox = open_outbox(path);
    EXPECT_TRUE(outbox->empty());
    EXPECT_TRUE(peek_all(*outbox).empty());
  }
  EXPECT_TRUE(files(path).empty());
}

TEST(Outbox, FullyAcknowledgedLeavesTheDirectoryEmpty) {
  TempDir dir;
  OutboxOptions options;
  options.segment_bytes = 200;
  options.cursor_interval_bytes = 50;  // so that a cursor file was written on the way
  auto outbox = open_outbox(dir.path(), options);
  append_range(*outbox, 0, 40);
  EXPECT_GT(segments(dir.path()).size(), 2U);
  ASSERT_TRUE(outbox->ack(25).ok());
  ASSERT_TRUE(outbox->ack(15).ok());
  EXPECT_EQ(outbox->bytes(), 0U);
  ASSERT_TRUE(outbox->close().ok());
  EXPECT_TRUE(files(dir.path()).empty());
}

TEST(Outbox, ContinuesInOrderAfterARestart) {
  TempDir dir;
  OutboxOptions options;
  options.segment_bytes = 256;  // many segments
  {
    auto outbox = open_outbox(dir.path(), options);
    append_range(*outbox, 0, 100);
    ASSERT_TRUE(outbox->ack(30).ok());
    ASSERT_TRUE(outbox->close().ok());
  }
  auto outbox = open_outbox(dir.path(), options);
  EXPECT_EQ(outbox->size(), 70U);
  EXPECT_EQ(outbox->bytes(), 70 * (k_header_bytes + item(50).size()));  // all two digits
  EXPECT_EQ(outbox->discarded_bytes(), 0U);
  append_range(*outbox, 100, 120);
  EXPECT_EQ(peek_all(*outbox), items(30, 120));
}

TEST(Outbox, AfterKillNineRedeliversAtMostTheItemsAckedSinceTheCursorWasSaved) {
  TempDir dir;
  auto live = dir.path() / "live";
  auto crashed = dir.path() / "crashed";
  OutboxOptions options;
  options.segment_bytes = 4096;
  options.cursor_interval_bytes = 200;
  auto outbox = open_outbox(live, options);
  append_range(*outbox, 0, 100);
  ASSERT_TRUE(outbox->ack(37).ok());
  // The files as a kill -9 leaves them: we keep nothing in user-space buffers.
  fs::copy(live, crashed);
  ASSERT_TRUE(outbox->close().ok());

  auto reopened = open_outbox(crashed, options);
  auto left = peek_all(*reopened);
  ASSERT_FALSE(left.empty());
  // At-least-once: a contiguous run ending with the last item and holding every unacked one.
  auto first = static_cast<int>(100 - left.size());
  EXPECT_EQ(left, items(first, 100));
  EXPECT_LE(first, 37);
  // Bounded by the cursor interval: no more than 200 bytes of acked items come back.
  EXPECT_LE(static_cast<std::size_t>(37 - first) * (k_header_bytes + item(10).size()), 200U);
}

TEST(Outbox, ATornLastRecordIsCutOffAndTheRestKept) {
  TempDir dir;
  {
    auto outbox = open_outbox(dir.path());
    append_range(*outbox, 0, 5);
  }
  auto segment = segments(dir.path()).at(0);
  fs::resize_file(segment, fs::file_size(segment) - 3);  // a write cut short by kill -9

  auto outbox = open_outbox(dir.path());
  EXPECT_EQ(outbox->size(), 4U);
  EXPECT_EQ(outbox->discarded_bytes(), k_header_bytes + item(4).size() - 3);
  // Appends continue right after the last good record, so nothing hides behind the torn one.
  ASSERT_TRUE(outbox->append("after").ok());
  auto expected = items(0, 4);
  expected.push_back("after");
  EXPECT_EQ(peek_all(*outbox), expected);
  ASSERT_TRUE(outbox->close().ok());
  EXPECT_EQ(peek_all(*open_outbox(dir.path())), expected);
}

TEST(Outbox, ACorruptLastRecordIsNeverDelivered) {
  TempDir dir;
  {
    auto outbox = open_outbox(dir.path());
    append_range(*outbox, 0, 5);
  }
  auto segment = segments(dir.path()).at(0);
  {
    std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(segment) - 2));
    file.put('X');  // "item-4" becomes "itemX4": same length, wrong CRC
  }
  auto outbox = open_outbox(dir.path());
  EXPECT_EQ(peek_all(*outbox), items(0, 4));
  EXPECT_GT(outbox->discarded_bytes(), 0U);
}

TEST(Outbox, TheByteBoundDropsTheOldestAndCountsThem) {
  TempDir dir;
  OutboxOptions options;
  auto record = k_header_bytes + item(0).size();
  options.max_bytes = 5 * record;
  options.segment_bytes = 2 * record;
  auto outbox = open_outbox(dir.path(), options);
  append_range(*outbox, 0, 8);
  EXPECT_EQ(outbox->size(), 5U);
  EXPECT_EQ(outbox->bytes(), 5 * record);
  EXPECT_EQ(outbox->dropped(), 3U);
  EXPECT_EQ(peek_all(*outbox), items(3, 8));

  ASSERT_TRUE(outbox->append(std::string(5 * record, 'x')).ok());
  EXPECT_EQ(outbox->dropped(), 4U) << "an item larger than the whole bound is dropped";
  EXPECT_EQ(peek_all(*outbox), items(3, 8));
}

TEST(Outbox, TheAgeBoundDropsTheOldestAndCountsThem) {
  TempDir dir;
  std::int64_t now = 1'000'000;
  OutboxOptions options;
  options.max_age = std::chrono::milliseconds(1500);
  options.now_ms = [&now] { return now; };
  auto outbox = open_outbox(dir.path(), options);
  ASSERT_TRUE(outbox->append("t0").ok());
  now += 1000;
  ASSERT_TRUE(outbox->append("t1000").ok());
  now += 1000;
  ASSERT_TRUE(outbox->append("t2000").ok());
  EXPECT_THAT(peek_all(*outbox), ElementsAre("t1000", "t2000"));
  EXPECT_EQ(outbox->dropped(), 1U);
  ASSERT_TRUE(outbox->close().ok());

  // Ages are kept on disk: a process started later drops what expired while it was down.
  now += 1000;
  auto reopened = open_outbox(dir.path(), options);
  EXPECT_THAT(peek_all(*reopened), ElementsAre("t2000"));
  EXPECT_EQ(reopened->dropped(), 1U);
}

TEST(Outbox, PositionsTellWhatTheBoundsRemoved) {
  TempDir dir;
  OutboxOptions options;
  options.max_bytes = 3 * (k_header_bytes + item(0).size());
  auto outbox = open_outbox(dir.path(), options);
  append_range(*outbox, 0, 3);
  EXPECT_EQ(outbox->head_position(), 0U);
  EXPECT_EQ(outbox->tail_position(), 3U);
  append_range(*outbox, 3, 5);
  EXPECT_EQ(outbox->head_position(), 2U);
  EXPECT_EQ(outbox->tail_position(), 5U);
}

TEST(Outbox, ADirectoryThatCannotBeCreatedIsAnErrorNamingIt) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  auto outbox = Outbox::open(dir.path() / "file" / "outbox");
  ASSERT_FALSE(outbox.ok());
  EXPECT_THAT(outbox.error().message, ::testing::HasSubstr("file/outbox"));
}

}  // namespace
}  // namespace tracermon::sinks
