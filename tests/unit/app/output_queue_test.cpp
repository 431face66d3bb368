#include "sinks/output_queue.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "numbered_items.hpp"
#include "temp_dir.hpp"

namespace tracermon::sinks {
namespace {

using namespace std::chrono_literals;
using ::tracermon::test::TempDir;
namespace fs = std::filesystem;

// Only a safety net so that a broken runner fails the test instead of hanging it; every wait
// ends on a condition variable as soon as its condition holds.
constexpr auto k_give_up = 60s;

using test::item;
using test::items;

std::size_t file_count(const fs::path& dir) {
  if (!fs::exists(dir)) return 0;
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

std::unique_ptr<Outbox> open_outbox(const fs::path& dir) {
  auto outbox = Outbox::open(dir);
  EXPECT_TRUE(outbox.ok());
  return outbox.ok() ? std::move(outbox).value() : nullptr;
}

// The far end of an output: up (records what it gets) or down (refuses); it can also hang in
// its first delivery until released. Shared, because a hung delivery may outlive the runner.
struct FarEnd {
  std::mutex mutex;
  std::condition_variable cv;
  bool up = true;
  int refused = 0;
  int refuse_first = 0;  // refuse this many deliveries, then accept
  int backoffs = 0;      // the runner has recorded a failure and waits to retry
  std::vector<std::string> received;
  std::atomic<bool> hang_next{false};
  std::latch entered{1};
  std::latch release{1};

  static DeliverFunction deliver(const std::shared_ptr<FarEnd>& far_end) {
    return [far_end](std::span<const std::string> batch) -> core::Status {
      return far_end->take(batch);
    };
  }

  core::Status take(std::span<const std::string> batch) {
    if (hang_next.exchange(false)) {
      entered.count_down();
      release.wait();
    }
    std::lock_guard lock(mutex);
    if (!up || refused < refuse_first) {
      ++refused;
      cv.notify_all();
      return core::Error{core::ErrorKind::ConnectFailed, "connection refused"};
    }
    received.insert(received.end(), batch.begin(), batch.end());
    cv.notify_all();
    return core::Ok{};
  }

  void set_up(bool value) {
    std::lock_guard lock(mutex);
    up = value;
    cv.notify_all();
  }

  bool wait_received(std::size_t count) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, k_give_up, [&] { return received.size() >= count; });
  }

  bool wait_refused(int count) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, k_give_up, [&] { return refused >= count; });
  }

  bool wait_backoffs(int count) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, k_give_up, [&] { return backoffs >= count; });
  }

  std::vector<std::string> received_items() {
    std::lock_guard lock(mutex);
    return received;
  }

  // A backoff that lasts until the far end is up again (the test decides when the outage ends).
  std::function<void(std::chrono::milliseconds)> backoff_until_up() {
    return [this](std::chrono::milliseconds) {
      std::unique_lock lock(mutex);
      ++backoffs;
      cv.notify_all();
      cv.wait_for(lock, k_give_up, [&] { return up; });
    };
  }
};

TEST(OutputRunner, DeliversInOrderAndNeverTouchesTheOutboxWhileTheFarEndAccepts) {
  TempDir dir;
  auto far_end = std::make_shared<FarEnd>();
  OutputRunnerOptions options;
  options.queue_capacity = 1000;
  OutputRunner runner(FarEnd::deliver(far_end), open_outbox(dir.path() / "outbox"), options);
  for (int i = 0; i < 500; ++i)
    runner.offer(item(i));
  ASSERT_TRUE(far_end->wait_received(500));
  EXPECT_EQ(far_end->received_items(), items(0, 500));

  // Stopping with items still queued delivers them rather than writing them to the card.
  for (int i = 500; i < 900; ++i)
    runner.offer(item(i));
  runner.stop();
  EXPECT_EQ(far_end->received_items(), items(0, 900));
  auto counters = runner.counters();
  EXPECT_EQ(counters.sent, 900U);
  EXPECT_EQ(counters.errors, 0U);
  EXPECT_EQ(counters.dropped, 0U);
  EXPECT_EQ(counters.in_outbox, 0U);
  EXPECT_EQ(counters.state, OutputState::Stopped);
  EXPECT_EQ(file_count(dir.path() / "outbox"), 0U);
}

