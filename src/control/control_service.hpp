#pragma once
// Every write to a controller goes through here, whoever asks (CLI, HTTP, MQTT, the daemon's
// own clock sync): the request is parsed and checked (settings, values, ranges), refused when
// the device is offline or its bus is failing (unless forced), run as one job on the device's
// bus (device/settings_writer.hpp: fresh read, rules, write, read-back), and audited: every
// write and every refusal, in the log, the store and the recent list behind
// /api/v1/control/log.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/device_access.hpp"
#include "device/settings_writer.hpp"
#include "model/audit_record.hpp"
#include "protocol/settings.hpp"
#include "store/audit_log.hpp"

namespace tracermon::control {

enum class Source : std::uint8_t { Cli, Http, Mqtt, Auto };
const char* to_string(Source source);

struct Assignment {
  std::string name;
  std::string value;  // as typed: "28.8V", "user", "on"
};

struct Request {
  std::string action;  // set, load, clock, export
  std::string device;
  std::vector<Assignment> settings;  // set
  std::string state;                 // load: on, off, auto
  bool sync = false;                 // clock: write the host's time
  bool trust_host_clock = false;     // clock: sync although NTP is not synchronised
  bool dry_run = false;
  bool force = false;  // past the offline and bus-error refusals (never past the rules)
};

// A request from JSON (HTTP body, local socket line, MQTT): InvalidArgument naming the field.
core::Result<Request> parse_request(const nlohmann::json& body);

struct Result {
  int status = 200;  // as HTTP: 200 done, 400 bad request, 404 unknown device, 409 refused,
                     // 502 the device failed it, 503 the bus could not run it
  std::string action;
  std::string device;
  std::string error;
  std::optional<device::WriteReport> write;
  std::optional<device::ClockReport> clock;
  std::vector<std::pair<std::string, std::string>> values;  // export: setting -> value
  [[nodiscard]] bool ok() const { return status == 200; }
};

// Whether the kernel says the system clock is synchronised (NTP, chrony, timesyncd).
bool host_clock_synchronised();

struct ControlOptions {
  double max_error_ratio = 0.2;     // refuse above this share of failed requests lately
  std::uint64_t min_requests = 20;  // ... once there were this many
  bool trust_host_clock = false;    // the host clock is right without NTP (config)
  double clock_tolerance_s = 2.0;   // a clock this close is not written
  std::size_t recent_audit = 200;   // kept in memory for /api/v1/control/log
  std::function<bool()> host_synchronised = host_clock_synchronised;  // tests replace it
};

class ControlService {
 public:
  // `audit_store` may be null (no store configured): records then go to the log and the
  // in-memory list only.
  ControlService(const protocol::SettingsCatalog& catalog, DeviceAccess& access,
                 store::AuditLog* audit_store, ControlOptions options = {},
                 device::WallClock wall_clock = {});

  Result handle(const Request& request, Source source);
  // The JSON form of a request and its result (HTTP, local socket).
  Result handle_json(const nlohmann::json& body, Source source);

  // The newest audit records, newest first.
  [[nodiscard]] std::vector<model::AuditRecord> audit(std::size_t limit) const;
  [[nodiscard]] const protocol::SettingsCatalog& catalog() const { return m_catalog; }

 private:
  Result set(const Request& request, Source source, const DeviceRef& device);
  Result load(const Request& request, Source source, const DeviceRef& device);
  Result clock(const Request& request, Source source, const DeviceRef& device);
  Result export_settings(const DeviceRef& device);
  Result write(const Request& request, Source source, const DeviceRef& device,
               const std::vector<device::SettingChange>& changes);
  // The device `name` calls: its configured name, or a slave id only one device has.
  [[nodiscard]] static std::optional<DeviceRef> find(const std::vector<DeviceRef>& devices,
                                                     const std::string& name);
  // The refusal when the device should not be written now, unless forced.
  [[nodiscard]] std::optional<std::string> unsafe(const DeviceRef& device) const;
  // `job` on the device's bus worker with a settings writer for that device.
  core::Status run_writer(const DeviceRef& device,
                          const std::function<void(device::SettingsWriter&)>& job);
  void record(model::AuditRecord record);
  // The answer to `request` refused with `status` and `error`, audited (a write's refusal).
  Result refuse(const Request& request, int status, std::string error, Source source);

  const protocol::SettingsCatalog& m_catalog;
  DeviceAccess& m_access;
  store::AuditLog* m_store;
  ControlOptions m_options;
  device::WallClock m_wall_clock;
  mutable std::mutex m_mutex;  // guards m_recent; one request at a time per service
  std::mutex m_serial;         // requests run one after another (the bus does anyway)
  std::deque<model::AuditRecord> m_recent;
};

// The result as JSON: {"ok", "action", "device", "outcome", "changes": [{setting, unit, old,
// new, after, took}], "violations", "notes", "sent", "clock": {...}, "settings": {...},
// "error"}.
nlohmann::ordered_json to_json(const protocol::SettingsCatalog& catalog, const Result& result);
nlohmann::ordered_json to_json(const model::AuditRecord& record);

}  // namespace tracermon::control
