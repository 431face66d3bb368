#include "app/status_report.hpp"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tracermon::app {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

double number_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

// The value at `key`, or null when absent.
ordered_json copy_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() ? ordered_json(*it) : ordered_json(nullptr);
}

const json& member(const json& object, const char* key) {
  static const json k_null;
  auto it = object.find(key);
  return it != object.end() ? *it : k_null;
}

// Collects the lines and the short forms of the problems for the summary.
class Findings {
 public:
  void add(bool problem, std::string text, std::string short_form = {}) {
    if (problem) m_problems.push_back(short_form.empty() ? text : std::move(short_form));
    m_lines.push_back({problem, std::move(text)});
  }
  [[nodiscard]] const std::vector<std::string>& problems() const { return m_problems; }
  [[nodiscard]] std::vector<StatusLine> lines() const {
    std::vector<StatusLine> out;
    for (bool problems : {true, false}) {
      for (const auto& line : m_lines) {
        if (line.problem == problems) out.push_back(line);
      }
    }
    return out;
  }

 private:
  std::vector<StatusLine> m_lines;
  std::vector<std::string> m_problems;
};

std::string signed_seconds(double seconds) {
  return fmt::format("{:+.1f} s", seconds);
}

ordered_json assess_device(const json& device, const std::string& bus, double max_drift_s,
                           Findings& findings, int& online) {
  auto name = text_of(device, "name");
  auto health = text_of(device, "health");
  if (health.empty()) health = "unknown";
  const auto& identity = member(device, "identity");
  auto firmware = identity.is_object() ? text_of(identity, "revision") : std::string{};
  auto model = text_of(device, "model");
  const auto& age = member(device, "last_seen_age_s");
  const auto& drift = member(device, "clock_drift_s");
  auto last_error = text_of(device, "last_error");
  bool drifted =
      drift.is_number() && max_drift_s > 0 && std::abs(drift.get<double>()) > max_drift_s;
  bool answers = health == "online" || health == "degraded";
  if (health == "online") ++online;

  std::string text = fmt::format("device {} ({} id {}): {}", name, bus, device.value("id", 0),
                                 health == "unknown" ? "not polled yet" : health);
  if (!model.empty()) text += fmt::format(", {}{}", model, firmware.empty() ? "" : " " + firmware);
  if (age.is_number()) {
    text += fmt::format(", {} {} ago", answers ? "last read" : "last good read",
                        format_age(age.get<double>()));
  } else if (health != "unknown") {
    text += ", never answered";
  }
  if (drift.is_number()) text += fmt::format(", clock {}", signed_seconds(drift.get<double>()));
  if (drifted) {
    text +=
        fmt::format(" (past the {:.0f} s limit: `tracermon clock {} --sync`)", max_drift_s, name);
  }
  if (health != "online" && !last_error.empty()) text += ", last error: " + last_error;
  std::string short_form = fmt::format("{} {}", name, health);
  if (health == "online" && drifted) short_form = fmt::format("{} clock drift", name);
  findings.add(health != "online" || drifted, text, short_form);

  return ordered_json{{"name", name},
                      {"bus", bus},
                      {"id", copy_of(device, "id")},
                      {"model", model},
                      {"firmware", firmware},
                      {"health", health},
                      {"last_seen_age_s", copy_of(device, "last_seen_age_s")},
                      {"last_error", last_error},
                      {"last_error_time", copy_of(device, "last_error_time")},
                      {"clock_drift_s", copy_of(device, "clock_drift_s")},
                      {"clock_drift_too_large", drifted}};
}

ordered_json assess_bus(const json& bus, Findings& findings) {
  auto name = text_of(bus, "name");
  auto port = text_of(bus, "port");
  bool up = bus.value("link_up", false);
  ordered_json errors = ordered_json::object();
  for (const char* key : {"requests", "timeouts", "crc_errors", "bad_replies", "link_errors"}) {
    double sum = 0;
    for (const auto& device : member(bus, "devices")) {
      sum += number_of(member(device, "counters"), key);
    }
    errors[key] = static_cast<std::uint64_t>(sum);
  }
  auto text = fmt::format("bus {} {}: port {}", name, port, up ? "up" : "down");
  if (!up && !text_of(bus, "link_error").empty()) text += ": " + text_of(bus, "link_error");
  text +=
      fmt::format(", {} rounds, {} requests, {} timeouts, {} CRC errors", bus.value("rounds", 0),
                  errors["requests"].get<std::uint64_t>(), errors["timeouts"].get<std::uint64_t>(),
                  errors["crc_errors"].get<std::uint64_t>());
  findings.add(!up, text, fmt::format("bus {} port down", name));
  ordered_json out{{"name", name},
                   {"port", port},
                   {"link_up", up},
                   {"link_error", text_of(bus, "link_error")},
                   {"rounds", copy_of(bus, "rounds")}};
  for (const auto& [key, value] : errors.items())
    out[key] = value;
  return out;
}

ordered_json assess_output(const json& output, Findings& findings) {
  auto name = text_of(output, "name");
  auto state = text_of(output, "state");
  bool well = state == "connected";
  auto text = fmt::format("output {} {}: {}", name, text_of(output, "endpoint"),
                          state.empty() ? "unknown" : state);
  if (state == "retrying" && number_of(output, "retry_in_s") > 0) {
    text += fmt::format(" in {}", format_age(number_of(output, "retry_in_s")));
  }
  text += fmt::format(", {:.0f} queued, {:.0f} in outbox, {:.0f} sent, {:.0f} dropped",
                      number_of(output, "queued"), number_of(output, "in_outbox"),
                      number_of(output, "sent"), number_of(output, "dropped"));
  if (!well && !text_of(output, "last_error").empty()) {
    text += ", last error: " + text_of(output, "last_error");
  }
  findings.add(!well, text, fmt::format("{} {}", name, state.empty() ? "unknown" : state));
  ordered_json out{{"name", name}, {"endpoint", text_of(output, "endpoint")}, {"state", state}};
  for (const char* key : {"sent", "queued", "in_outbox", "dropped", "rejected", "errors"})
    out[key] = copy_of(output, key);
  out["last_error"] = text_of(output, "last_error");
  return out;
}

