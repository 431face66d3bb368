// `tracermon status` from a status answer: what counts as a problem, the lines and the exit
// status a monitoring check relies on.
#include "app/status_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tracermon::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const DaemonFacts k_daemon{4242, "/etc/tracermon/tracermon.toml", "http://127.0.0.1:8080/"};

json device(const std::string& name, int id, const std::string& health) {
  return {{"name", name},
          {"id", id},
          {"model", "Tracer3210AN"},
          {"health", health},
          {"identity", {{"product", "Tracer3210AN"}, {"revision", "V02.13"}}},
          {"last_seen_age_s", 1.5},
          {"last_error", ""},
          {"last_error_time", nullptr},
          {"clock_drift_s", 0.4},
          {"counters", {{"requests", 100}, {"timeouts", 2}, {"crc_errors", 1}}}};
}

// What /api/v1/status says of a daemon where all is well: two devices, InfluxDB, a store.
json all_well() {
  return {{"version", "0.1.0"},
          {"uptime_s", 3600.0},
          {"clock", {{"trusted", true}, {"synchronised", true}, {"max_drift_s", 30}}},
          {"outputs", json::array({{{"name", "influxdb"},
                                    {"endpoint", "http://127.0.0.1:8086/write?db=solar"},
                                    {"state", "connected"},
                                    {"sent", 10},
                                    {"queued", 0},
                                    {"in_outbox", 0},
                                    {"dropped", 0},
                                    {"last_error", ""}}})},
          {"store", {{"path", "/var/lib/tracermon/tracermon.db"}, {"open", true}, {"buffered", 3}}},
          {"buses", json::array({{{"name", "bus1"},
                                  {"port", "/dev/ttyUSB0"},
                                  {"link_up", true},
                                  {"link_error", ""},
                                  {"rounds", 50},
                                  {"devices", json::array({device("east", 1, "online"),
                                                           device("west", 2, "online")})}}})}};
}

std::vector<std::string> problem_lines(const StatusReport& report) {
  std::vector<std::string> out;
  for (const auto& line : report.lines) {
    if (line.problem) out.push_back(line.text);
  }
  return out;
}

TEST(StatusReport, AllWellIsExitZeroWithoutMarks) {
  auto report = assess_status(all_well(), k_daemon);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(report.summary, "OK: 2 devices online, 1 output connected");
  auto text = render_status(report);
  EXPECT_THAT(text, StartsWith("OK: 2 devices online"));
  EXPECT_EQ(text.find("\n!"), std::string::npos) << text;
  EXPECT_THAT(text, HasSubstr("  device east (bus1 id 1): online, Tracer3210AN V02.13, "
                              "last read 1.5 s ago, clock +0.4 s\n"));
  EXPECT_THAT(text, HasSubstr("  bus bus1 /dev/ttyUSB0: port up, 50 rounds, 200 requests, "
                              "4 timeouts, 2 CRC errors\n"));
  EXPECT_THAT(text, HasSubstr("  output influxdb http://127.0.0.1:8086/write?db=solar: connected"));
  EXPECT_THAT(text, HasSubstr("  store /var/lib/tracermon/tracermon.db: open"));
  EXPECT_THAT(text, HasSubstr("  daemon: tracermon 0.1.0, pid 4242, up 60 min"));
}

TEST(StatusReport, AnOfflineDeviceComesFirstWithItsLastError) {
  auto status = all_well();
  auto& west = status["buses"][0]["devices"][1];
  west["health"] = "offline";
  west["last_seen_age_s"] = 95.0;
  west["last_error"] = "pv block: timeout: no reply";
  auto report = assess_status(status, k_daemon);
  EXPECT_EQ(report.exit_code, k_exit_problem);
  EXPECT_EQ(report.summary, "PROBLEM: west offline");
  ASSERT_FALSE(report.lines.empty());
  EXPECT_TRUE(report.lines[0].problem);
  EXPECT_EQ(report.lines[0].text,
            "device west (bus1 id 2): offline, Tracer3210AN V02.13, last good read 95 s ago, "
            "clock +0.4 s, last error: pv block: timeout: no reply");
  EXPECT_THAT(render_status(report), HasSubstr("\n! device west (bus1 id 2): offline"));
  const auto& devices = report.json["devices"];
  EXPECT_EQ(devices[1]["health"], "offline");
  EXPECT_EQ(devices[1]["last_error"], "pv block: timeout: no reply");
  EXPECT_EQ(report.json["status"], "problem");
  EXPECT_EQ(report.json["problems"], json::array({"west offline"}));
}

