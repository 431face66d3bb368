// Reading fields from a device: values from block reads, exception-2 splitting remembered per
// device, and a silent device that costs little.

#include "device/field_reader.hpp"

#include <gtest/gtest.h>

#include "fake_slave.hpp"
#include "protocol/decode.hpp"

using namespace tracermon;
using protocol::FieldId;
using protocol::RegisterMap;
using protocol::Table;

namespace {

const RegisterMap& map() {
  return RegisterMap::builtin();
}
FieldId id(const char* name) {
  return map().find(name)->id;
}

// A slave that has every readable register of the map, each holding a value derived from its
// address (bits alternate), plus the gap 0x3108-0x310B real units answer.
std::unique_ptr<test::FakeSlave> full_slave() {
  auto slave = std::make_unique<test::FakeSlave>();
  for (const auto& f : map().fields()) {
    if (!f.readable()) continue;
    for (std::uint16_t i = 0; i < f.width(); ++i) {
      auto a = static_cast<std::uint16_t>(f.address + i);
      slave->values[{f.table, a}] = f.is_bit() ? (a & 1) : static_cast<std::uint16_t>(a ^ 0x5A5A);
    }
  }
  for (std::uint16_t a = 0x3108; a <= 0x310B; ++a)
    slave->values[{Table::Input, a}] = 0;
  return slave;
}

struct Rig {
  test::FakeSlave* slave;
  transport::ModbusClient client;
  device::FieldReader reader;

  explicit Rig(std::unique_ptr<test::FakeSlave> s, transport::ClientOptions options = quick())
      : slave(s.get()),
        client(std::move(s), transport::Framing::Rtu, options),
        reader(map(), client, protocol::PlanOptions{}) {}

  static transport::ClientOptions quick() {
    transport::ClientOptions o;
    o.gap = std::chrono::milliseconds(0);
    o.retries = 0;
    return o;
  }
};

const device::FieldValue* value_of(const device::Reading& r, FieldId field) {
  for (const auto& v : r.values) {
    if (v.id == field) return &v;
  }
  return nullptr;
}

}  // namespace

TEST(FieldReader, ReadsEveryFieldWithThePlannedRequests) {
  Rig rig(full_slave());
  protocol::DeviceSupport support;
  auto all = protocol::all_readable_fields(map());
  auto reading = rig.reader.read(1, all, support);
  EXPECT_TRUE(reading.failures.empty());
  EXPECT_TRUE(reading.unsupported.empty());
  EXPECT_EQ(reading.values.size(), all.size());
  auto plan = protocol::plan_reads(map(), all, {}, support);
  EXPECT_EQ(reading.requests, static_cast<int>(plan.size()));
  EXPECT_EQ(rig.slave->requests, static_cast<int>(plan.size()));
  // The values are the slave's words, assembled low word first.
  const auto* power = value_of(reading, id("pv_power"));
  ASSERT_NE(power, nullptr);
  EXPECT_EQ(power->words, (std::vector<std::uint16_t>{0x3102 ^ 0x5A5A, 0x3103 ^ 0x5A5A}));
  EXPECT_EQ(power->raw, ((0x3103 ^ 0x5A5A) << 16) | (0x3102 ^ 0x5A5A));
  EXPECT_EQ(value_of(reading, id("day_night"))->raw, 0x200C & 1);
}

// A Tracer2206AN lacks 0x9066 and coil 1; an LS-B has 0x3112 but no 0x3202.
TEST(FieldReader, LearnsUnsupportedRegistersOnce) {
  auto slave = full_slave();
  slave->values.erase({Table::Holding, 0x9066});
  slave->values.erase({Table::Coil, 0x0001});
  slave->values.erase({Table::Input, 0x3202});
  Rig rig(std::move(slave));
  protocol::DeviceSupport support;
  auto all = protocol::all_readable_fields(map());
  auto first = rig.reader.read(1, all, support);
  EXPECT_TRUE(first.failures.empty());
  std::set<FieldId> unsupported(first.unsupported.begin(), first.unsupported.end());
  EXPECT_EQ(unsupported,
            (std::set<FieldId>{id("main_power_supply"), id("output_control_mode_manual"),
                               id("discharging_equipment_status")}));
  EXPECT_EQ(first.values.size(), all.size() - 3);
  // Coil 0 shared a block with coil 1: it is still read.
  EXPECT_NE(value_of(first, id("charging_device_on_off")), nullptr);

  // The next read of the same device sends no request that fails.
  rig.slave->requests = 0;
  auto second = rig.reader.read(1, all, support);
  EXPECT_EQ(second.values.size(), first.values.size());
  EXPECT_EQ(second.requests, rig.slave->requests);
  EXPECT_EQ(rig.client.counters().exceptions, 4u);  // 0x9066, coil block, coil 1, 0x3202
}

