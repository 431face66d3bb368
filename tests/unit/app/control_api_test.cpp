// /api/v1/control/ as a function (web/control_api.hpp): off is 404 everywhere; the bearer
// token, its 401 and the 429 after repeated failures; each endpoint against a control service
// over three simulated controllers; bad bodies; the audit log's source.

#include "web/control_api.hpp"

#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "control/control_service.hpp"
#include "sim_devices.hpp"

namespace tracermon::web {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* k_token = "0123456789abcdef0123456789abcdef";

using SimAccess = test::SimDevices;

json body_of(const ApiResponse& response) {
  EXPECT_EQ(response.content_type, "application/json");
  return json::parse(response.body);
}

std::string header(const ApiResponse& response, const std::string& name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return {};
}

class ControlApiTest : public ::testing::Test {
 protected:
  ControlApiTest() {
    view.control = &service;
    view.control_token = k_token;
  }

  ApiResponse call(const std::string& method, const std::string& path, const std::string& body = {},
                   const std::string& token = k_token, const std::string& client = "192.0.2.1",
                   Params params = {}) {
    ControlHttpRequest r;
    r.method = method;
    r.path = path;
    r.params = std::move(params);
    r.body = body;
    r.authorization = token.empty() ? "" : "Bearer " + token;
    r.client = client;
    return api.handle(r);
  }
  ApiResponse post(const std::string& path, const json& body) {
    return call("POST", path, body.dump());
  }
  std::string exported(const std::string& device, const std::string& name) {
    auto response =
        call("GET", "/api/v1/control/export", {}, k_token, "192.0.2.1", {{"device", device}});
    EXPECT_EQ(response.status, 200) << response.body;
    return body_of(response)["settings"].value(name, "?");
  }

  SimAccess access;
  control::ControlService service{protocol::SettingsCatalog::builtin(), access, nullptr,
                                  control::ControlOptions{}};
  DaemonView view;
  AuthGate::Clock::time_point now{};
  ControlApi api{view, [this] { return now; }};
};

TEST_F(ControlApiTest, OffIsNotFoundOnEveryPath) {
  view.control = nullptr;
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v1/control"},
                                                        {"GET", "/api/v1/control/log"},
                                                        {"GET", "/api/v1/control/export"},
                                                        {"POST", "/api/v1/control/set"},
                                                        {"POST", "/api/v1/control/nonsense"}}) {
    auto response = call(method, path, "{}");
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_THAT(body_of(response)["error"].get<std::string>(),
                HasSubstr("[control] enabled = true"));
  }
}

TEST_F(ControlApiTest, EveryRequestNeedsTheToken) {
  for (const auto& token : {std::string(), std::string("wrong"), std::string(k_token) + "x",
                            std::string(k_token).substr(1)}) {
    auto response = call("GET", "/api/v1/control", {}, token, "192.0.2.7");
    EXPECT_EQ(response.status, 401) << token;
    EXPECT_THAT(header(response, "WWW-Authenticate"), ::testing::StartsWith("Bearer"));
    EXPECT_THAT(body_of(response)["error"].get<std::string>(), HasSubstr("Bearer"));
  }
  // Not Bearer (a password in Basic): refused too.
  ControlHttpRequest basic;
  basic.method = "GET";
  basic.path = "/api/v1/control";
  basic.authorization = std::string("Basic ") + k_token;
  basic.client = "192.0.2.8";
  EXPECT_EQ(api.handle(basic).status, 401);
  // The scheme in any case, the right token.
  basic.authorization = std::string("bearer ") + k_token;
  EXPECT_EQ(api.handle(basic).status, 200);
}

TEST_F(ControlApiTest, AnEmptyConfiguredTokenNeverMatches) {
  view.control_token.clear();
  ControlHttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/control";
  r.client = "192.0.2.12";
  for (const char* header : {"", "Bearer ", "Bearer   ", "Bearer x"}) {
    r.authorization = header;
    EXPECT_EQ(api.handle(r).status, 401) << header;
  }
}

TEST_F(ControlApiTest, RepeatedFailuresFromOneAddressAre429ForAMinute) {
  for (std::size_t i = 0; i < AuthGate::k_max_failures; ++i)
    EXPECT_EQ(call("GET", "/api/v1/control", {}, "wrong", "192.0.2.9").status, 401) << i;
  // Now refused without a look at the token, even the right one.
  auto refused = call("GET", "/api/v1/control", {}, k_token, "192.0.2.9");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(header(refused, "Retry-After"), "60");
  EXPECT_THAT(body_of(refused)["error"].get<std::string>(), HasSubstr("192.0.2.9"));
  // Another address is not affected.
  EXPECT_EQ(call("GET", "/api/v1/control", {}, k_token, "192.0.2.10").status, 200);
  now += std::chrono::seconds(45);
  EXPECT_EQ(header(call("GET", "/api/v1/control", {}, k_token, "192.0.2.9"), "Retry-After"), "15");
  now += std::chrono::seconds(15);
  EXPECT_EQ(call("GET", "/api/v1/control", {}, k_token, "192.0.2.9").status, 200);
}

