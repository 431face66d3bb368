// Request planning: fewest block reads, within the rules a real Tracer needs (NOTES.md 6, 15).

#include "protocol/read_plan.hpp"

#include <set>

#include <gtest/gtest.h>

using namespace tracermon::protocol;

namespace {

const RegisterMap& map() {
  return RegisterMap::builtin();
}

FieldId id(const char* name) {
  return map().find(name)->id;
}

std::vector<ReadBlock> plan(std::vector<FieldId> wanted, std::uint16_t max = 20,
                            const DeviceSupport& support = DeviceSupport{}) {
  PlanOptions options;
  options.max_registers = max;
  return plan_reads(map(), wanted, options, support);
}

// The invariants every plan must keep, whatever it was asked.
void check_plan_rules(const std::vector<ReadBlock>& blocks, std::uint16_t max) {
  for (const auto& b : blocks) {
    EXPECT_LE(b.count, max);
    for (auto a = b.start; a <= b.last(); ++a) {
      const Field* f = map().covering(b.table, a);
      if (f == nullptr) {
        EXPECT_TRUE(map().in_answered_gap(b.table, a)) << "undocumented 0x" << std::hex << a;
        continue;
      }
      EXPECT_TRUE(f->readable()) << f->name;
      EXPECT_EQ(f->optional, b.optional) << f->name << " mixes optional and mandatory";
      EXPECT_GE(f->address, b.start) << f->name << " torn";
      EXPECT_LE(f->last_address(), b.last()) << f->name << " torn";
    }
  }
}

}  // namespace

TEST(ReadPlan, FullReadCoversEveryReadableFieldOnce) {
  auto all = all_readable_fields(map());
  EXPECT_EQ(all.size(), 109u);  // 111 rows minus the two write-only coils
  for (std::uint16_t max : {std::uint16_t{2}, std::uint16_t{3}, std::uint16_t{7}, std::uint16_t{20},
                            std::uint16_t{125}}) {
    auto blocks = plan(all, max);
    check_plan_rules(blocks, max);
    std::multiset<FieldId> seen;
    for (const auto& b : blocks)
      seen.insert(b.fields.begin(), b.fields.end());
    EXPECT_EQ(seen, std::multiset<FieldId>(all.begin(), all.end())) << "max " << max;
  }
  EXPECT_LT(plan(all).size(), all.size() / 3);
}

TEST(ReadPlan, UsesTheFunctionCodeOfEachRange) {
  auto blocks =
      plan({id("pv_voltage"), id("battery_type"), id("manual_load_control"), id("day_night")});
  ASSERT_EQ(blocks.size(), 4u);
  std::set<Table> tables;
  for (const auto& b : blocks)
    tables.insert(b.table);
  EXPECT_EQ(tables, (std::set<Table>{Table::Input, Table::Holding, Table::Coil, Table::Discrete}));
}

// 0x3100-0x310F crosses the undocumented 0x3108-0x310B, which real units answer.
TEST(ReadPlan, SpansTheAnsweredGapOnly) {
  auto blocks = plan({id("pv_voltage"), id("load_power")});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].start, 0x3100);
  EXPECT_EQ(blocks[0].count, 16);
  EXPECT_EQ(blocks[0].fields.size(), 2u);

  // 0x311C is undocumented and not known to answer: two requests.
  auto split = plan({id("remote_battery_temperature"), id("battery_real_rated_voltage")});
  ASSERT_EQ(split.size(), 2u);
  // Discrete inputs 0x2000 and 0x200C: never bridged.
  EXPECT_EQ(plan({id("over_temperature_inside_device"), id("day_night")}).size(), 2u);
}

// Bridging over documented fields nobody asked for is cheaper than a second request.
TEST(ReadPlan, BridgesOverDocumentedFields) {
  auto blocks = plan({id("pv_voltage"), id("battery_voltage")});
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].start, 0x3100);
  EXPECT_EQ(blocks[0].count, 5);
}

TEST(ReadPlan, OptionalFieldsGetTheirOwnBlocks) {
  // 0x3112 sits right after 0x3111 but some models lack it.
  auto blocks = plan({id("device_temperature"), id("power_components_temperature")});
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_FALSE(blocks[0].optional);
  EXPECT_TRUE(blocks[1].optional);
  EXPECT_EQ(blocks[1].start, 0x3112);
  // Mandatory fields on both sides of an optional one are not joined across it.
  auto around = plan({id("load_rated_current"), id("charging_mode")});
  ASSERT_EQ(around.size(), 2u);  // 0x3008 and 0x300E: 0x300D is optional, 0x3009-0x300C unknown
}

TEST(ReadPlan, NeverTearsAThirtyTwoBitPair) {
  // pv_current (0x3101) + pv_power (0x3102-0x3103) is 3 registers: with max 2 it is two reads.
  auto blocks = plan({id("pv_current"), id("pv_power")}, 2);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1].start, 0x3102);
  EXPECT_EQ(blocks[1].count, 2);
  EXPECT_THROW(plan({id("pv_power")}, 1), std::invalid_argument);
}

TEST(ReadPlan, RespectsMaxRegisters) {
  std::vector<FieldId> stats;
  for (const auto& f : map().fields()) {
    if (f.group == "statistics" && !f.optional) stats.push_back(f.id);
  }
  for (auto b : plan(stats, 20))
    EXPECT_LE(b.count, 20);
  auto small = plan(stats, 4);
  check_plan_rules(small, 4);
  EXPECT_GT(small.size(), plan(stats, 20).size());
}

TEST(ReadPlan, LeavesOutWriteOnlyAndUnsupported) {
  EXPECT_TRUE(plan({id("restore_system_defaults"), id("clear_generating_statistics")}).empty());
  DeviceSupport support;
  support.mark_unsupported(id("battery_charging_current"));
  auto blocks =
      plan({id("pv_voltage"), id("battery_charging_current"), id("load_power")}, 20, support);
  for (const auto& b : blocks) {
    for (auto a = b.start; a <= b.last(); ++a)
      EXPECT_NE(a, 0x3105) << "reads the register it lacks";
  }
  EXPECT_EQ(blocks.size(), 2u);  // 0x3100 x5 and 0x3106 x10
}

TEST(ReadPlan, LearnedBreaksSplitBlocks) {
  DeviceSupport support;
  auto before = support.generation();
  support.add_break(Table::Input, 0x310C);
  EXPECT_NE(support.generation(), before);
  auto blocks = plan({id("pv_voltage"), id("load_power")}, 20, support);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].last(), 0x3100);
  EXPECT_EQ(blocks[1].start, 0x310E);
}

TEST(ReadPlan, SplitBlockHalvesAtFieldBoundaries) {
  auto block = plan({id("pv_voltage"), id("pv_current"), id("pv_power"), id("battery_voltage")})[0];
  auto halves = split_block(map(), block);
  ASSERT_TRUE(halves.has_value());
  EXPECT_EQ(halves->first.start, 0x3100);
  EXPECT_EQ(halves->first.count, 2);
  EXPECT_EQ(halves->second.start, 0x3102);
  EXPECT_EQ(halves->second.count, 3);
  auto single = plan({id("pv_power")})[0];
  EXPECT_FALSE(split_block(map(), single).has_value());
}