TEST(StatusReport, EachKindOfProblemCounts) {
  auto degraded = all_well();
  degraded["buses"][0]["devices"][0]["health"] = "degraded";
  auto port_down = all_well();
  port_down["buses"][0]["link_up"] = false;
  port_down["buses"][0]["link_error"] = "open: No such file or directory";
  auto retrying = all_well();
  retrying["outputs"][0]["state"] = "retrying";
  retrying["outputs"][0]["last_error"] = "connection refused";
  auto store_closed = all_well();
  store_closed["store"]["open"] = false;
  auto untrusted = all_well();
  untrusted["clock"]["trusted"] = false;
  auto drifted = all_well();
  drifted["buses"][0]["devices"][1]["clock_drift_s"] = -95.0;
  auto unknown = all_well();
  unknown["buses"][0]["devices"][0]["health"] = "unknown";
  for (const auto& [status, expected] :
       std::vector<std::pair<json, std::string>>{{degraded, "east degraded"},
                                                 {port_down, "bus bus1 port down"},
                                                 {retrying, "influxdb retrying"},
                                                 {store_closed, "store closed"},
                                                 {untrusted, "host clock not trusted"},
                                                 {drifted, "west clock drift"},
                                                 {unknown, "east unknown"},
                                                 {json::object(), "no device"}}) {
    auto report = assess_status(status, k_daemon);
    EXPECT_EQ(report.exit_code, k_exit_problem) << expected;
    EXPECT_EQ(report.summary, "PROBLEM: " + expected);
  }
  auto report = assess_status(retrying, k_daemon);
  EXPECT_THAT(problem_lines(report)[0], HasSubstr("last error: connection refused"));
  report = assess_status(drifted, k_daemon);
  EXPECT_THAT(problem_lines(report)[0], HasSubstr("clock -95.0 s (past the 30 s limit: "
                                                  "`tracermon clock west --sync`)"));
}

TEST(StatusReport, AHostClockWithoutNtpIsANoteNotAProblem) {
  auto status = all_well();
  status["clock"]["synchronised"] = false;
  auto report = assess_status(status, k_daemon);
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_THAT(render_status(report),
              HasSubstr("  clock: host clock trusted, not NTP-synchronised"));
}

TEST(StatusReport, JsonSummaryHasEveryPart) {
  auto report = assess_status(all_well(), k_daemon);
  const auto& out = report.json;
  EXPECT_EQ(out["status"], "ok");
  EXPECT_EQ(out["exit_code"], 0);
  EXPECT_EQ(out["source"], "http");
  EXPECT_EQ(out["daemon"]["pid"], 4242);
  EXPECT_EQ(out["daemon"]["http"], "http://127.0.0.1:8080/");
  EXPECT_EQ(out["buses"][0]["timeouts"], 4);
  EXPECT_EQ(out["devices"][0]["firmware"], "V02.13");
  EXPECT_EQ(out["devices"][0]["clock_drift_s"], 0.4);
  EXPECT_EQ(out["outputs"][0]["state"], "connected");
  EXPECT_EQ(out["store"]["open"], true);
  EXPECT_EQ(out["clock"]["trusted"], true);
}

TEST(StatusReport, FromStateFilesOnlyDevicesAreJudged) {
  json status{{"source", "state_files"},
              {"buses", json::array({{{"name", "bus1"},
                                      {"devices", json::array({{{"name", "east"},
                                                                {"id", 1},
                                                                {"health", "online"},
                                                                {"last_seen_age_s", 2.0}}})}}})}};
  auto report = assess_status(status, {7, "/etc/t.toml", ""});
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_EQ(report.json["source"], "state_files");
  EXPECT_TRUE(report.json["outputs"].is_null());
  EXPECT_TRUE(report.json["store"].is_null());
  auto text = render_status(report);
  EXPECT_THAT(text, HasSubstr("not known with HTTP off"));
  EXPECT_THAT(text, HasSubstr("daemon: pid 7, HTTP off"));
}

TEST(StatusReport, Ages) {
  EXPECT_EQ(format_age(0.42), "0.4 s");
  EXPECT_EQ(format_age(42), "42 s");
  EXPECT_EQ(format_age(300), "5 min");
  EXPECT_EQ(format_age(3 * 3600), "3 h");
  EXPECT_EQ(format_age(3 * 86400), "3 d");
}

}  // namespace
}  // namespace tracermon::app
