#include "web/api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/wall_time.hpp"
#include "format/snapshot_json.hpp"
#include "format/status_json.hpp"
#include "model/clock_drift.hpp"
#include "store/snapshot_store.hpp"
#include "web/time_param.hpp"

namespace tracermon::web {

using nlohmann::ordered_json;

namespace {

ApiResponse json_response(const ordered_json& body, int status = 200) {
  // Identity strings are the device's raw bytes: invalid UTF-8 must not make dump() throw.
  return {status, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n",
          "application/json"};
}

ApiResponse bad_request(const std::string& message) {
  return {400, error_body(message), "application/json"};
}

std::string param(const Params& params, const std::string& key, const std::string& fallback = {}) {
  auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// "2026", "2026-11" or "2026-11-25": what the energy periods look like.
bool is_period(const std::string& text) {
  if (text.size() != 4 && text.size() != 7 && text.size() != 10) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 4 || i == 7;
    if (dash ? text[i] != '-' : (text[i] < '0' || text[i] > '9')) return false;
  }
  return true;
}

// Values are stored to 0.01 and energy counted in Wh: three decimals say all there is, without
// binary-fraction noise (3.8099999999999996).
double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

bool known_source(const DaemonView& view, const std::string& name) {
  for (const auto& bus : view.buses()) {
    for (const auto& d : bus.devices) {
      if (d.name == name || (!d.site.empty() && d.site == name)) return true;
    }
  }
  return false;
}

}  // namespace

std::string error_body(std::string_view message) {
  return ordered_json{{"error", message}}.dump(-1, ' ', false,
                                               ordered_json::error_handler_t::replace) +
         "\n";
}

ApiResponse api_status(const DaemonView& view, std::int64_t now_ms) {
  ordered_json out = view.daemon_status ? view.daemon_status() : ordered_json::object();
  // Whether /api/v1/control/ answers (the dashboard's control tab; it still needs the token).
  out["control"] = view.control != nullptr;
  // Each device's clock drift from its latest view (null while it cannot be told).
  std::map<std::string, std::optional<double>> drift;
  if (view.live != nullptr) {
    for (const auto& snapshot : view.live->devices())
      drift[snapshot->device] = model::clock_drift_s(*view.map, *snapshot);
  }
  auto buses = ordered_json::array();
  for (const auto& bus : view.buses()) {
    auto json = format::bus_status_json(bus);
    for (std::size_t i = 0; i < bus.devices.size(); ++i) {
      auto& device = json["devices"][i];
      auto it = drift.find(bus.devices[i].name);
      device["clock_drift_s"] =
          it != drift.end() && it->second ? ordered_json(*it->second) : ordered_json(nullptr);
      // How old its last answer is, by the daemon's clock (null: never answered), so a
      // client needs neither a date parser nor the same clock.
      auto seen = bus.devices[i].last_seen;
      device["last_seen_age_s"] =
          seen.time_since_epoch().count() == 0
              ? ordered_json(nullptr)
              : ordered_json(static_cast<double>(now_ms - core::epoch_ms(seen)) / 1000.0);
    }
    buses.push_back(std::move(json));
  }
  out["buses"] = std::move(buses);
  return json_response(out);
}

ApiResponse api_latest(const DaemonView& view) {
  ordered_json out;
  auto devices = ordered_json::object();
  for (const auto& snapshot : view.live->devices()) {
    devices[snapshot->device] = format::snapshot_json(*view.map, *snapshot, view.intervals);
  }
  out["devices"] = std::move(devices);
  auto sites = ordered_json::object();
  for (const auto& [name, totals] : view.live->sites())
    sites[name] = totals;
  out["sites"] = std::move(sites);
  return json_response(out);
}

ApiResponse api_history(const DaemonView& view, const Params& params, std::int64_t now_ms) {
  if (view.store == nullptr) {
    return json_response(ordered_json{{"error", "the store is off ([store] enabled = false)"}},
                         503);
  }
  auto device = param(params, "device");
  if (device.empty()) return bad_request("device: required (a device or site name)");
  if (!known_source(view, device)) {
    return json_response(
        ordered_json{{"error", fmt::format("device '{}': no such device or site", device)}}, 404);
  }
  auto fields = split(param(params, "fields"));
  if (fields.empty()) return bad_request("fields: required, e.g. fields=pv_voltage,battery_soc");
  if (fields.size() > 32) return bad_request("fields: at most 32 fields per query");
  auto from_text = param(params, "from", "-24h");
  auto to_text = param(params, "to", "now");
  auto from_param = time_param("from", from_text, now_ms);
  if (!from_param) return bad_request(from_param.error().message);
  auto to_param = time_param("to", to_text, now_ms);
  if (!to_param) return bad_request(to_param.error().message);
  const auto from = from_param.value();
  const auto to = to_param.value();
  if (to <= from) return bad_request("from must be before to");
  int points = 500;
  auto points_text = param(params, "points", "500");
  auto [ptr, ec] =
      std::from_chars(points_text.data(), points_text.data() + points_text.size(), points);
  if (ec != std::errc{} || ptr != points_text.data() + points_text.size() || points < 1 ||
      points > 10000) {
    return bad_request(fmt::format("points: '{}' must be an integer 1-10000", points_text));
  }
  store::HistoryQuery query;
  query.source = device;
  query.fields = fields;
  query.from_ms = from;
  query.to_ms = to;
  query.points = points;
  auto agg = param(params, "agg", "mean");
  if (agg == "mean") {
    query.agg = store::HistoryQuery::Agg::Mean;
  } else if (agg == "min") {
    query.agg = store::HistoryQuery::Agg::Min;
  } else if (agg == "max") {
    query.agg = store::HistoryQuery::Agg::Max;
  } else if (agg == "last") {
    query.agg = store::HistoryQuery::Agg::Last;
  } else {
    return bad_request(fmt::format("agg: '{}' is not one of mean, min, max, last", agg));
  }
  auto history = view.store->history(query);
  if (!history) {
    return json_response(ordered_json{{"error", history.error().message}}, 500);
  }
  const auto& h = history.value();
  ordered_json out{{"device", device},
                   {"from", from},
                   {"to", to},
                   {"agg", agg},
                   {"resolution", h.resolution},
                   {"bucket_ms", h.bucket_ms},
                   {"time", h.time_ms}};
  auto columns = ordered_json::object();
  for (std::size_t i = 0; i < fields.size() && i < h.columns.size(); ++i) {
    auto column = ordered_json::array();
    for (const auto& value : h.columns[i]) {
      column.push_back(value ? ordered_json(round3(*value)) : ordered_json(nullptr));
    }
    columns[fields[i]] = std::move(column);
  }
  out["fields"] = std::move(columns);
  return json_response(out);
}

ApiResponse api_energy(const DaemonView& view, const Params& params) {
  if (view.store == nullptr) {
    return json_response(ordered_json{{"error", "the store is off ([store] enabled = false)"}},
                         503);
  }
  auto device = param(params, "device");
  if (!device.empty() && !known_source(view, device)) {
    return json_response(
        ordered_json{{"error", fmt::format("device '{}': no such device or site", device)}}, 404);
  }
  std::vector<std::string> kinds;
  auto period = param(params, "period");
  if (period.empty()) {
    kinds = {"day", "month", "year"};
  } else if (period == "day" || period == "month" || period == "year") {
    kinds = {period};
  } else {
    return bad_request(fmt::format("period: '{}' is not one of day, month, year", period));
  }
  auto from = param(params, "from");
  auto to = param(params, "to");
  for (const auto& [key, value] : {std::pair{"from", from}, std::pair{"to", to}}) {
    if (!value.empty() && !is_period(value)) {
      return bad_request(
          fmt::format("{}: '{}' is not a period; allowed: YYYY, YYYY-MM, YYYY-MM-DD", key, value));
    }
  }
  ordered_json out;
  for (const auto& kind : kinds) {
    auto sources = ordered_json::object();
    for (const auto& row : view.store->energy(device, kind, from, to)) {
      sources[row.source].push_back(ordered_json{{"period", row.period},
                                                 {"generated_kwh", round3(row.generated_kwh)},
                                                 {"consumed_kwh", round3(row.consumed_kwh)}});
    }
    out[kind] = std::move(sources);
  }
  return json_response(out);
}

ApiResponse api_health(const DaemonView& view) {
  // Healthy while every bus has its port and at least one device answers.
  bool healthy = true;
  std::string why = "ok";
  for (const auto& bus : view.buses()) {
    bool any = std::any_of(bus.devices.begin(), bus.devices.end(), [](const auto& d) {
      return d.health == model::Health::Online || d.health == model::Health::Degraded;
    });
    bool polled = std::any_of(bus.devices.begin(), bus.devices.end(),
                              [](const auto& d) { return d.health != model::Health::Unknown; });
    if (polled && !any) {
      healthy = false;
      why = fmt::format("bus {}: no device answers{}", bus.name,
                        bus.link_error.empty() ? "" : " (" + bus.link_error + ")");
      break;
    }
  }
  return {healthy ? 200 : 503, why + "\n", "text/plain"};
}

}  // namespace tracermon::web
