// MQTT commands: which topics and payloads become which control requests, what is refused
// before the control service (retained, empty, oversized, unknown device), and the runner's
// queue (one at a time off the network thread, bounded, answered on the result topic) against
// a real control service over simulated controllers.

#include "sinks/mqtt_commands.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim_devices.hpp"

namespace tracermon::sinks {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::vector<std::string> k_devices = {"east", "west 2"};

std::optional<MqttCommand> parse(const std::string& topic, const std::string& payload,
                                 bool retained = false) {
  format::DiscoveryOptions topics;
  return parse_command(topics, k_devices, topic, payload, retained);
}

TEST(MqttCommandParse, OnlyCommandTopicsAreCommands) {
  for (const auto* topic :
       {"tracermon/east/state", "tracermon/east/set", "tracermon/east/set/", "tracermon/set/load",
        "other/east/set/load", "tracermon/east/set/load/extra", "homeassistant/status",
        "tracermon//set/load", "tracermonx/east/set/load"}) {
    EXPECT_FALSE(parse(topic, "on")) << topic;
  }
}

TEST(MqttCommandParse, LoadTakesHomeAssistantsOnOff) {
  for (const auto& [payload, state] : std::vector<std::pair<std::string, std::string>>{
           {"ON", "on"}, {"OFF", "off"}, {"on", "on"}, {" auto\n", "auto"}, {"Auto", "auto"}}) {
    auto command = parse("tracermon/east/set/load", payload);
    ASSERT_TRUE(command) << payload;
    EXPECT_EQ(command->status, 0) << command->error;
    EXPECT_EQ(command->request.action, "load");
    EXPECT_EQ(command->request.device, "east");
    EXPECT_EQ(command->request.state, state);
    EXPECT_FALSE(command->request.dry_run);
    EXPECT_FALSE(command->request.force);
    EXPECT_EQ(command->result_topic, "tracermon/east/result");
    EXPECT_EQ(command->topic, "tracermon/east/set/load");
  }
  // A state the service does not know is the service's to refuse (and audit).
  auto odd = parse("tracermon/east/set/load", "dim");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 0);
  EXPECT_EQ(odd->request.state, "dim");
}

TEST(MqttCommandParse, ClockSyncTakesAnyPayload) {
  for (const auto* payload : {"PRESS", "", "1"}) {
    auto command = parse("tracermon/east/set/clock_sync", payload);
    ASSERT_TRUE(command);
    EXPECT_EQ(command->status, 0) << command->error;
    EXPECT_EQ(command->request.action, "clock");
    EXPECT_TRUE(command->request.sync);
    EXPECT_FALSE(command->request.trust_host_clock);
  }
}

TEST(MqttCommandParse, AnyOtherNameIsASetting) {
  auto command = parse("tracermon/west_2/set/boost_charging_voltage", "14.4");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->status, 0);
  EXPECT_EQ(command->request.action, "set");
  // The topic's form of the name finds the configured device.
  EXPECT_EQ(command->request.device, "west 2");
  ASSERT_EQ(command->request.settings.size(), 1U);
  EXPECT_EQ(command->request.settings[0].name, "boost_charging_voltage");
  EXPECT_EQ(command->request.settings[0].value, "14.4");
  EXPECT_EQ(command->result_topic, "tracermon/west_2/result");
  // Unknown settings go to the service, which names what is wrong.
  auto unknown = parse("tracermon/east/set/flux_capacitor", "1.21");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 0);
  EXPECT_EQ(unknown->request.settings.at(0).name, "flux_capacitor");
}

TEST(MqttCommandParse, RetainedCommandsAreNeverRun) {
  for (const auto* topic : {"tracermon/east/set/load", "tracermon/east/set/clock_sync",
                            "tracermon/east/set/battery_capacity", "tracermon/nobody/set/load"}) {
    auto command = parse(topic, "off", true);
    ASSERT_TRUE(command) << topic;
    EXPECT_EQ(command->status, 400) << topic;
    EXPECT_NE(command->error.find("retained"), std::string::npos) << command->error;
  }
}

