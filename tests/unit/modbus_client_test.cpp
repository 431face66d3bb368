// The RTU master against a slave that answers late, drops requests and garbles replies: a
// reply that arrives after its request gave up must never be taken for the next request's.

#include "transport/modbus_client.hpp"

#include <gtest/gtest.h>

#include "device/field_reader.hpp"
#include "fake_slave.hpp"
#include "protocol/decode.hpp"

using namespace tracermon;
using protocol::Table;

namespace {

constexpr std::uint16_t k_value_a = 0xAAAA;  // at 0x3104
constexpr std::uint16_t k_value_b = 0xBBBB;  // at 0x3105

struct Rig {
  test::FakeSlave* slave;
  transport::ModbusClient client;

  explicit Rig(int retries,
               std::unique_ptr<test::FakeSlave> s = std::make_unique<test::FakeSlave>())
      : slave(s.get()), client(std::move(s), transport::Framing::Rtu, options(retries)) {
    slave->values[{Table::Input, 0x3104}] = k_value_a;
    slave->values[{Table::Input, 0x3105}] = k_value_b;
  }
  static transport::ClientOptions options(int retries) {
    transport::ClientOptions o;
    o.gap = std::chrono::milliseconds(0);
    o.settle_quiet = std::chrono::milliseconds(0);  // the fake slave has nothing in flight
    // Its late replies come only when the next request is written, so waiting for them (which
    // a real late reply makes worth it) only spins: keep that short.
    o.late_window = std::chrono::milliseconds(100);
    o.retries = retries;
    return o;
  }
  core::Result<std::vector<std::uint16_t>> read(std::uint16_t address) {
    return client.read(1, Table::Input, address, 1);
  }
  [[nodiscard]] int syncs() const {
    return static_cast<int>(std::count_if(
        slave->frames.begin(), slave->frames.end(),
        [](const protocol::Bytes& f) { return f[1] == protocol::fc::k_encapsulated_interface; }));
  }
};

}  // namespace

TEST(ModbusClient, ALateReplyIsNeverTakenForTheNextRequestOfTheSameShape) {
  Rig rig(0);
  rig.slave->late = {1};
  EXPECT_FALSE(rig.read(0x3104));  // gave up; its reply comes with the next one
  auto b = rig.read(0x3105);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b.value(), std::vector<std::uint16_t>{k_value_b});
  EXPECT_EQ(rig.client.counters().late_replies, 1u);
}

TEST(ModbusClient, ARetryTakesTheLateReplyToItsFirstTryAndSettlesTheSecond) {
  Rig rig(1);
  rig.slave->late = {1};
  auto a = rig.read(0x3104);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a.value(), std::vector<std::uint16_t>{k_value_a});
  // The retry's own reply came behind it; it answers nothing we wait for any more.
  auto b = rig.read(0x3105);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b.value(), std::vector<std::uint16_t>{k_value_b});
  EXPECT_EQ(rig.client.counters().late_replies, 1u);
  EXPECT_EQ(rig.syncs(), 0);
}

TEST(ModbusClient, ADroppedRequestCostsOneSyncNotAWrongValueOrATimeout) {
  // The first try is lost, the retry answered: was that reply the retry's, or a late one to
  // the first try with the retry's still to come? A sync (0x2B) settles it before 0x3105.
  Rig rig(1);
  rig.slave->ignored = {1};
  ASSERT_TRUE(rig.read(0x3104));
  auto timeouts = rig.client.counters().timeouts;
  auto b = rig.read(0x3105);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b.value(), std::vector<std::uint16_t>{k_value_b});
  EXPECT_EQ(rig.syncs(), 1);
  EXPECT_EQ(rig.client.counters().timeouts, timeouts);
  // A request of another function needs none: no reply to the earlier one can pass for it.
  rig.slave->values[{Table::Holding, 0x9000}] = 1;
  rig.slave->ignored = {static_cast<int>(rig.slave->frames.size()) + 1};
  ASSERT_TRUE(rig.read(0x3104));
  ASSERT_TRUE(rig.client.read(1, Table::Holding, 0x9000, 1));
  EXPECT_EQ(rig.syncs(), 1);
}