TEST(OutputRunner, KeepsTheOrderAndDeliversEachItemOnceAcrossAnOutage) {
  TempDir dir;
  auto far_end = std::make_shared<FarEnd>();
  OutputRunnerOptions options;
  options.queue_capacity = 16;
  options.batch_items = 7;
  options.backoff_wait = far_end->backoff_until_up();
  OutputRunner runner(FarEnd::deliver(far_end), open_outbox(dir.path()), options);

  for (int i = 0; i < 100; ++i)
    runner.offer(item(i));
  ASSERT_TRUE(far_end->wait_received(100));

  far_end->set_up(false);
  for (int i = 100; i < 1100; ++i)
    runner.offer(item(i));
  ASSERT_TRUE(far_end->wait_backoffs(1));
  for (int i = 1100; i < 1200; ++i)
    runner.offer(item(i));
  auto during = runner.counters();
  EXPECT_EQ(during.state, OutputState::Retrying);
  EXPECT_GE(during.errors, 1U);
  EXPECT_EQ(during.last_error, "connect failed: connection refused");
  EXPECT_GT(during.in_outbox, 0U);
  EXPECT_EQ(during.in_outbox + during.queued, 1100U);
  EXPECT_GT(file_count(dir.path()), 0U);

  far_end->set_up(true);
  for (int i = 1200; i < 1300; ++i)
    runner.offer(item(i));
  ASSERT_TRUE(far_end->wait_received(1300));
  EXPECT_EQ(far_end->received_items(), items(0, 1300));

  runner.stop();
  auto after = runner.counters();
  EXPECT_EQ(after.sent, 1300U);
  EXPECT_EQ(after.dropped, 0U);
  EXPECT_EQ(after.in_outbox, 0U);
  EXPECT_EQ(file_count(dir.path()), 0U) << "a drained outbox leaves nothing on the card";
}

TEST(OutputRunner, ARejectedBatchIsDroppedAndCountedNotRetried) {
  TempDir dir;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> received;
  int attempts = 0;
  // The far end refuses the data of item 3 itself (an HTTP 400): every batch holding it.
  DeliverFunction deliver = [&](std::span<const std::string> batch) -> core::Status {
    std::lock_guard lock(mutex);
    ++attempts;
    cv.notify_all();
    for (const auto& i : batch) {
      if (i == item(3)) return core::Error{core::ErrorKind::Rejected, "HTTP 400: bad field type"};
    }
    received.insert(received.end(), batch.begin(), batch.end());
    return core::Ok{};
  };
  OutputRunnerOptions options;
  options.batch_items = 2;
  options.backoff_wait = [](std::chrono::milliseconds) { FAIL() << "a rejection is not retried"; };
  OutputRunner runner(deliver, open_outbox(dir.path()), options);
  runner.offer(item(0));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, k_give_up, [&] { return received.size() == 1; }));
  }
  for (int i = 1; i < 8; ++i)
    runner.offer(item(i));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, k_give_up, [&] { return received.size() == 6; }));
  }
  runner.stop();
  // Items 2 and 3 went in one batch (or 3 alone): what was refused is gone, the rest arrived.
  EXPECT_EQ(received.front(), item(0));
  EXPECT_EQ(received.back(), item(7));
  EXPECT_EQ(std::count(received.begin(), received.end(), item(3)), 0);
  auto counters = runner.counters();
  EXPECT_EQ(counters.rejected + counters.sent, 8U);
  EXPECT_GE(counters.rejected, 1U);
  EXPECT_EQ(counters.errors, 1U);
  EXPECT_EQ(counters.last_error, "HTTP 400: bad field type");
  EXPECT_EQ(counters.in_outbox, 0U);
  EXPECT_EQ(counters.dropped, 0U);
}

TEST(OutputRunner, RetryNowEndsTheBackoffWait) {
  auto far_end = std::make_shared<FarEnd>();
  far_end->refuse_first = 1;
  OutputRunnerOptions options;
  options.backoff_initial = std::chrono::hours(1);  // only retry_now() can end this wait
  options.backoff_max = std::chrono::hours(1);
  OutputRunner runner(FarEnd::deliver(far_end), nullptr, options);
  runner.offer(item(0));
  ASSERT_TRUE(far_end->wait_refused(1));
  runner.retry_now();
  ASSERT_TRUE(far_end->wait_received(1));
  EXPECT_EQ(far_end->received_items(), items(0, 1));
}

TEST(OutputRunner, BacksOffFromOneSecondDoublingUpToAMinute) {
  auto far_end = std::make_shared<FarEnd>();
  far_end->refuse_first = 9;
  std::vector<std::chrono::milliseconds> delays;  // only the delivery thread appends
  OutputRunnerOptions options;
  options.backoff_wait = [&delays](std::chrono::milliseconds delay) { delays.push_back(delay); };
  OutputRunner runner(FarEnd::deliver(far_end), nullptr, options);
  runner.offer(item(0));
  ASSERT_TRUE(far_end->wait_received(1));
  runner.stop();
  EXPECT_EQ(far_end->received_items(), items(0, 1));
  EXPECT_THAT(delays, ::testing::ElementsAre(1s, 2s, 4s, 8s, 16s, 32s, 60s, 60s, 60s));
  auto counters = runner.counters();
  EXPECT_EQ(counters.errors, 9U);
  EXPECT_EQ(counters.sent, 1U);
  EXPECT_EQ(counters.dropped, 0U);
  EXPECT_NE(counters.last_error_time, std::chrono::system_clock::time_point{});
}

