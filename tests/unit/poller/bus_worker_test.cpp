// The bus worker against the in-process simulator (a `sim:` port): the same device model,
// faults and wire timing that the pty and TCP links serve.

#include "poller/bus_worker.hpp"

#include <map>

#include <gtest/gtest.h>

#include "worker_rig.hpp"

namespace tracermon::poller {
namespace {

using test::Collector;
using test::count_for;
using test::setup_for;

const protocol::RegisterMap& map() {
  return protocol::RegisterMap::builtin();
}

TEST(BusWorker, PollsEveryDeviceAndPublishesDecodedValuesWithTheirReadTimes) {
  Collector got;
  ClockWatch clock;
  BusWorker worker(setup_for("ids=1,2&profile=tracer-an+tracer-bn&seed=3&turnaround-ms=2", {1, 2}),
                   map(), clock, [&](model::SnapshotPtr s) { got.add(std::move(s)); });
  worker.start();
  ASSERT_TRUE(got.wait(
      [](const auto& all) { return count_for(all, "dev1") >= 2 && count_for(all, "dev2") >= 2; }));
  worker.stop();
  auto first = got.all().front();
  EXPECT_EQ(first->health, model::Health::Online);
  EXPECT_TRUE(first->missing.empty() || std::all_of(first->missing.begin(), first->missing.end(),
                                                    [](const model::MissingField& m) {
                                                      return m.why == model::Missing::Unsupported;
                                                    }));
  // Rated data as the profiles define it: a Tracer AN is a 100 V unit, a BN a 150 V unit.
  std::map<std::string, double> rated;
  for (const auto& s : got.all()) {
    if (auto v = s->value(map(), "pv_rated_voltage")) rated[s->device] = *v;
    for (const auto& f : s->fields) {
      EXPECT_NE(f.read_at, core::SteadyTime{});
      EXPECT_LE(f.read_at, s->steady);
    }
  }
  EXPECT_DOUBLE_EQ(rated["dev1"], 100.0);
  EXPECT_DOUBLE_EQ(rated["dev2"], 150.0);
  auto status = worker.status();
  ASSERT_EQ(status.devices.size(), 2U);
  EXPECT_TRUE(status.link_up);
  EXPECT_GT(status.devices[0].counters.requests, 0U);
  EXPECT_EQ(status.devices[0].counters.timeouts, 0U);
  EXPECT_EQ(status.devices[0].model, "Tracer3210AN") << "from Read Device Identification";
  for (const auto& d : status.devices) {
    // The longest reply is at least the mean and the last one.
    const auto& c = d.counters;
    EXPECT_GT(c.latency_ms_mean, 0.0) << d.name;
    EXPECT_GE(c.latency_ms_max, c.latency_ms_mean) << d.name;
    EXPECT_GE(c.latency_ms_max, c.latency_ms_last) << d.name;
  }
}

TEST(BusWorker, ADeadControllerCostsAtMostOneTimeoutPerCycleAndDoesNotStallTheOthers) {
  Collector got;
  ClockWatch clock;
  // id 3 is configured but absent.
  BusWorker worker(setup_for("ids=1,2&seed=4&turnaround-ms=2", {1, 2, 3}), map(), clock,
                   [&](model::SnapshotPtr s) { got.add(std::move(s)); });
  worker.start();
  ASSERT_TRUE(got.wait([](const auto& all) { return count_for(all, "dev1") >= 25; }));
  worker.stop();
  auto status = worker.status();
  const auto& dead = status.devices[2];
  EXPECT_EQ(dead.health, model::Health::Offline);
  // The first cycle may spend (1 + retries) x 2 blocks; every later try is one probe.
  EXPECT_LE(dead.counters.timeouts, dead.counters.cycles + 3);
  EXPECT_LT(dead.counters.cycles, status.devices[0].counters.cycles)
      << "a silent device is skipped for growing numbers of cycles";
  EXPECT_EQ(status.devices[0].counters.timeouts, 0U);
  for (const auto& s : got.all()) {
    if (s->device == "dev3") {
      EXPECT_TRUE(s->fields.empty()) << "nothing is made up";
    }
  }
}

TEST(BusWorker, FaultsOnTheWireNeverChangeAValue) {
  Collector got;
  ClockWatch clock;
  // Settings never change on their own: read every 300 ms through heavy faults, every value
  // that is published must be the same as the first.
  BusWorker worker(setup_for("ids=1&seed=5&turnaround-ms=2&fault=bad-crc=0.15&fault=garbage=0.15&"
                             "fault=wrong-id=0.1&fault=truncated=0.1&fault=echo=0.1",
                             {1}),
                   map(), clock, [&](model::SnapshotPtr s) { got.add(std::move(s)); });
  worker.start();
  ASSERT_TRUE(got.wait([](const auto& all) { return all.size() >= 12; }));
  worker.stop();
  std::map<protocol::FieldId, std::int64_t> first;
  std::size_t compared = 0;
  for (const auto& s : got.all()) {
    for (const auto& f : s->fields) {
      if (map().field(f.id).poll != protocol::PollClass::Settings) continue;
      auto [it, fresh] = first.try_emplace(f.id, f.raw);
      if (!fresh) {
        EXPECT_EQ(f.raw, it->second) << map().field(f.id).name;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 50U);
  auto c = worker.status().devices[0].counters;
  EXPECT_GT(c.crc_errors + c.bad_replies + c.wrong_unit + c.echoes, 0U)
      << "the faults happened and were counted";
  EXPECT_GT(c.retries, 0U);
}

TEST(BusWorker, OneShotReadsGoThroughTheQueueBetweenPolls) {
  Collector got;
  ClockWatch clock;
  BusWorker worker(setup_for("ids=1&seed=6&turnaround-ms=2", {1}), map(), clock,
                   [&](model::SnapshotPtr s) { got.add(std::move(s)); });
  worker.start();
  auto id = map().find("battery_rated_voltage")->id;
  auto result = worker.read(1, {id}).get();
  worker.stop();
  ASSERT_TRUE(result) << result.error().describe();
  ASSERT_EQ(result.value().values.size(), 1U);
  EXPECT_EQ(result.value().values[0].raw, 2400) << "the AN profile is a 24 V unit";
}

}  // namespace
}  // namespace tracermon::poller