TEST_F(ControlApiTest, FailuresSpreadOverMoreThanAMinuteAreNotBlocked) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(call("GET", "/api/v1/control", {}, "wrong", "192.0.2.11").status, 401) << i;
    now += std::chrono::seconds(15);
  }
}

TEST_F(ControlApiTest, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abd", "abc"));
  EXPECT_FALSE(constant_time_equals("ab", "abc"));
  EXPECT_FALSE(constant_time_equals("abcd", "abc"));
  EXPECT_FALSE(constant_time_equals("", "abc"));
  EXPECT_FALSE(constant_time_equals(std::string("ab\0", 3), "abc"));
}

TEST_F(ControlApiTest, SettingsList) {
  auto response = call("GET", "/api/v1/control");
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = body_of(response);
  EXPECT_EQ(body["enabled"], true);
  const auto& settings = body["settings"];
  ASSERT_EQ(settings.size(), protocol::SettingsCatalog::builtin().settable().size());
  bool found = false;
  for (const auto& s : settings) {
    if (s["name"] != "boost_charging_voltage") continue;
    found = true;
    EXPECT_EQ(s["unit"], "V");
    EXPECT_FALSE(s["min"].is_null());
    EXPECT_FALSE(s["max"].is_null());
    EXPECT_FALSE(s["description"].get<std::string>().empty());
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(call("GET", "/api/v1/control/").status, 200);
}

TEST_F(ControlApiTest, SetPreviewWriteExportAndLog) {
  auto preview =
      post("/api/v1/control/set",
           {{"device", "c1"}, {"settings", {{"battery_capacity", "300Ah"}}}, {"dry_run", true}});
  ASSERT_EQ(preview.status, 200) << preview.body;
  auto p = body_of(preview);
  EXPECT_EQ(p["outcome"], "dry-run");
  EXPECT_EQ(p["changes"][0]["setting"], "battery_capacity");
  EXPECT_EQ(p["changes"][0]["new"], "300");
  EXPECT_TRUE(p["changes"][0]["old"].is_string());
  EXPECT_NE(exported("c1", "battery_capacity"), "300");

  auto written =
      post("/api/v1/control/set", {{"device", "c1"}, {"settings", {{"battery_capacity", 300}}}});
  ASSERT_EQ(written.status, 200) << written.body;
  EXPECT_EQ(body_of(written)["outcome"], "written");
  EXPECT_EQ(exported("c1", "battery_capacity"), "300");

  auto log = call("GET", "/api/v1/control/log", {}, k_token, "192.0.2.1", {{"limit", "5"}});
  ASSERT_EQ(log.status, 200) << log.body;
  auto records = body_of(log)["records"];
  ASSERT_EQ(records.size(), 1U);  // the preview is not a write
  EXPECT_EQ(records[0]["source"], "http");
  EXPECT_EQ(records[0]["setting"], "battery_capacity");
  EXPECT_EQ(records[0]["new"], "300");
  EXPECT_EQ(records[0]["result"], "written");
  EXPECT_EQ(call("GET", "/api/v1/control/log", {}, k_token, "192.0.2.1", {{"limit", "0"}}).status,
            400);
}

TEST_F(ControlApiTest, ARuleViolationIs409NamingBothSettings) {
  ASSERT_EQ(post("/api/v1/control/set", {{"device", "c2"},
                                         {"settings",
                                          {{"battery_type", "user"},
                                           {"battery_rated_voltage_code", "24V"},
                                           {"boost_charging_voltage", "14.2"},
                                           {"float_charging_voltage", "13.6"}}}})
                .status,
            200);
  auto refused = post("/api/v1/control/set",
                      {{"device", "c2"}, {"settings", {{"boost_charging_voltage", "13.4"}}}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  auto body = body_of(refused);
  EXPECT_EQ(body["ok"], false);
  ASSERT_FALSE(body["violations"].empty()) << refused.body;
  auto violation = body["violations"][0].get<std::string>();
  EXPECT_THAT(violation, HasSubstr("boost_charging_voltage"));
  EXPECT_THAT(violation, HasSubstr("float_charging_voltage"));
  EXPECT_EQ(exported("c2", "boost_charging_voltage"), "14.2");  // nothing sent
}

TEST_F(ControlApiTest, LoadAndClock) {
  auto on = post("/api/v1/control/load", {{"device", "c3"}, {"state", "on"}});
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(exported("c3", "load_control_mode"), "0");
  EXPECT_EQ(exported("c3", "manual_load_control"), "on");
  EXPECT_EQ(post("/api/v1/control/load", {{"device", "c3"}, {"state", "sideways"}}).status, 400);
  auto clock = post("/api/v1/control/clock", {{"device", "c3"}});
  ASSERT_EQ(clock.status, 200) << clock.body;
  EXPECT_TRUE(body_of(clock)["clock"]["drift_s"].is_number());
  EXPECT_EQ(post("/api/v1/control/set", {{"device", "c9"}, {"settings", {{"x", 1}}}}).status, 404);
}

TEST_F(ControlApiTest, BadRequests) {
  auto not_json = call("POST", "/api/v1/control/set", "{\"device\": ");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_THAT(body_of(not_json)["error"].get<std::string>(), HasSubstr("not JSON"));
  EXPECT_EQ(call("POST", "/api/v1/control/set", "[1, 2]").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/control/set", "").status, 400);
  auto missing = post("/api/v1/control/set", {{"settings", {{"battery_capacity", 100}}}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(body_of(missing)["error"].get<std::string>(), HasSubstr("'device' is missing"));
  auto wrong_type =
      post("/api/v1/control/set",
           {{"device", "c1"}, {"settings", {{"battery_capacity", 100}}}, {"dry_run", "yes"}});
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_THAT(body_of(wrong_type)["error"].get<std::string>(), HasSubstr("dry_run"));
  EXPECT_EQ(post("/api/v1/control/set", {{"action", "load"}, {"device", "c1"}}).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/control/export").status, 400);  // no device
  auto wrong_method = call("GET", "/api/v1/control/set");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(header(wrong_method, "Allow"), "POST");
  EXPECT_EQ(call("POST", "/api/v1/control/nonsense", "{}").status, 404);
  // Only with the token does one learn what is there.
  EXPECT_EQ(call("POST", "/api/v1/control/nonsense", "{}", "wrong").status, 401);
}

// A bus that holds every job until released: a write that takes long.
class HeldAccess : public control::DeviceAccess {
 public:
  [[nodiscard]] std::vector<control::DeviceRef> devices() const override {
    return {{"c1", 1, "bus1", true, "", 0, 0}};
  }
  core::Status run(const control::DeviceRef&, const control::BusJob&) override {
    ++entered;
    released.wait();
    return core::Error{core::ErrorKind::InvalidArgument, "held"};
  }
  std::atomic<int> entered{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
};

TEST(ControlApiBusy, AtMostTwoBusRequestsHoldHttpThreads) {
  HeldAccess access;
  control::ControlService service{protocol::SettingsCatalog::builtin(), access, nullptr};
  DaemonView view;
  view.control = &service;
  view.control_token = k_token;
  ControlApi api(view);
  auto request = [&](const std::string& path, const std::string& body) {
    ControlHttpRequest r;
    r.method = body.empty() ? "GET" : "POST";
    r.path = path;
    r.body = body;
    r.authorization = std::string("Bearer ") + k_token;
    r.client = "192.0.2.1";
    if (body.empty()) r.params = {{"device", "c1"}};
    return api.handle(r);
  };
  const std::string load = R"({"device": "c1", "state": "on"})";
  auto first =
      std::async(std::launch::async, [&] { return request("/api/v1/control/load", load); });
  auto second =
      std::async(std::launch::async, [&] { return request("/api/v1/control/load", load); });
  for (int i = 0; i < 2000 && api.running() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling, not synchronising
  ASSERT_EQ(api.running(), 2U);
  auto third = request("/api/v1/control/export", "");
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_EQ(header(third, "Retry-After"), "5");
  // What does not touch a bus still answers.
  EXPECT_EQ(request("/api/v1/control", "").status, 200);
  EXPECT_EQ(request("/api/v1/control/log", "").status, 200);
  access.release.set_value();
  EXPECT_EQ(first.get().status, 503);  // the held bus "could not run it"
  EXPECT_EQ(second.get().status, 503);
  EXPECT_EQ(api.running(), 0U);
  EXPECT_EQ(access.entered, 2);
}

}  // namespace
}  // namespace tracermon::web
