#include "web/api.hpp"

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/live_state.hpp"
#include "snapshot_builder.hpp"
#include "store/snapshot_store.hpp"
#include "temp_dir.hpp"

namespace tracermon::web {
namespace {

using nlohmann::json;
using test::sample;
using test::snapshot;
using ::testing::HasSubstr;

// 2026-11-25T00:00:00Z (python3: datetime(2026,11,25,tzinfo=timezone.utc).timestamp()).
constexpr std::int64_t k_day0 = 1'795'564'800'000;
constexpr std::int64_t k_second = 1000;
constexpr std::int64_t k_now = k_day0 + 3'600'000;

model::DeviceStatus device_status(std::string name, std::uint8_t unit, std::string site,
                                  model::Health health) {
  model::DeviceStatus d;
  d.name = std::move(name);
  d.unit = unit;
  d.site = std::move(site);
  d.health = health;
  return d;
}

json body_of(const ApiResponse& response) {
  EXPECT_EQ(response.content_type, "application/json");
  return json::parse(response.body);
}

std::string error_of(const ApiResponse& response) {
  return body_of(response).value("error", "");
}

class Api : public ::testing::Test {
 protected:
  Api() {
    model::BusStatus bus;
    bus.name = "bus1";
    bus.port = "/dev/ttyUSB0";
    bus.link_up = true;
    bus.devices.push_back(device_status("roof", 1, "house", model::Health::Online));
    bus.devices.push_back(device_status("garage", 2, "house", model::Health::Offline));
    buses.push_back(bus);
    view.map = &test::map();
    view.live = &live;
    view.buses = [this] { return buses; };
  }

  // A store with samples of "roof" every 10 s from k_day0, a gap at 20 s, pv_voltage only at 0 s.
  void open_store() {
    store::StoreOptions options;
    options.path = dir.path() / "history.db";
    options.open_rollup_refresh_ms = 0;
    history = std::make_unique<store::SnapshotStore>(options);
    history->add({"roof", k_day0, {{"battery_voltage", 13.8}, {"pv_voltage", 18.52}}});
    history->add({"roof", k_day0 + 10 * k_second, {{"battery_voltage", 13.5}}});
    history->add({"roof", k_day0 + 30 * k_second, {{"battery_voltage", 12.25}}});
    ASSERT_TRUE(history->commit().ok()) << history->last_error();
    view.store = history.get();
  }

  ApiResponse query(const Params& params) { return api_history(view, params, k_now); }

  ::tracermon::test::TempDir dir;
  std::unique_ptr<store::SnapshotStore> history;
  model::LiveState live;
  std::vector<model::BusStatus> buses;
  DaemonView view;
};

// A valid history query over the first minute, in 10 s buckets.
Params minute_query() {
  return {{"device", "roof"},
          {"fields", "battery_voltage,pv_voltage"},
          {"from", "2026-11-25T00:00:00Z"},
          {"to", "2026-11-25T00:01:00Z"},
          {"points", "6"}};
}

Params with(Params params, const std::string& key, const std::string& value) {
  params.erase(key);
  params.emplace(key, value);
  return params;
}

Params without(Params params, const std::string& key) {
  params.erase(key);
  return params;
}

TEST_F(Api, HistoryAndEnergyWithoutAStoreAre503) {
  auto history_answer = query(minute_query());
  EXPECT_EQ(history_answer.status, 503);
  EXPECT_THAT(error_of(history_answer), HasSubstr("store is off"));
  auto energy = api_energy(view, {});
  EXPECT_EQ(energy.status, 503);
  EXPECT_THAT(error_of(energy), HasSubstr("store is off"));
}

TEST_F(Api, HistoryIsColumnarWithNullsForGaps) {
  open_store();
  auto response = query(minute_query());
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = body_of(response);
  EXPECT_EQ(body["device"], "roof");
  EXPECT_EQ(body["from"], k_day0);
  EXPECT_EQ(body["to"], k_day0 + 60 * k_second);
  EXPECT_EQ(body["agg"], "mean");
  std::vector<std::int64_t> times;
  for (int i = 0; i < 6; ++i)
    times.push_back(k_day0 + i * 10 * k_second);
  EXPECT_EQ(body["time"], json(times));
  EXPECT_EQ(body["fields"]["battery_voltage"],
            json::parse("[13.8, 13.5, null, 12.25, null, null]"));
  EXPECT_EQ(body["fields"]["pv_voltage"], json::parse("[18.52, null, null, null, null, null]"));
}

TEST_F(Api, HistoryOfAnUnknownFieldIsAllNulls) {
  open_store();
  auto response = query(with(minute_query(), "fields", "no_such_field"));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response)["fields"]["no_such_field"],
            json::parse("[null,null,null,null,null,null]"));
}

