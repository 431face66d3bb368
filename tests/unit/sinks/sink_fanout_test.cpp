// The fan-out hands every cycle and site total to every sink in order; a sink that blocks or
// throws holds up neither the producer (the bus worker) nor the other sinks.

#include "sinks/sink_fanout.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fake_sinks.hpp"

namespace tracermon::sinks {
namespace {

using test::BlockingSink;
using test::RecordingSink;
using test::ThrowingSink;

CycleEvent cycle(const std::string& device, std::uint64_t number) {
  auto snapshot = std::make_shared<model::DeviceSnapshot>();
  snapshot->device = device;
  snapshot->cycle = number;
  return {snapshot, snapshot, std::nullopt, nullptr};
}

model::SiteTotals site(const std::string& name) {
  model::SiteTotals totals;
  totals.site = name;
  return totals;
}

const SinkCounters& counters_of(const std::vector<SinkCounters>& all, const std::string& name) {
  for (const auto& c : all) {
    if (c.name == name) return c;
  }
  throw std::invalid_argument("no sink " + name);
}

TEST(SinkFanout, EverySinkGetsEveryCycleAndSiteTotalInOrder) {
  SinkFanout fanout;
  auto& first = dynamic_cast<RecordingSink&>(fanout.add(std::make_unique<RecordingSink>("a")));
  auto& second = dynamic_cast<RecordingSink&>(fanout.add(std::make_unique<RecordingSink>("b")));
  fanout.start();
  std::vector<std::string> expected{"start"};
  for (std::uint64_t n = 1; n <= 50; ++n) {
    fanout.cycle(cycle("east", n));
    fanout.cycle(cycle("west", n));
    fanout.site(site("shed"));
    expected.insert(expected.end(),
                    {"east#" + std::to_string(n), "west#" + std::to_string(n), "site:shed"});
  }
  fanout.stop();
  expected.emplace_back("stop");
  EXPECT_EQ(first.seen(), expected);
  EXPECT_EQ(second.seen(), expected);
  auto counters = fanout.counters();
  EXPECT_EQ(counters_of(counters, "a").delivered, 150U);
  EXPECT_EQ(counters_of(counters, "a").dropped, 0U);
}

TEST(SinkFanout, ABlockedSinkHoldsUpNeitherTheProducerNorTheOthers) {
  SinkFanout fanout;
  auto& blocking = dynamic_cast<BlockingSink&>(fanout.add(std::make_unique<BlockingSink>(), 8));
  // Released however the test ends: the fan-out's stop waits for every sink.
  auto release = std::unique_ptr<BlockingSink, void (*)(BlockingSink*)>(
      &blocking, [](BlockingSink* sink) { sink->release(); });
  auto& recording = dynamic_cast<RecordingSink&>(fanout.add(std::make_unique<RecordingSink>()));
  fanout.start();
  fanout.cycle(cycle("east", 1));
  ASSERT_TRUE(blocking.wait_entered());
  // The producer goes on while the blocked sink holds its first event: 100 more cycles return
  // (a producer that waited for the blocked sink would hang here), and the other sink gets
  // every one of them.
  for (std::uint64_t n = 2; n <= 101; ++n)
    fanout.cycle(cycle("east", n));
  ASSERT_TRUE(recording.wait_for(1 + 101)) << recording.seen().size();
  EXPECT_EQ(recording.seen().back(), "east#101");
  // The blocked sink's queue is bounded: it lost its oldest events, counted.
  auto counters = fanout.counters();
  EXPECT_EQ(counters_of(counters, "blocking").dropped, 100U - 8U);
  EXPECT_EQ(counters_of(counters, "blocking").queued, 8U + 1U);
  EXPECT_EQ(counters_of(counters, "recording").dropped, 0U);
  release.reset();
  fanout.stop();
  EXPECT_EQ(counters_of(fanout.counters(), "blocking").delivered, 1U + 8U);
}

TEST(SinkFanout, ASinkThatThrowsIsCountedAndTheOthersGoOn) {
  SinkFanout fanout;
  fanout.add(std::make_unique<ThrowingSink>());
  auto& recording = dynamic_cast<RecordingSink&>(fanout.add(std::make_unique<RecordingSink>()));
  fanout.start();
  fanout.cycle(cycle("east", 1));
  fanout.site(site("shed"));
  fanout.cycle(cycle("east", 2));
  fanout.stop();
  EXPECT_EQ(recording.seen(),
            (std::vector<std::string>{"start", "east#1", "site:shed", "east#2", "stop"}));
  const auto counters = fanout.counters();
  const auto& throwing = counters_of(counters, "throwing");
  EXPECT_EQ(throwing.failed, 3U);
  EXPECT_EQ(throwing.delivered, 0U);
}

TEST(SinkFanout, DrainDeliversWhatIsQueuedAndLaterEventsAreRefused) {
  SinkFanout fanout;
  auto& recording = dynamic_cast<RecordingSink&>(fanout.add(std::make_unique<RecordingSink>()));
  fanout.start();
  for (std::uint64_t n = 1; n <= 20; ++n)
    fanout.cycle(cycle("east", n));
  fanout.drain();
  // Everything queued before drain() was handed over before it returned, stop() not yet.
  EXPECT_EQ(recording.seen().size(), 21U);
  fanout.cycle(cycle("east", 21));
  fanout.stop();
  auto seen = recording.seen();
  EXPECT_EQ(seen.size(), 22U);
  EXPECT_EQ(seen[20], "east#20");
  EXPECT_EQ(seen.back(), "stop");
}

}  // namespace
}  // namespace tracermon::sinks