TEST(MqttCommandParse, BadInputIsRefusedWithAReason) {
  auto unknown = parse("tracermon/north/set/load", "on");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->error.find("north"), std::string::npos);
  EXPECT_NE(unknown->error.find("east"), std::string::npos);  // lists the devices
  EXPECT_EQ(unknown->result_topic, "tracermon/north/result");

  auto empty = parse("tracermon/east/set/battery_capacity", "  ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  EXPECT_NE(empty->error.find("empty"), std::string::npos);
  EXPECT_EQ(parse("tracermon/east/set/load", "")->status, 400);

  std::string longest(k_max_command_payload, ' ');
  longest.replace(0, 3, "200");
  EXPECT_EQ(parse("tracermon/east/set/battery_capacity", longest)->status, 0);
  auto oversized = parse("tracermon/east/set/battery_capacity", longest + " ");
  ASSERT_TRUE(oversized);
  EXPECT_EQ(oversized->status, 400);
  EXPECT_NE(oversized->error.find("257 bytes"), std::string::npos) << oversized->error;
  // Binary junk is a payload like any other: the service refuses the value.
  auto junk = parse("tracermon/east/set/battery_capacity", std::string("\0\xff\x01", 3));
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->status, 0);
}

// --- the runner ---

// The simulated controllers with a bus that can be held, to fill the queue.
class SimAccess : public test::SimDevices {
 public:
  core::Status run(const control::DeviceRef& device, const control::BusJob& job) override {
    std::unique_lock lock(m_mutex);
    ++m_entered;
    m_cv.notify_all();
    m_cv.wait(lock, [&] { return !m_held; });
    return SimDevices::run(device, job);
  }
  void hold(bool held) {
    std::lock_guard lock(m_mutex);
    m_held = held;
    m_cv.notify_all();
  }
  bool wait_entered(int n) {
    std::unique_lock lock(m_mutex);
    return m_cv.wait_for(lock, 10s, [&] { return m_entered >= n; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_held = false;
  int m_entered = 0;
};

struct Published {
  std::string topic;
  json payload;
};

class Rig {
 public:
  explicit Rig(std::size_t capacity = k_command_queue)
      : service(protocol::SettingsCatalog::builtin(), access, nullptr, control::ControlOptions{}),
        runner(
            service,
            [this](const std::string& topic, const std::string& payload) {
              std::lock_guard lock(m_mutex);
              m_published.push_back({topic, json::parse(payload)});
              m_cv.notify_all();
            },
            capacity) {
    runner.start();
  }
  void send(const std::string& topic, const std::string& payload, bool retained = false) {
    format::DiscoveryOptions topics;
    auto command = parse_command(topics, {"c1", "c2", "c3"}, topic, payload, retained);
    ASSERT_TRUE(command) << topic;
    runner.submit(std::move(*command));
  }
  std::vector<Published> wait(std::size_t n) {
    std::unique_lock lock(m_mutex);
    EXPECT_TRUE(m_cv.wait_for(lock, 20s, [&] { return m_published.size() >= n; }))
        << "only " << m_published.size() << " of " << n << " results";
    return m_published;
  }

  SimAccess access;
  control::ControlService service;
  MqttCommandRunner runner;

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<Published> m_published;
};

TEST(MqttCommandRunner, LoadOffIsWrittenAndAnswered) {
  Rig rig;
  rig.send("tracermon/c2/set/load", "OFF");
  auto results = rig.wait(1);
  ASSERT_EQ(results.size(), 1U);
  EXPECT_EQ(results[0].topic, "tracermon/c2/result");
  const auto& r = results[0].payload;
  EXPECT_EQ(r.at("status"), 200) << r.dump();
  EXPECT_EQ(r.at("ok"), true);
  EXPECT_EQ(r.at("action"), "load");
  EXPECT_EQ(r.at("device"), "c2");
  EXPECT_EQ(r.at("outcome"), "written");
  EXPECT_EQ(r.at("topic"), "tracermon/c2/set/load");
  // The audit names MQTT as the source.
  auto audit = rig.service.audit(10);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().source, "mqtt");
}

TEST(MqttCommandRunner, BadValuesAndUnknownSettingsAreAnsweredNotWritten) {
  Rig rig;
  rig.send("tracermon/c1/set/battery_capacity", "lots");
  rig.send("tracermon/c1/set/flux_capacitor", "1.21");
  rig.send("tracermon/c1/set/boost_charging_voltage", "99");
  rig.send("tracermon/c1/set/load", "dim");
  rig.send("tracermon/c1/set/load", "on", true);
  rig.send("tracermon/c9/set/load", "on");
  auto results = rig.wait(6);
  ASSERT_EQ(results.size(), 6U);
  int retained = 0;
  int unknown_device = 0;
  for (const auto& p : results) {
    const auto& r = p.payload;
    SCOPED_TRACE(r.dump());
    EXPECT_EQ(r.at("ok"), false);
    EXPECT_FALSE(r.at("error").get<std::string>().empty());
    EXPECT_NE(r.at("status"), 200);
    if (r.at("error").get<std::string>().find("retained") != std::string::npos) ++retained;
    if (r.at("status") == 404) {
      ++unknown_device;
      EXPECT_EQ(p.topic, "tracermon/c9/result");
    } else {
      EXPECT_EQ(p.topic, "tracermon/c1/result");
    }
    if (r.at("status") == 400 && r.at("topic") == "tracermon/c1/set/flux_capacitor") {
      EXPECT_NE(r.at("error").get<std::string>().find("flux_capacitor"), std::string::npos);
    }
  }
  EXPECT_EQ(retained, 1);
  EXPECT_EQ(unknown_device, 1);
}

TEST(MqttCommandRunner, AFullQueueIsAnswered503AndNothingBlocks) {
  Rig rig(2);
  rig.access.hold(true);
  rig.send("tracermon/c1/set/load", "on");  // taken by the runner, held on the bus
  ASSERT_TRUE(rig.access.wait_entered(1));
  rig.send("tracermon/c1/set/load", "off");
  rig.send("tracermon/c1/set/load", "auto");
  auto start = std::chrono::steady_clock::now();
  rig.send("tracermon/c1/set/load", "on");  // the queue holds two: refused at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  auto early = rig.wait(1);
  ASSERT_EQ(early.size(), 1U);
  EXPECT_EQ(early[0].payload.at("status"), 503);
  EXPECT_NE(early[0].payload.at("error").get<std::string>().find("busy"), std::string::npos);
  rig.access.hold(false);
  auto all = rig.wait(4);
  ASSERT_EQ(all.size(), 4U);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_EQ(all[i].payload.at("status"), 200) << all[i].payload.dump();
}

TEST(MqttCommandRunner, StopsWithCommandsQueued) {
  Rig rig(4);
  rig.access.hold(true);
  rig.send("tracermon/c1/set/load", "on");
  ASSERT_TRUE(rig.access.wait_entered(1));
  rig.send("tracermon/c1/set/load", "off");
  EXPECT_EQ(rig.runner.queued(), 1U);
  // Released once stop() dropped the queued command (the held one cannot take it).
  std::thread release([&] {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (rig.runner.queued() != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    rig.access.hold(false);
  });
  rig.runner.stop();  // the running one finishes; the queued one is dropped
  release.join();
  EXPECT_EQ(rig.runner.answered(), 1U);
  // After stop, a command is refused at once.
  rig.send("tracermon/c1/set/load", "on");
  auto results = rig.wait(2);
  EXPECT_EQ(results.back().payload.at("status"), 503);
}

}  // namespace
}  // namespace tracermon::sinks
