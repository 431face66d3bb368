// Readers on other threads while the writer adds and commits (run it under ThreadSanitizer:
// the tsan preset).

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "store/snapshot_store.hpp"
#include "store_test_support.hpp"

namespace tracermon::store {
namespace {

using namespace test;

TEST(Concurrency, ReadersSeeCommittedDataWhileTheWriterWrites) {
  TempDir dir;
  SnapshotStore store(options_for(dir));
  constexpr int k_commits = 60;
  std::atomic<bool> writing{true};
  std::atomic<int> failed_reads{0};

  std::thread reader([&] {
    std::size_t seen = 0;
    while (writing.load()) {
      HistoryQuery query{"bus1-1", {"n"}, k_day0, k_day0 + k_hour, 3600};
      auto h = store.history(query);
      if (!h.ok()) {
        ++failed_reads;
        continue;
      }
      // Committed samples never disappear.
      auto present = static_cast<std::size_t>(
          std::count_if(h.value().columns[0].begin(), h.value().columns[0].end(),
                        [](const auto& v) { return v.has_value(); }));
      if (present < seen) ++failed_reads;
      seen = present;
      (void)store.sources();
      (void)store.energy("", "day");
    }
  });
  std::thread adder([&] {
    for (int i = 0; i < k_commits * 5; ++i) {
      store.add(record("bus1-1", k_day0 + i * 1000, {{"n", static_cast<double>(i)}}));
    }
  });
  for (int i = 0; i < k_commits; ++i) {
    EXPECT_TRUE(store.commit().ok());
    EXPECT_TRUE(store.put_state("i", std::to_string(i)).ok());
  }
  adder.join();
  EXPECT_TRUE(store.commit().ok());
  writing = false;
  reader.join();

  EXPECT_EQ(failed_reads.load(), 0);
  EXPECT_EQ(store.buffered(), 0U);
  auto csv = export_text(store, "bus1-1", k_day0, k_day0 + k_hour);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + k_commits * 5);
}

}  // namespace
}  // namespace tracermon::store