TEST(OutputRunner, OfferNeverWaitsForAHangingDeliveryAndTheOutboxTakesTheOverflow) {
  TempDir dir;
  auto far_end = std::make_shared<FarEnd>();
  far_end->hang_next = true;
  OutputRunnerOptions options;
  options.queue_capacity = 100;
  OutputRunner runner(FarEnd::deliver(far_end), open_outbox(dir.path()), options);
  runner.offer(item(0));
  far_end->entered.wait();
  // Were offer() to wait for the delivery, this loop would never end.
  for (int i = 1; i <= 10000; ++i)
    runner.offer(item(i));
  auto during = runner.counters();
  EXPECT_LE(during.queued, 100U);
  EXPECT_EQ(during.queued + during.in_outbox, 10001U);
  EXPECT_EQ(during.dropped, 0U);

  far_end->release.count_down();
  ASSERT_TRUE(far_end->wait_received(10001));
  EXPECT_EQ(far_end->received_items(), items(0, 10001)) << "in order, each exactly once";
  runner.stop();
  EXPECT_EQ(file_count(dir.path()), 0U);
}

TEST(OutputRunner, WithoutAnOutboxAFullQueueDropsTheOldestAndCountsThem) {
  auto far_end = std::make_shared<FarEnd>();
  far_end->hang_next = true;
  OutputRunnerOptions options;
  options.queue_capacity = 100;
  OutputRunner runner(FarEnd::deliver(far_end), nullptr, options);
  runner.offer(item(0));
  far_end->entered.wait();
  for (int i = 1; i <= 1000; ++i)
    runner.offer(item(i));
  auto during = runner.counters();
  EXPECT_EQ(during.dropped, 900U);
  EXPECT_EQ(during.queued, 101U) << "100 queued and the one being delivered";

  far_end->release.count_down();
  ASSERT_TRUE(far_end->wait_received(101));
  auto expected = items(901, 1001);
  expected.insert(expected.begin(), item(0));
  EXPECT_EQ(far_end->received_items(), expected);
}

TEST(OutputRunner, StopWhileTheFarEndIsDownKeepsEverythingForTheNextStart) {
  TempDir dir;
  auto down = std::make_shared<FarEnd>();
  down->up = false;
  {
    // The real backoff (1 s): stop() must cut it short.
    OutputRunner runner(FarEnd::deliver(down), open_outbox(dir.path()));
    for (int i = 0; i < 50; ++i)
      runner.offer(item(i));
    ASSERT_TRUE(down->wait_refused(1));
    for (int i = 50; i < 100; ++i)
      runner.offer(item(i));
    runner.stop();
    auto counters = runner.counters();
    EXPECT_EQ(counters.state, OutputState::Stopped);
    EXPECT_EQ(counters.in_outbox, 100U);
    EXPECT_EQ(counters.queued, 0U);
    EXPECT_EQ(counters.dropped, 0U);
  }
  auto far_end = std::make_shared<FarEnd>();
  OutputRunner restarted(FarEnd::deliver(far_end), open_outbox(dir.path()));
  for (int i = 100; i < 110; ++i)
    restarted.offer(item(i));
  ASSERT_TRUE(far_end->wait_received(110));
  EXPECT_EQ(far_end->received_items(), items(0, 110));
}

TEST(OutputRunner, StopGivesUpOnAHangingDeliveryAndKeepsItsBatch) {
  TempDir dir;
  auto far_end = std::make_shared<FarEnd>();
  far_end->hang_next = true;
  OutputRunnerOptions options;
  options.stop_timeout = 50ms;  // a bound, not a synchronisation: nothing here waits for it
  {
    OutputRunner runner(FarEnd::deliver(far_end), open_outbox(dir.path()), options);
    runner.offer(item(0));
    far_end->entered.wait();
    for (int i = 1; i < 10; ++i)
      runner.offer(item(i));
    runner.stop();
    EXPECT_EQ(runner.counters().state, OutputState::Stopped);
  }
  // The batch in the hung delivery is kept too: at-least-once if it arrives after all.
  auto outbox = open_outbox(dir.path());
  auto kept = outbox->peek(100, 1 << 20);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept.value(), items(0, 10));
  far_end->release.count_down();
}

TEST(OutputRunner, AnExceptionFromTheOutputIsAFailedDeliveryNotACrash) {
  auto far_end = std::make_shared<FarEnd>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  OutputRunnerOptions options;
  options.backoff_wait = [](std::chrono::milliseconds) {};
  OutputRunner runner(
      [far_end, calls](std::span<const std::string> batch) -> core::Status {
        if (calls->fetch_add(1) == 0) throw std::runtime_error("broken socket");
        return far_end->take(batch);
      },
      nullptr, options);
  runner.offer(item(0));
  ASSERT_TRUE(far_end->wait_received(1));
  runner.stop();
  EXPECT_EQ(far_end->received_items(), items(0, 1));
  EXPECT_EQ(runner.counters().errors, 1U);
  EXPECT_THAT(runner.counters().last_error, ::testing::HasSubstr("broken socket"));
}

TEST(OutputRunner, OffersAfterStopAreCountedAsDropped) {
  auto far_end = std::make_shared<FarEnd>();
  OutputRunner runner(FarEnd::deliver(far_end), nullptr);
  runner.stop();
  runner.offer(item(0));
  EXPECT_EQ(runner.counters().dropped, 1U);
  EXPECT_EQ(std::string(to_string(runner.counters().state)), "stopped");
}

}  // namespace
}  // namespace tracermon::sinks