TEST(ModbusClient, ASilentSlaveIsNotSentSyncs) {
  Rig rig(1);
  rig.slave->silent = true;
  EXPECT_FALSE(rig.read(0x3104));
  EXPECT_FALSE(rig.read(0x3105));
  EXPECT_EQ(rig.syncs(), 0);
  EXPECT_EQ(rig.client.counters().timeouts, 4u);
}

TEST(ModbusClient, EchoesAndNoiseAreCountedEvenWhenTheReadSucceeds) {
  Rig rig(0);
  rig.slave->echo = true;
  rig.slave->prefix = {0x55, 0xAA, 0x13};
  ASSERT_TRUE(rig.read(0x3104));
  ASSERT_TRUE(rig.read(0x3105));
  EXPECT_EQ(rig.client.counters().echoes, 2u);
  EXPECT_EQ(rig.client.counters().noise_bytes, 6u);
}

TEST(ModbusClient, EveryValueIsTheSlavesWhileEveryThirdReplyIsLate) {
  // A whole device read, twice, with late replies all through it: each value is the one the
  // slave holds at that register, or absent.
  const auto& map = protocol::RegisterMap::builtin();
  auto slave = std::make_unique<test::FakeSlave>();
  for (const auto& f : map.fields()) {
    if (!f.readable()) continue;
    for (std::uint16_t i = 0; i < f.width(); ++i) {
      auto a = static_cast<std::uint16_t>(f.address + i);
      slave->values[{f.table, a}] = f.is_bit() ? (a & 1) : static_cast<std::uint16_t>(a * 7 + 1);
    }
  }
  for (std::uint16_t a = 0x3108; a <= 0x310B; ++a)
    slave->values[{Table::Input, a}] = 0;
  for (int i = 1; i < 400; i += 3)
    slave->late.insert(i);
  auto* fake = slave.get();
  Rig rig(2, std::move(slave));
  device::FieldReader reader(map, rig.client, {});
  protocol::DeviceSupport support;
  auto all = protocol::all_readable_fields(map);
  std::size_t checked = 0;
  for (int round = 0; round < 2; ++round) {
    auto reading = reader.read(1, all, support);
    EXPECT_TRUE(reading.unsupported.empty());
    for (const auto& v : reading.values) {
      const auto& f = map.field(v.id);
      for (std::uint16_t i = 0; i < f.width(); ++i) {
        EXPECT_EQ(v.words[i], (fake->values[{f.table, static_cast<std::uint16_t>(f.address + i)}]))
            << f.name;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, all.size());
  EXPECT_GT(rig.client.counters().late_replies, 0u);
}

TEST(ModbusClient, ABrokenReplyEndsTheAttemptWhenTheLineGoesQuiet) {
  // A bad CRC, then nothing: the slave has finished; waiting out a 10 s timeout helps no one.
  Rig rig(0);
  rig.slave->corrupt = {1};
  rig.client.options().timeout = std::chrono::seconds(10);
  auto sent = transport::Clock::now();
  auto a = rig.read(0x3104);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, core::ErrorKind::Crc);
  ASSERT_FALSE(rig.slave->read_deadlines.empty());
  EXPECT_LT(rig.slave->read_deadlines.back(), sent + std::chrono::seconds(5));
  EXPECT_EQ(rig.client.counters().crc_errors, 1u);
}

TEST(ModbusClient, OnARealLineAReplyFasterThanTheWireIsNotTheReply) {
  // This slave's replies are there the moment the request is written: on a line where a
  // character takes 100 ms, that is a frame that was already on its way, not our reply.
  Rig rig(0);
  rig.slave->wire = true;
  rig.client.options().char_time = std::chrono::milliseconds(100);
  auto a = rig.read(0x3104);
  ASSERT_FALSE(a);
  EXPECT_EQ(rig.client.counters().late_replies, 1u);
  // A pty or a socket delivers at once: there the same reply is taken.
  rig.slave->wire = false;
  EXPECT_TRUE(rig.read(0x3104));
}
