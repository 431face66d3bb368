// Failed commits keep the data; a killed writer leaves a sound file with every commit in it.

#include <algorithm>
#include <cmath>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/snapshot_store.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;

std::vector<RecordValue> many_values(int seed) {
  std::vector<RecordValue> values;
  for (int i = 0; i < 45; ++i) {
    values.push_back({"field_" + std::to_string(i), seed * 1.37 + i * 1000.25});
  }
  return values;
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A full disk, simulated by the size cap: the commit fails with an error, the buffer is kept
// (and still takes new records), and once there is room again everything is written.
TEST(Durability, AFullDiskKeepsTheBufferUntilThereIsRoomAgain) {
  TempDir dir;
  auto options = options_for(dir);
  options.max_db_bytes = 96 * 4096;
  SnapshotStore store(options);
  store.add(record("bus1-1", k_day0, many_values(0)));
  ASSERT_TRUE(store.commit().ok());

  // Fill the file with one big state value, leaving less room than the next batch needs.
  std::size_t filler = 0;
  while (store.put_state("filler", std::string(filler + 16384, 'x')).ok()) {
    filler += 16384;
  }
  ASSERT_GT(filler, 0U);
  ASSERT_TRUE(store.put_state("filler", std::string(filler, 'x')).ok());

  for (int i = 1; i <= 300; ++i) {
    store.add(record("bus1-1", k_day0 + i * 5000, many_values(i)));
  }
  auto failed = store.commit();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, core::ErrorKind::Io);
  EXPECT_NE(failed.error().message.find("full"), std::string::npos) << failed.error().message;
  EXPECT_EQ(store.buffered(), 300U);
  EXPECT_EQ(store.dropped(), 0U);
  EXPECT_NE(store.last_error().find("full"), std::string::npos);

  store.add(record("bus1-1", k_day0 + 301 * 5000, many_values(301)));
  EXPECT_FALSE(store.commit().ok());
  EXPECT_EQ(store.buffered(), 301U);

  ASSERT_TRUE(store.put_state("filler", "").ok());  // room again
  ASSERT_TRUE(store.commit().ok()) << store.last_error();
  EXPECT_EQ(store.buffered(), 0U);
  EXPECT_EQ(store.last_error(), "");
  auto csv = export_text(store, "bus1-1", k_day0, k_day0 + k_day);
  EXPECT_EQ(lines(csv), 1 + 302 * 45U);
  // 301 * 1.37 + 44 * 1000.25 at 00:25:05
  EXPECT_NE(csv.find("2026-11-25T00:25:05.000Z,bus1-1,field_44,44423.37\n"), std::string::npos);

  HistoryQuery query{"bus1-1", {"field_0"}, k_day0, k_day0 + k_hour, 60, HistoryQuery::Agg::Max};
  auto h = store.history(query).value();
  ASSERT_EQ(h.resolution, "minute");
  EXPECT_EQ(h.columns[0][25], 412.37);  // 301 * 1.37
}

// A child process adds and commits in a loop and reports each commit on a pipe; it is killed
// with SIGKILL in the middle. The file must pass integrity_check and hold every reported batch,
// and the rollups that were still pending must come out right after the restart.
TEST(Durability, KillNineLeavesASoundFileWithEveryCommit) {
  TempDir dir;
  StoreOptions options;  // default rollup refresh: open buckets are pending when it dies
  options.path = dir.db();
  constexpr int k_per_batch = 30;  // 3 devices, 10 samples each: 50 s at 5 s
  auto time_of = [](int batch, int i) { return k_day0 + (batch * 10 + i / 3) * 5000; };
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    SnapshotStore store(options);
    for (int batch = 0;; ++batch) {
      for (int i = 0; i < k_per_batch; ++i) {
        store.add(
            record("bus1-" + std::to_string(i % 3 + 1), time_of(batch, i), many_values(batch)));
      }
      if (!store.commit().ok()) _exit(1);
      if (write(pipe_fds[1], &batch, sizeof batch) != sizeof batch) _exit(2);
    }
  }
  close(pipe_fds[1]);
  // Whatever happens below, the child does not outlive the test.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0 && kill(pid, SIGKILL) == 0) waitpid(pid, nullptr, 0);
    }
  } reaper{child};
  int reported = -1;
  for (int batch = 0; batch < 200; ++batch) {
    ASSERT_EQ(read(pipe_fds[0], &reported, sizeof reported), static_cast<ssize_t>(sizeof reported));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  reaper.pid = 0;
  close(pipe_fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed on its own: " << status;
  ASSERT_EQ(reported, 199);

  {
    RawDb db(dir.db());
    EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
  }
  SnapshotStore store(options);
  // Every reported batch is there, whole, and no batch is there in part.
  auto csv = export_text(store, "", k_day0, k_day0 + 30 * k_day);
  auto rows = (lines(csv) - 1) / 45;
  EXPECT_EQ((lines(csv) - 1) % 45, 0U);
  EXPECT_EQ(rows % k_per_batch, 0U);
  auto batches = static_cast<int>(rows / k_per_batch);
  EXPECT_GE(batches, reported + 1);

  // Rollups of the committed data, including the open hour and day: field_0 is batch * 1.37.
  ASSERT_TRUE(store.commit().ok());
  double sum = 0;
  for (int b = 0; b < batches; ++b) {
    sum += std::round(b * 1.37 * 100) / 100;
  }
  HistoryQuery day{"bus1-1", {"field_0"}, k_day0, k_day0 + k_day, 1};
  auto h = store.history(day).value();
  ASSERT_EQ(h.resolution, "day");
  ASSERT_TRUE(h.columns[0][0].has_value());
  EXPECT_NEAR(*h.columns[0][0], sum / batches, 1e-9);
  day.agg = HistoryQuery::Agg::Last;
  EXPECT_NEAR(*store.history(day).value().columns[0][0], (batches - 1) * 1.37, 0.006);
}

}  // namespace
}  // namespace tracermon::store
