#include "web/event_hub.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace tracermon::web {
namespace {

using namespace std::chrono_literals;

TEST(EventHub, EveryOpenStreamGetsEveryEventInOrder) {
  EventHub hub(4, 16);
  auto a = hub.open();
  auto b = hub.open();
  ASSERT_TRUE(a && b);
  hub.publish({"device", R"({"device":"east"})"});
  hub.publish({"site", R"({"site":"cabin"})"});
  for (const auto& stream : {a, b}) {
    auto first = stream->next(0ms);
    auto second = stream->next(0ms);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->type, "device");
    EXPECT_EQ(second->data, R"({"site":"cabin"})");
    EXPECT_FALSE(stream->next(0ms)) << "nothing more was published";
  }
}

TEST(EventHub, RefusesStreamsBeyondTheLimitUntilOneCloses) {
  EventHub hub(2);
  auto a = hub.open();
  auto b = hub.open();
  EXPECT_TRUE(a && b);
  EXPECT_EQ(hub.open(), nullptr);
  EXPECT_EQ(hub.open_streams(), 2U);
  a.reset();  // the browser went away
  EXPECT_EQ(hub.open_streams(), 1U);
  EXPECT_NE(hub.open(), nullptr);
}

TEST(EventHub, ASlowStreamLosesItsOldestEventsAndNeverBlocksThePublisher) {
  EventHub hub(1, 3);
  auto slow = hub.open();
  for (int i = 0; i < 10; ++i)
    hub.publish({"device", std::to_string(i)});
  EXPECT_EQ(slow->dropped(), 7U);
  EXPECT_EQ(slow->next(0ms)->data, "7");
  EXPECT_EQ(slow->next(0ms)->data, "8");
  EXPECT_EQ(slow->next(0ms)->data, "9");
}

TEST(EventHub, CloseWakesAWaitingStreamAtOnceAndRefusesNewOnes) {
  EventHub hub;
  auto stream = hub.open();
  std::optional<Event> got{Event{"x", "y"}};
  // A wait of an hour: only close() can end it within the test's lifetime.
  std::thread waiter([&] { got = stream->next(std::chrono::hours(1)); });
  hub.close();
  waiter.join();
  EXPECT_FALSE(got);
  EXPECT_TRUE(stream->closed());
  EXPECT_EQ(hub.open(), nullptr);
  hub.publish({"device", "after close"});
  EXPECT_FALSE(stream->next(0ms));
}

}  // namespace
}  // namespace tracermon::web