// A unit that does not answer the undocumented 0x3108-0x310B: every field is still read,
// and the next plan no longer spans the gap.
TEST(FieldReader, LearnsARefusedSpan) {
  auto slave = full_slave();
  for (std::uint16_t a = 0x3108; a <= 0x310B; ++a)
    slave->values.erase({Table::Input, a});
  Rig rig(std::move(slave));
  protocol::DeviceSupport support;
  std::vector<FieldId> wanted = {id("pv_voltage"), id("load_power")};
  auto first = rig.reader.read(1, wanted, support);
  EXPECT_EQ(first.values.size(), 2u);
  EXPECT_TRUE(first.unsupported.empty());
  auto exceptions = rig.client.counters().exceptions;
  auto second = rig.reader.read(1, wanted, support);
  EXPECT_EQ(second.values.size(), 2u);
  EXPECT_EQ(second.requests, 2);
  EXPECT_EQ(rig.client.counters().exceptions, exceptions);
}

// A dead controller costs two timeouts, and every field is reported absent with the reason.
TEST(FieldReader, SilentDeviceIsCheapAndLeavesGaps) {
  auto slave = full_slave();
  slave->silent = true;
  Rig rig(std::move(slave));
  protocol::DeviceSupport support;
  auto all = protocol::all_readable_fields(map());
  auto reading = rig.reader.read(1, all, support);
  EXPECT_TRUE(reading.values.empty());
  EXPECT_EQ(reading.failures.size(), all.size());
  EXPECT_EQ(rig.slave->requests, 2);
  EXPECT_EQ(reading.failures.front().error.kind, core::ErrorKind::Timeout);
}

// A bad adapter echoes every request, and there is noise before each reply: still read.
TEST(FieldReader, ReadsThroughEchoAndNoise) {
  auto slave = full_slave();
  slave->echo = true;
  slave->prefix = {0x00, 0xFF, 0x01};
  Rig rig(std::move(slave));
  protocol::DeviceSupport support;
  auto reading = rig.reader.read(
      1, std::vector<FieldId>{id("battery_soc"), id("generated_energy_total")}, support);
  EXPECT_TRUE(reading.failures.empty());
  EXPECT_EQ(reading.values.size(), 2u);
}

// Another id on the bus answers nothing for us: timeouts, retried as configured.
TEST(FieldReader, RetriesAsConfigured) {
  auto slave = full_slave();
  slave->unit = 2;
  auto options = Rig::quick();
  options.retries = 2;
  Rig rig(std::move(slave), options);
  protocol::DeviceSupport support;
  auto reading = rig.reader.read(1, std::vector<FieldId>{id("battery_soc")}, support);
  EXPECT_EQ(reading.failures.size(), 1u);
  EXPECT_EQ(rig.slave->requests, 3);
  EXPECT_EQ(rig.client.counters().retries, 2u);
  EXPECT_EQ(rig.client.counters().timeouts, 3u);
}

TEST(FieldReader, CallsTheHookBetweenBlocksOnly) {
  Rig rig(full_slave());
  protocol::DeviceSupport support;
  auto all = protocol::all_readable_fields(map());
  std::vector<int> sent_before_call;
  auto reading =
      rig.reader.read(1, all, support, [&] { sent_before_call.push_back(rig.slave->requests); });
  ASSERT_GT(reading.requests, 2);
  std::vector<int> expected;
  for (int i = 1; i < reading.requests; ++i)
    expected.push_back(i);
  EXPECT_EQ(sent_before_call, expected) << "after every block but the last, once";
}

TEST(FieldReader, ASilentDeviceGetsNoHookForTheBlocksItIsNotSent) {
  auto slave = full_slave();
  slave->silent = true;
  Rig rig(std::move(slave));
  protocol::DeviceSupport support;
  int calls = 0;
  auto reading =
      rig.reader.read(1, protocol::all_readable_fields(map()), support, [&] { ++calls; });
  EXPECT_EQ(reading.requests, 2);
  EXPECT_EQ(calls, 1);
}