void assess_store(const json& store, Findings& findings) {
  if (store.is_null()) {
    findings.add(false, "store: off");
    return;
  }
  bool open = store.value("open", false);
  auto text = fmt::format("store {}: {}, {:.0f} records buffered", text_of(store, "path"),
                          open ? "open" : "closed", number_of(store, "buffered"));
  if (number_of(store, "dropped") > 0) {
    text += fmt::format(", {:.0f} dropped", number_of(store, "dropped"));
  }
  if (!text_of(store, "last_error").empty())
    text += ", last error: " + text_of(store, "last_error");
  findings.add(!open, text, "store closed");
}

void assess_clock(const json& clock, Findings& findings) {
  if (!clock.is_object()) return;
  bool trusted = clock.value("trusted", false);
  bool synchronised = clock.value("synchronised", false);
  // Without NTP the clock may still be right (a Pi with an RTC, trust_host_clock): a note.
  auto text = fmt::format("clock: host clock {}, {}",
                          trusted ? "trusted"
                                  : "not trusted (before the release's year): "
                                    "nothing is filed until it is set",
                          synchronised ? "NTP-synchronised" : "not NTP-synchronised");
  findings.add(!trusted, text, "host clock not trusted");
}

}  // namespace

std::string format_age(double seconds) {
  if (seconds < 10) return fmt::format("{:.1f} s", seconds);
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.0f} min", seconds / 60);
  if (seconds < 2 * 86400) return fmt::format("{:.0f} h", seconds / 3600);
  return fmt::format("{:.0f} d", seconds / 86400);
}

StatusReport assess_status(const json& status, const DaemonFacts& daemon) {
  Findings findings;
  bool from_files = text_of(status, "source") == "state_files";
  const auto& clock = member(status, "clock");
  double max_drift_s = clock.is_object() ? number_of(clock, "max_drift_s") : 0.0;

  ordered_json devices = ordered_json::array();
  ordered_json buses = ordered_json::array();
  int online = 0;
  for (const auto& bus : member(status, "buses")) {
    if (!from_files) buses.push_back(assess_bus(bus, findings));
    for (const auto& device : member(bus, "devices")) {
      devices.push_back(assess_device(device, text_of(bus, "name"), max_drift_s, findings, online));
    }
  }
  if (devices.empty()) findings.add(true, "no device configured or reported", "no device");
  ordered_json outputs = ordered_json::array();
  for (const auto& output : member(status, "outputs"))
    outputs.push_back(assess_output(output, findings));
  if (from_files) {
    findings.add(false,
                 "buses, outputs, store and clock: not known with HTTP off "
                 "([http] enabled = true shows them)");
  } else {
    assess_store(member(status, "store"), findings);
    assess_clock(clock, findings);
  }
  auto version = text_of(status, "version");
  auto daemon_line = fmt::format("daemon: pid {}", daemon.pid);
  if (!version.empty())
    daemon_line = fmt::format("daemon: tracermon {}, pid {}", version, daemon.pid);
  if (status.contains("uptime_s")) {
    daemon_line += fmt::format(", up {}", format_age(number_of(status, "uptime_s")));
  }
  daemon_line += daemon.http.empty() ? ", HTTP off" : ", " + daemon.http;
  if (!daemon.config.empty()) daemon_line += ", config " + daemon.config;
  findings.add(false, daemon_line);

  StatusReport report;
  const auto& problems = findings.problems();
  report.exit_code = problems.empty() ? 0 : k_exit_problem;
  if (problems.empty()) {
    report.summary = fmt::format("OK: {} device{} online", online, online == 1 ? "" : "s");
    if (!outputs.empty()) {
      report.summary +=
          fmt::format(", {} output{} connected", outputs.size(), outputs.size() == 1 ? "" : "s");
    }
  } else {
    report.summary = "PROBLEM: " + fmt::format("{}", fmt::join(problems, "; "));
  }
  report.lines = findings.lines();

  auto& out = report.json;
  out["status"] = problems.empty() ? "ok" : "problem";
  out["exit_code"] = report.exit_code;
  out["summary"] = report.summary;
  out["problems"] = problems;
  out["source"] = from_files ? "state_files" : "http";
  out["daemon"] = {{"pid", daemon.pid},
                   {"version", version},
                   {"uptime_s", copy_of(status, "uptime_s")},
                   {"http", daemon.http},
                   {"config", daemon.config}};
  out["clock"] = clock.is_object() ? ordered_json(clock) : ordered_json(nullptr);
  out["buses"] = from_files ? ordered_json(nullptr) : std::move(buses);
  out["devices"] = std::move(devices);
  out["outputs"] = from_files ? ordered_json(nullptr) : std::move(outputs);
  out["store"] = from_files ? ordered_json(nullptr) : copy_of(status, "store");
  return report;
}

std::string render_status(const StatusReport& report) {
  std::string out = report.summary + "\n";
  for (const auto& line : report.lines)
    out += fmt::format("{} {}\n", line.problem ? "!" : " ", line.text);
  return out;
}

}  // namespace tracermon::app
