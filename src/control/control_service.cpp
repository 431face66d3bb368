#include "control/control_service.hpp"

#include <algorithm>
#include <sys/timex.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

namespace tracermon::control {

using core::Error;
using core::ErrorKind;
using device::WriteOutcome;

const char* to_string(Source source) {
  switch (source) {
    case Source::Cli:
      return "cli";
    case Source::Http:
      return "http";
    case Source::Mqtt:
      return "mqtt";
    case Source::Auto:
      return "auto";
  }
  return "?";
}

bool host_clock_synchronised() {
  timex tx{};
  int state = ntp_adjtime(&tx);
  return state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}

namespace {

Error bad(std::string message) {
  return Error{ErrorKind::InvalidArgument, std::move(message)};
}

// A JSON value as the text a user would have typed: strings as they are, numbers and booleans
// in their JSON spelling.
std::optional<std::string> value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

int status_of(WriteOutcome outcome, std::uint8_t exception_code, bool read_failed) {
  switch (outcome) {
    case WriteOutcome::Unchanged:
    case WriteOutcome::DryRun:
    case WriteOutcome::Written:
      return 200;
    case WriteOutcome::Refused:
      return read_failed ? 502 : 409;
    case WriteOutcome::Failed:
      return exception_code != 0 ? 409 : 502;
  }
  return 500;
}

}  // namespace

core::Result<Request> parse_request(const nlohmann::json& body) {
  if (!body.is_object()) return bad("the request must be a JSON object");
  Request r;
  auto text = [&](const char* key, std::string& out, bool required) -> std::optional<Error> {
    auto it = body.find(key);
    if (it == body.end()) {
      if (required) return bad(fmt::format("'{}' is missing", key));
      return std::nullopt;
    }
    if (!it->is_string()) return bad(fmt::format("'{}' must be a string", key));
    out = it->get<std::string>();
    return std::nullopt;
  };
  auto flag = [&](const char* key, bool& out) -> std::optional<Error> {
    auto it = body.find(key);
    if (it == body.end()) return std::nullopt;
    if (!it->is_boolean()) return bad(fmt::format("'{}' must be true or false", key));
    out = it->get<bool>();
    return std::nullopt;
  };
  if (auto e = text("action", r.action, true)) return *e;
  if (auto e = text("device", r.device, true)) return *e;
  if (auto e = text("state", r.state, false)) return *e;
  for (const auto& [key, out] :
       {std::pair{"sync", &r.sync}, std::pair{"trust_host_clock", &r.trust_host_clock},
        std::pair{"dry_run", &r.dry_run}, std::pair{"force", &r.force}}) {
    if (auto e = flag(key, *out)) return *e;
  }
  if (auto it = body.find("settings"); it != body.end()) {
    if (!it->is_object()) return bad("'settings' must be an object of setting: value");
    for (const auto& [name, value] : it->items()) {
      auto v = value_text(value);
      if (!v) return bad(fmt::format("settings.{}: the value must be a string or a number", name));
      r.settings.push_back({name, *v});
    }
  }
  static const std::vector<std::string> k_actions = {"set", "load", "clock", "export", "devices"};
  if (std::find(k_actions.begin(), k_actions.end(), r.action) == k_actions.end()) {
    return bad(
        fmt::format("unknown action '{}': use set, load, clock, export or devices", r.action));
  }
  if (r.action == "set" && r.settings.empty()) return bad("'settings' is missing or empty");
  return r;
}

ControlService::ControlService(const protocol::SettingsCatalog& catalog, DeviceAccess& access,
                               store::AuditLog* audit_store, ControlOptions options,
                               device::WallClock wall_clock)
    : m_catalog(catalog),
      m_access(access),
      m_store(audit_store),
      m_options(std::move(options)),
      m_wall_clock(wall_clock ? std::move(wall_clock)
                              : [] { return std::chrono::system_clock::now(); }) {}

std::optional<DeviceRef> ControlService::find(const std::vector<DeviceRef>& devices,
                                              const std::string& name) {
  for (const auto& d : devices) {
    if (d.name == name) return d;
  }
  // A slave id names a device when exactly one has it.
  std::optional<DeviceRef> by_id;
  for (const auto& d : devices) {
    if (std::to_string(d.unit) != name) continue;
    if (by_id) return std::nullopt;
    by_id = d;
  }
  return by_id;
}

std::optional<std::string> ControlService::unsafe(const DeviceRef& d) const {
  if (!d.online) {
    return fmt::format("device {} is offline ({}): nothing written (force to try anyway)", d.name,
                       d.health.empty() ? "no answer lately" : d.health);
  }
  if (d.recent_requests >= m_options.min_requests && d.error_ratio > m_options.max_error_ratio) {
    return fmt::format(
        "the bus of device {} failed {:.0f}% of its last {} requests (limit {:.0f}%): nothing "
        "written (force to try anyway)",
        d.name, d.error_ratio * 100.0, d.recent_requests, m_options.max_error_ratio * 100.0);
  }
  return std::nullopt;
}

void ControlService::record(model::AuditRecord r) {
  r.time = m_wall_clock();
  auto line = fmt::format("control: {} {} {} {} {} -> {}: {}{}", r.source, r.action, r.device,
                          r.setting, r.old_value.empty() ? "?" : r.old_value, r.new_value, r.result,
                          r.message.empty() ? "" : " (" + r.message + ")");
  if (r.result == "written" || r.result == "unchanged") {
    spdlog::info("{}", line);
  } else {
    spdlog::warn("{}", line);
  }
  if (m_store != nullptr) {
    if (auto stored = m_store->append(r); !stored) {
      spdlog::error("control: the audit record could not be stored: {}", stored.error().describe());
    }
  }
  std::lock_guard lock(m_mutex);
  m_recent.push_front(std::move(r));
  while (m_recent.size() > m_options.recent_audit)
    m_recent.pop_back();
}

std::vector<model::AuditRecord> ControlService::audit(std::size_t limit) const {
  if (m_store != nullptr) {
    if (auto rows = m_store->recent(limit)) return rows.value();
  }
  std::lock_guard lock(m_mutex);
  auto n = std::min(limit, m_recent.size());
  return {m_recent.begin(), m_recent.begin() + static_cast<std::ptrdiff_t>(n)};
}

Result ControlService::refuse(const Request& request, int status, std::string error,
                              Source source) {
  Result result;
  result.action = request.action;
  result.device = request.device;
  result.status = status;
  result.error = std::move(error);
  if (request.dry_run || request.action == "export") return result;
  model::AuditRecord r;
  r.source = to_string(source);
  r.device = request.device;
  r.action = request.action;
  r.result = "refused";
  r.message = result.error;
  if (request.action == "set") {
    for (const auto& a : request.settings) {
      r.setting = a.name;
      r.new_value = a.value;
      record(r);
    }
    return result;
  }
  r.setting = request.action == "load" ? "load" : "clock";
  r.new_value = request.action == "load" ? request.state : "host time";
  record(r);
  return result;
}

Result ControlService::handle_json(const nlohmann::json& body, Source source) {
  auto request = parse_request(body);
  if (!request) {
    Result result;
    result.status = 400;
    result.error = request.error().message;
    return result;
  }
  return handle(request.value(), source);
}

Result ControlService::handle(const Request& request, Source source) {
  std::lock_guard serial(m_serial);
  auto devices = m_access.devices();
  if (request.action == "devices") {  // what `clock --all` goes over
    Result result;
    result.action = request.action;
    for (const auto& d : devices)
      result.values.emplace_back(d.name, d.bus);
    return result;
  }
  auto device = find(devices, request.device);
  if (!device) {
    std::vector<std::string> names;
    for (const auto& d : devices)
      names.push_back(d.name);
    return refuse(
        request, 404,
        fmt::format("unknown device '{}' (devices: {})", request.device, fmt::join(names, ", ")),
        source);
  }
  // From here on the device is called by its configured name (a slave id may have named it).
  Request named = request;
  named.device = device->name;
  if (named.action == "export") return export_settings(*device);
  if (named.action == "set") return set(named, source, *device);
  if (named.action == "load") return load(named, source, *device);
  return clock(named, source, *device);
}

Result ControlService::set(const Request& request, Source source, const DeviceRef& device) {
  std::vector<device::SettingChange> changes;
  std::vector<std::string> problems;
  for (const auto& a : request.settings) {
    auto field = m_catalog.find(a.name);
    if (!field) {
      problems.push_back(field.error().message);
      continue;
    }
    auto raw = m_catalog.parse_value(*field.value(), a.value);
    if (!raw) {
      problems.push_back(raw.error().message);
      continue;
    }
    auto same = std::find_if(changes.begin(), changes.end(),
                             [&](const auto& c) { return c.id == field.value()->id; });
    if (same != changes.end()) {
      problems.push_back(fmt::format("{} is given twice", a.name));
      continue;
    }
    changes.push_back({field.value()->id, raw.value()});
  }
  if (!problems.empty()) {
    return refuse(request, 400, fmt::format("{}", fmt::join(problems, "; ")), source);
  }
  return write(request, source, device, changes);
}

Result ControlService::load(const Request& request, Source source, const DeviceRef& device) {
  const auto& map = m_catalog.map();
  auto id = [&](const char* name) { return map.find(name)->id; };
  std::vector<device::SettingChange> changes;
  // on/off: manual mode and the manual switch (coil 2). auto: the light-controlled mode
  // (dusk to dawn), which follows the controller's own night detection.
  if (request.state == "on" || request.state == "off") {
    changes.push_back({id("load_control_mode"), 0});
    changes.push_back({id("manual_load_control"), request.state == "on" ? 1 : 0});
  } else if (request.state == "auto") {
    changes.push_back({id("load_control_mode"), 1});
  } else {
    return refuse(request, 400, fmt::format("load state '{}': use on, off or auto", request.state),
                  source);
  }
  return write(request, source, device, changes);
}

Result ControlService::write(const Request& request, Source source, const DeviceRef& device,
                             const std::vector<device::SettingChange>& changes) {
  if (auto why = unsafe(device); why && !request.force && !request.dry_run) {
    return refuse(request, 409, *why, source);
  }
  device::WriteReport report;
  auto ran = run_writer(device, [&](device::SettingsWriter& writer) {
    report = writer.apply(device.unit, changes, request.dry_run);
  });
  if (!ran) {
    return refuse(request, 503,
                  fmt::format("the bus could not run the write: {}", ran.error().describe()),
                  source);
  }
  Result result;
  result.action = request.action;
  result.device = device.name;
  bool read_failed = report.outcome == WriteOutcome::Refused && report.check.ok();
  result.status = status_of(report.outcome, report.exception_code, read_failed);
  result.error = report.error;
  if (!request.dry_run) {
    const auto& map = m_catalog.map();
    for (const auto& s : report.settings) {
      const auto& f = map.field(s.id);
      model::AuditRecord r;
      r.source = to_string(source);
      r.device = device.name;
      r.action = request.action;
      r.setting = f.name;
      r.old_value = s.before ? m_catalog.plain(f, *s.before) : "";
      r.new_value = m_catalog.plain(f, s.wanted);
      r.result = to_string(report.outcome);
      if (report.outcome == WriteOutcome::Written && s.before == s.wanted) r.result = "unchanged";
      if (report.outcome == WriteOutcome::Failed && s.took()) r.result = "written";
      if (r.result == "failed" || r.result == "refused") r.message = report.error;
      record(std::move(r));
    }
  }
  result.write = std::move(report);
  return result;
}

core::Status ControlService::run_writer(const DeviceRef& device,
                                        const std::function<void(device::SettingsWriter&)>& job) {
  return m_access.run(device, [&](transport::ModbusClient& client) {
    device::SettingsWriter writer(m_catalog, client, device.max_registers);
    job(writer);
  });
}

Result ControlService::clock(const Request& request, Source source, const DeviceRef& device) {
  bool write = request.sync && !request.dry_run;
  if (write) {
    if (auto why = unsafe(device); why && !request.force) return refuse(request, 409, *why, source);
    if (!request.trust_host_clock && !m_options.trust_host_clock &&
        !m_options.host_synchronised()) {
      return refuse(request, 409,
                    "the host clock is not synchronised (NTP): not copying it to the controller; "
                    "trust it explicitly to sync anyway",
                    source);
    }
  }
  device::ClockReport report;
  auto ran = run_writer(device, [&](device::SettingsWriter& writer) {
    report = writer.clock(device.unit, write, m_wall_clock, m_options.clock_tolerance_s);
  });
  if (!ran) {
    return refuse(request, 503,
                  fmt::format("the bus could not run the command: {}", ran.error().describe()),
                  source);
  }
  Result result;
  result.action = request.action;
  result.device = device.name;
  result.status = report.ok() ? 200 : 502;
  result.error = report.error;
  if (write) {
    model::AuditRecord r;
    r.source = to_string(source);
    r.device = device.name;
    r.action = "clock";
    r.setting = "clock";
    r.old_value = report.before ? report.before->iso8601() : "";
    r.new_value = report.host ? report.host->iso8601() : "";
    r.result = to_string(report.outcome);
    r.message = report.ok() ? fmt::format("drift was {:+.0f} s", report.drift_s) : report.error;
    record(std::move(r));
  }
  result.clock = report;
  return result;
}

Result ControlService::export_settings(const DeviceRef& device) {
  Result result;
  result.action = "export";
  result.device = device.name;
  auto fields = m_catalog.settable();
  // Optional fields (0x901B-0x901D on the LS-B only) are read one by one, so a model without
  // them still exports the rest.
  std::vector<protocol::FieldId> common, optional;
  for (auto id : fields)
    (m_catalog.map().field(id).optional ? optional : common).push_back(id);
  protocol::RegisterImage values;
  std::string failure;
  auto ran = run_writer(device, [&](device::SettingsWriter& writer) {
    auto read = writer.read(device.unit, common);
    if (!read) {
      failure = read.error().describe();
      return;
    }
    values = read.value();
    for (auto id : optional) {
      if (auto one = writer.read(device.unit, {id})) values.merge(one.value());
    }
  });
  if (!ran) {
    result.status = 503;
    result.error = fmt::format("the bus could not run the read: {}", ran.error().describe());
    return result;
  }
  if (!failure.empty()) {
    result.status = 502;
    result.error = fmt::format("cannot read the settings: {}", failure);
    return result;
  }
  for (auto id : fields) {
    const auto& f = m_catalog.map().field(id);
    if (auto raw = protocol::get_raw(values, f))
      result.values.emplace_back(f.name, m_catalog.plain(f, *raw));
  }
  return result;
}

// --- presentation ---------------------------------------------------------------------------

nlohmann::ordered_json to_json(const protocol::SettingsCatalog& catalog, const Result& result) {
  const auto& map = catalog.map();
  nlohmann::ordered_json out;
  out["ok"] = result.ok();
  out["action"] = result.action;
  out["device"] = result.device;
  if (result.write) {
    const auto& w = *result.write;
    out["outcome"] = to_string(w.outcome);
    auto changes = nlohmann::ordered_json::array();
    for (const auto& s : w.settings) {
      const auto& f = map.field(s.id);
      nlohmann::ordered_json c;
      c["setting"] = f.name;
      c["unit"] = f.unit;
      c["old"] = s.before ? nlohmann::ordered_json(catalog.plain(f, *s.before)) : nullptr;
      c["new"] = catalog.plain(f, s.wanted);
      c["after"] = s.after ? nlohmann::ordered_json(catalog.plain(f, *s.after)) : nullptr;
      // For people: "1 (Sealed (AGM))", "14.4 V", "on".
      c["old_text"] = s.before ? nlohmann::ordered_json(catalog.describe(f, *s.before)) : nullptr;
      c["new_text"] = catalog.describe(f, s.wanted);
      c["took"] = s.took();
      changes.push_back(c);
    }
    out["changes"] = changes;
    out["violations"] = w.check.violations;
    out["notes"] = w.check.notes;
    out["sent"] = w.sent;
  }
  if (result.clock) {
    const auto& c = *result.clock;
    out["outcome"] = to_string(c.outcome);
    nlohmann::ordered_json clock;
    clock["controller"] = c.before ? nlohmann::ordered_json(c.before->iso8601()) : nullptr;
    clock["host"] = c.host ? nlohmann::ordered_json(c.host->iso8601()) : nullptr;
    clock["drift_s"] = c.drift_s;
    clock["after"] = c.after ? nlohmann::ordered_json(c.after->iso8601()) : nullptr;
    clock["drift_after_s"] = c.drift_after_s;
    out["clock"] = clock;
  }
  if (result.action == "devices") {
    auto names = nlohmann::ordered_json::array();
    for (const auto& [name, bus] : result.values)
      names.push_back(name);
    out["devices"] = names;
  }
  if (result.action == "export" && result.ok()) {
    auto values = nlohmann::ordered_json::object();
    for (const auto& [name, value] : result.values)
      values[name] = value;
    out["settings"] = values;
  }
  if (!result.error.empty()) out["error"] = result.error;
  return out;
}

nlohmann::ordered_json to_json(const model::AuditRecord& r) {
  nlohmann::ordered_json out;
  out["time"] = core::rfc3339(r.time);
  out["source"] = r.source;
  out["device"] = r.device;
  out["action"] = r.action;
  out["setting"] = r.setting;
  out["old"] = r.old_value;
  out["new"] = r.new_value;
  out["result"] = r.result;
  out["message"] = r.message;
  return out;
}

}  // namespace tracermon::control