TEST_F(Api, HistoryAggregates) {
  open_store();
  // One raw bucket over the first 59 s (a full minute would be served from the minute rollup).
  auto one_bucket = with(with(with(minute_query(), "points", "1"), "fields", "battery_voltage"),
                         "to", "2026-11-25T00:00:59Z");
  auto value = [&](const std::string& agg) {
    auto response = query(with(one_bucket, "agg", agg));
    EXPECT_EQ(response.status, 200) << response.body;
    return body_of(response)["fields"]["battery_voltage"][0].get<double>();
  };
  EXPECT_DOUBLE_EQ(value("min"), 12.25);
  EXPECT_DOUBLE_EQ(value("max"), 13.8);
  EXPECT_DOUBLE_EQ(value("last"), 12.25);
  EXPECT_NEAR(value("mean"), (13.8 + 13.5 + 12.25) / 3, 0.0005);  // shown to 3 decimals
}

TEST_F(Api, HistoryNeedsADevice) {
  open_store();
  auto response = query(without(minute_query(), "device"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("device: required"));
}

TEST_F(Api, HistoryOfAnUnknownDeviceIs404) {
  open_store();
  auto response = query(with(minute_query(), "device", "shed"));
  EXPECT_EQ(response.status, 404);
  EXPECT_THAT(error_of(response), HasSubstr("'shed'"));
}

TEST_F(Api, HistoryOfASiteIsAllowed) {
  open_store();
  auto response = query(with(minute_query(), "device", "house"));
  EXPECT_EQ(response.status, 200) << response.body;
}

TEST_F(Api, HistoryNeedsFields) {
  open_store();
  for (auto params : {without(minute_query(), "fields"), with(minute_query(), "fields", ""),
                      with(minute_query(), "fields", ",,")}) {
    auto response = query(params);
    EXPECT_EQ(response.status, 400);
    EXPECT_THAT(error_of(response), HasSubstr("fields: required"));
  }
}

TEST_F(Api, HistoryRejectsABadTime) {
  open_store();
  auto response = query(with(minute_query(), "from", "yesterday"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("from: 'yesterday' is not a time"));
  EXPECT_THAT(error_of(response), HasSubstr("allowed:"));
  response = query(with(minute_query(), "to", "2026-11-25T00:01:00"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("to: '2026-11-25T00:01:00' is not a time"));
}

// Issue 12, item 4: these crashed the daemon (SIGFPE) or answered 500; now 400 with the range.
TEST_F(Api, HistoryRejectsTimesOutsideTheAllowedRange) {
  open_store();
  for (auto [from, to] : {std::pair{"-9223372036854775807", "9223372036854775807"},
                          {"0", "9223372036854775807"},
                          {"-9223372036854775808", "now"},
                          {"2026-11-25T00:00:00Z", "10000-01-01T00:00:00Z"}}) {
    auto response = query(with(with(minute_query(), "from", from), "to", to));
    EXPECT_EQ(response.status, 400) << from << " " << to;
    EXPECT_THAT(error_of(response), HasSubstr("1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"));
  }
  auto response = query(with(with(minute_query(), "from", "0"), "to", "9999-12-31T23:59:59Z"));
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_LE(body_of(response)["time"].size(), 6U);
}

TEST(ErrorBody, IsOneJsonKeyWhateverTheMessageHolds) {
  for (std::string message : {std::string("no such path: /a\",\"injected\":\"x\\"),
                              std::string("no such path: /\xC3\x28"), std::string("a\nb\"")}) {
    auto body = error_body(message);
    ASSERT_FALSE(body.empty());
    EXPECT_EQ(body.back(), '\n');
    auto parsed = json::parse(body);
    ASSERT_EQ(parsed.size(), 1U) << body;
    EXPECT_TRUE(parsed["error"].is_string()) << body;
  }
  EXPECT_EQ(json::parse(error_body("say \"hi\""))["error"], "say \"hi\"");
}

TEST_F(Api, HistoryRejectsAnEmptyRange) {
  open_store();
  auto response = query(with(minute_query(), "to", "2026-11-25T00:00:00Z"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("from must be before to"));
}

TEST_F(Api, HistoryRejectsBadPoints) {
  open_store();
  for (const char* points : {"0", "-1", "10001", "ten", "5x", ""}) {
    auto response = query(with(minute_query(), "points", points));
    EXPECT_EQ(response.status, 400) << points;
    EXPECT_THAT(error_of(response), HasSubstr("points: '" + std::string(points) + "'"));
  }
}

TEST_F(Api, HistoryRejectsAnUnknownAggregate) {
  open_store();
  auto response = query(with(minute_query(), "agg", "median"));
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("agg: 'median' is not one of mean, min, max, last"));
}

TEST_F(Api, HistoryDefaultsToTheLastDay) {
  open_store();
  auto response = query(without(without(minute_query(), "from"), "to"));
  ASSERT_EQ(response.status, 200) << response.body;
  auto body = body_of(response);
  EXPECT_EQ(body["from"], k_now - 24 * 3'600'000);
  EXPECT_EQ(body["to"], k_now);
}

TEST_F(Api, EnergyByPeriod) {
  open_store();
  ASSERT_TRUE(history
                  ->put_energy({{"roof", "2026-11-24", 1.5, 0.25},
                                {"roof", "2026-11-25", 2.75, 0.5},
                                {"roof", "2026-11", 4.25, 0.75},
                                {"garage", "2026-11-25", 3, 1}})
                  .ok());
  auto response = api_energy(view, {{"device", "roof"}, {"period", "day"}});
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(body_of(response), json::parse(R"({"day": {"roof": [
      {"period": "2026-11-24", "generated_kwh": 1.5, "consumed_kwh": 0.25},
      {"period": "2026-11-25", "generated_kwh": 2.75, "consumed_kwh": 0.5}]}})"));

  response = api_energy(view, {{"period", "day"}, {"from", "2026-11-25"}});
  ASSERT_EQ(response.status, 200) << response.body;
  auto days = body_of(response)["day"];
  EXPECT_EQ(days["roof"].size(), 1u);
  EXPECT_EQ(days["garage"].size(), 1u);

  response = api_energy(view, {{"device", "roof"}});
  ASSERT_EQ(response.status, 200) << response.body;
  auto all = body_of(response);
  EXPECT_EQ(all["day"]["roof"].size(), 2u);
  EXPECT_EQ(all["month"]["roof"][0]["period"], "2026-11");
  EXPECT_EQ(all["year"], json::object());
}

TEST_F(Api, EnergyRejectsBadParameters) {
  open_store();
  auto response = api_energy(view, {{"period", "week"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("period: 'week' is not one of day, month, year"));
  response = api_energy(view, {{"device", "shed"}});
  EXPECT_EQ(response.status, 404);
  EXPECT_THAT(error_of(response), HasSubstr("'shed'"));
  response = api_energy(view, {{"from", "last week"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("from: 'last week'"));
  response = api_energy(view, {{"to", "2026-1-5"}});
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(error_of(response), HasSubstr("to: '2026-1-5'"));
}

TEST_F(Api, LatestListsDevicesInFirstSeenOrderWithTheirValues) {
  live.merge(snapshot("roof", 1, {sample("battery_voltage", 1380), sample("battery_soc", 85)}));
  live.merge(snapshot("garage", 2, {sample("pv_voltage", 1852)}));
  live.set_site("house", {{"battery_voltage", 13.8}});
  auto response = api_latest(view);
  ASSERT_EQ(response.status, 200);
  auto body = nlohmann::ordered_json::parse(response.body);
  std::vector<std::string> names;
  for (const auto& [name, device] : body["devices"].items())
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"roof", "garage"}));
  EXPECT_EQ(body["devices"]["roof"]["fields"]["battery_voltage"]["value"], 13.8);
  EXPECT_EQ(body["devices"]["roof"]["fields"]["battery_voltage"]["unit"], "V");
  EXPECT_EQ(body["devices"]["roof"]["fields"]["battery_soc"]["value"], 85);
  EXPECT_EQ(body["devices"]["garage"]["fields"]["pv_voltage"]["value"], 18.52);
  EXPECT_EQ(body["sites"]["house"]["battery_voltage"], 13.8);
}

TEST_F(Api, LatestWithNothingYet) {
  auto response = api_latest(view);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(body_of(response), json::parse(R"({"devices": {}, "sites": {}})"));
}

TEST_F(Api, StatusShowsBusesDevicesAndCounters) {
  buses[0].devices[0].counters.timeouts = 7;
  buses[0].devices[0].counters.exceptions = {{2, 5}};
  buses[0].devices[1].last_error = "no reply";
  buses[0].devices[1].last_seen = core::from_epoch_ms(k_now - 42 * k_second);
  view.daemon_status = [] { return nlohmann::ordered_json{{"version", "1.2.3"}}; };
  auto response = api_status(view, k_now);
  ASSERT_EQ(response.status, 200);
  auto body = body_of(response);
  EXPECT_EQ(body["version"], "1.2.3");
  EXPECT_EQ(body["control"], false);  // [control] not enabled
  ASSERT_EQ(body["buses"].size(), 1u);
  const auto& bus = body["buses"][0];
  EXPECT_EQ(bus["name"], "bus1");
  EXPECT_EQ(bus["port"], "/dev/ttyUSB0");
  EXPECT_EQ(bus["link_up"], true);
  ASSERT_EQ(bus["devices"].size(), 2u);
  EXPECT_EQ(bus["devices"][0]["name"], "roof");
  EXPECT_EQ(bus["devices"][0]["id"], 1);
  EXPECT_EQ(bus["devices"][0]["health"], model::to_string(model::Health::Online));
  EXPECT_EQ(bus["devices"][0]["last_seen"], nullptr);  // never answered
  EXPECT_EQ(bus["devices"][0]["counters"]["timeouts"], 7);
  EXPECT_EQ(bus["devices"][0]["counters"]["exceptions"]["2"], 5);
  EXPECT_EQ(bus["devices"][0]["last_seen_age_s"], nullptr);
  EXPECT_EQ(bus["devices"][1]["last_error"], "no reply");
  EXPECT_EQ(bus["devices"][1]["last_seen_age_s"], 42.0);  // by the daemon's clock
}

TEST_F(Api, StatusShowsEachDevicesClockDrift) {
  // roof's clock words say the host's local time 90 s after the read; garage has none.
  std::time_t ahead = k_now / 1000 + 90;
  std::tm tm{};
  localtime_r(&ahead, &tm);
  auto at = core::SteadyTime{} + std::chrono::milliseconds(k_now);
  auto pack = [](int hi, int lo) { return (hi << 8) | lo; };
  live.merge(snapshot("roof", 1,
                      {sample("rtc_minute_second", pack(tm.tm_min, tm.tm_sec), at),
                       sample("rtc_day_hour", pack(tm.tm_mday, tm.tm_hour), at),
                       sample("rtc_year_month", pack(tm.tm_year - 100, tm.tm_mon + 1), at)}));
  live.merge(snapshot("garage", 2, {sample("pv_voltage", 1852, at)}));
  auto body = body_of(api_status(view, k_now));
  const auto& devices = body["buses"][0]["devices"];
  EXPECT_EQ(devices[0]["name"], "roof");
  EXPECT_EQ(devices[0]["clock_drift_s"], 90.0);
  EXPECT_EQ(devices[1]["clock_drift_s"], nullptr);
}

TEST_F(Api, StatusSurvivesIdentityBytesThatAreNotUtf8) {
  // Read Device Identification strings come from the device as raw bytes.
  buses[0].devices[0].identity.vendor = "EPsolar\xff\xfe";
  buses[0].devices[0].identity.product_code = "Tracer\xc3";
  auto response = api_status(view, k_now);
  ASSERT_EQ(response.status, 200);
  auto body = body_of(response);
  EXPECT_THAT(body["buses"][0]["devices"][0]["identity"]["vendor"].get<std::string>(),
              ::testing::StartsWith("EPsolar"));
}

TEST_F(Api, HealthyWhileADeviceOnEveryBusAnswers) {
  auto response = api_health(view);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
  EXPECT_EQ(response.content_type, "text/plain");
}

TEST_F(Api, UnhealthyWhenNoDeviceOfABusAnswers) {
  buses[0].devices[0].health = model::Health::Offline;
  buses[0].link_error = "cannot open /dev/ttyUSB0";
  auto response = api_health(view);
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.body, HasSubstr("bus1"));
  EXPECT_THAT(response.body, HasSubstr("cannot open /dev/ttyUSB0"));
}

TEST_F(Api, HealthyBeforeTheFirstPoll) {
  for (auto& d : buses[0].devices)
    d.health = model::Health::Unknown;
  EXPECT_EQ(api_health(view).status, 200);
}

TEST_F(Api, DegradedCountsAsAnswering) {
  buses[0].devices[0].health = model::Health::Degraded;
  EXPECT_EQ(api_health(view).status, 200);
}

}  // namespace
}  // namespace tracermon::web
