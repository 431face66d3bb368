#include "model/live_state.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapshot_builder.hpp"

namespace tracermon::model {
namespace {

using namespace std::chrono_literals;
using tracermon::test::id_of;
using tracermon::test::sample;
using tracermon::test::snapshot;

const core::SteadyTime k_t1 = core::SteadyTime{} + 1000s;
const core::SteadyTime k_t2 = k_t1 + 5s;

std::vector<std::string> names(const std::vector<model::SnapshotPtr>& devices) {
  std::vector<std::string> out;
  for (const auto& d : devices)
    out.push_back(d->device);
  return out;
}

TEST(LiveState, FirstCycleIsTheView) {
  LiveState live;
  auto view = live.merge(snapshot("roof", 1, {sample("battery_voltage", 1380, k_t1)}));
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->value(tracermon::test::map(), "battery_voltage"), 13.8);
  EXPECT_EQ(live.device("roof"), view);
  EXPECT_EQ(live.device("garage"), nullptr);
}

TEST(LiveState, FieldsNotReadThisCycleKeepTheirValueAndReadTime) {
  LiveState live;
  // A fast+slow cycle, then a fast-only cycle: the slow energy total must stay, with its time.
  live.merge(snapshot(
      "roof", 1,
      {sample("battery_voltage", 1380, k_t1), sample("generated_energy_total", 123456, k_t1)}));
  auto view = live.merge(snapshot("roof", 1, {sample("battery_voltage", 1290, k_t2)}));

  const auto* energy = view->find(id_of("generated_energy_total"));
  ASSERT_NE(energy, nullptr);
  EXPECT_EQ(energy->raw, 123456);
  EXPECT_EQ(energy->read_at, k_t1);
  const auto* voltage = view->find(id_of("battery_voltage"));
  ASSERT_NE(voltage, nullptr);
  EXPECT_EQ(voltage->raw, 1290);
  EXPECT_EQ(voltage->read_at, k_t2);
  EXPECT_EQ(view->fields.size(), 2u);
}

TEST(LiveState, FieldsStayInMapOrderSoFindWorks) {
  LiveState live;
  live.merge(
      snapshot("roof", 1, {sample("pv_voltage", 1852, k_t1), sample("load_power", 100, k_t1)}));
  auto view = live.merge(snapshot("roof", 1, {sample("battery_voltage", 1300, k_t2)}));
  ASSERT_EQ(view->fields.size(), 3u);
  for (std::size_t i = 1; i < view->fields.size(); ++i) {
    EXPECT_LT(view->fields[i - 1].id, view->fields[i].id);
  }
  EXPECT_NE(view->find(id_of("pv_voltage")), nullptr);
  EXPECT_NE(view->find(id_of("load_power")), nullptr);
  EXPECT_NE(view->find(id_of("battery_voltage")), nullptr);
}

TEST(LiveState, AFailedReadNeverErasesNorRefreshesAValue) {
  LiveState live;
  live.merge(snapshot("roof", 1,
                      {sample("battery_voltage", 1380, k_t1), sample("pv_voltage", 1852, k_t1)}));
  auto failed = snapshot("roof", 1, {sample("pv_voltage", 1900, k_t2)});
  failed.health = model::Health::Degraded;
  failed.missing.push_back({id_of("battery_voltage"), model::Missing::ReadFailed, "timeout"});
  auto view = live.merge(failed);

  const auto* voltage = view->find(id_of("battery_voltage"));
  ASSERT_NE(voltage, nullptr);
  EXPECT_EQ(voltage->raw, 1380);
  EXPECT_EQ(voltage->read_at, k_t1);  // still the old time: a reader can tell it is stale
  EXPECT_EQ(view->find(id_of("pv_voltage"))->raw, 1900);
  // The cycle's own facts are the newest ones.
  EXPECT_EQ(view->health, model::Health::Degraded);
  ASSERT_EQ(view->missing.size(), 1u);
  EXPECT_EQ(view->missing[0].id, id_of("battery_voltage"));
}

TEST(LiveState, AnEmptyCycleKeepsEverything) {
  LiveState live;
  live.merge(snapshot("roof", 1, {sample("battery_voltage", 1380, k_t1)}));
  auto silent = snapshot("roof", 1, {});
  silent.health = model::Health::Offline;
  auto view = live.merge(silent);
  EXPECT_EQ(view->health, model::Health::Offline);
  ASSERT_NE(view->find(id_of("battery_voltage")), nullptr);
  EXPECT_EQ(view->find(id_of("battery_voltage"))->raw, 1380);
}

TEST(LiveState, ViewsHandedOutDoNotChange) {
  LiveState live;
  auto first = live.merge(snapshot("roof", 1, {sample("battery_voltage", 1380, k_t1)}));
  live.merge(snapshot("roof", 1, {sample("battery_voltage", 1200, k_t2)}));
  EXPECT_EQ(first->find(id_of("battery_voltage"))->raw, 1380);
  EXPECT_EQ(live.device("roof")->find(id_of("battery_voltage"))->raw, 1200);
}

TEST(LiveState, DevicesAreListedInFirstSeenOrder) {
  LiveState live;
  live.merge(snapshot("zeta", 3, {}));
  live.merge(snapshot("alpha", 1, {}));
  live.merge(snapshot("mid", 2, {}));
  live.merge(snapshot("zeta", 3, {sample("battery_voltage", 1300, k_t2)}));
  EXPECT_EQ(names(live.devices()), (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(LiveState, DevicesDoNotMix) {
  LiveState live;
  live.merge(snapshot("roof", 1, {sample("battery_voltage", 1380, k_t1)}));
  live.merge(snapshot("garage", 2, {sample("pv_voltage", 1700, k_t1)}));
  EXPECT_EQ(live.device("roof")->find(id_of("pv_voltage")), nullptr);
  EXPECT_EQ(live.device("garage")->find(id_of("battery_voltage")), nullptr);
}

TEST(LiveState, SitesKeepTheLatestTotals) {
  LiveState live;
  live.set_site("house", {{"battery_voltage", 13.1}});
  live.set_site("house", {{"battery_voltage", 13.4}});
  auto sites = live.sites();
  ASSERT_EQ(sites.size(), 1u);
  EXPECT_EQ(sites["house"]["battery_voltage"], 13.4);
}

}  // namespace
}  // namespace tracermon::model
