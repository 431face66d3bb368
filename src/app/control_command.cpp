// `tracermon set`, `load`, `clock` and `settings export|apply`: writes to controllers. With a
// running daemon they go through its local socket (it owns the bus); without one they open the
// port themselves. Either way the same control service does the checks, the write, the
// read-back and the audit (docs/control.md).

#include <cerrno>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/control_socket.hpp"
#include "app/daemon_lookup.hpp"
#include "app/settings_file.hpp"
#include "control/control_service.hpp"
#include "store/audit_log.hpp"

namespace tracermon::app {

namespace {

constexpr int k_exit_refused = 4;

struct ControlArgs {
  LinkOptions link;
  std::string config;  // device names and buses from a daemon configuration
  bool json = false;
  bool force = false;
  bool yes = false;
  bool dry_run = false;
};

// The devices of a CLI without a daemon: one port, opened here.
class DirectAccess : public control::DeviceAccess {
 public:
  DirectAccess(std::unique_ptr<transport::ModbusClient> client,
               std::vector<control::DeviceRef> devices)
      : m_client(std::move(client)), m_devices(std::move(devices)) {}
  [[nodiscard]] std::vector<control::DeviceRef> devices() const override { return m_devices; }
  core::Status run(const control::DeviceRef&, const control::BusJob& job) override {
    job(*m_client);
    return core::Ok{};
  }

 private:
  std::unique_ptr<transport::ModbusClient> m_client;
  std::vector<control::DeviceRef> m_devices;
};

std::filesystem::path runtime_dir(const ControlArgs& args,
                                  const std::optional<DaemonConfig>& config) {
  if (!args.link.runtime_dir.empty()) return args.link.runtime_dir;
  if (config) return config->runtime_dir;
  return default_runtime_dir();
}

// Runs `request` where the bus is: the daemon's socket, else a port of our own.
nlohmann::json perform(const ControlArgs& args, const nlohmann::json& request) {
  std::optional<DaemonConfig> config;
  if (!args.config.empty()) config = load_config(args.config);
  auto socket = runtime_dir(args, config) / "control.sock";
  if (std::filesystem::exists(socket)) {
    try {
      return ask_daemon(socket, request);
    } catch (const DaemonUnreachable& e) {
      // A socket file nobody listens on is a daemon that died: go on without it. Any other
      // failure is the answer (not a fallback to a port the daemon may hold).
      if (e.error != ECONNREFUSED && e.error != ENOENT) {
        return {{"ok", false},
                {"status", e.error == EACCES ? 403 : 503},
                {"error", e.error == EACCES ? fmt::format("{} (the socket admits root, the "
                                                          "daemon's user and its group's members)",
                                                          e.what())
                                            : std::string(e.what())}};
      }
    } catch (const std::exception& e) {  // connected, but no answer or garbage
      return {{"ok", false}, {"status", 503}, {"error", std::string(e.what())}};
    }
  }
  // No daemon: the device is a configured name (with --config) or a slave id on --port.
  const auto device = request.value("device", std::string());
  std::unique_ptr<transport::ModbusClient> client;
  std::vector<control::DeviceRef> devices;
  std::unique_ptr<store::AuditLog> audit;
  if (config) {
    if (request.value("action", "") == "devices") {  // every bus's, without opening a port
      auto list = nlohmann::json::array();
      for (const auto& b : config->buses) {
        for (const auto& d : b.devices)
          list.push_back(d.name);
      }
      return {{"ok", true}, {"status", 200}, {"devices", list}};
    }
    const BusConfig* bus = nullptr;
    for (const auto& b : config->buses) {
      for (const auto& d : b.devices) {
        bool wanted = device == "*" || d.name == device || std::to_string(d.id) == device;
        if (!wanted || (bus != nullptr && bus != &b)) continue;
        bus = &b;
        devices.push_back({d.name, d.id, b.name, true, "", 0, 0, b.max_registers});
      }
    }
    if (bus == nullptr) {
      throw UsageError(fmt::format("no device '{}' in {}", device, args.config));
    }
    args.link.check_no_daemon(bus->port);
    client = transport::make_client(bus->port, bus->serial, bus->client);
    if (config->store.enabled) {
      try {
        audit = std::make_unique<store::AuditLog>(config->store.path.parent_path() / "audit.db");
      } catch (const std::exception&) {  // not ours to write (another user): the log only
      }
    }
  } else {
    auto port = args.link.port_spec();
    args.link.check_no_daemon(port);
    if (device != "*") {
      auto ids = parse_ids(device);
      for (auto id : ids) {
        devices.push_back({std::to_string(id), id, port.to_string(), true, "", 0, 0,
                           static_cast<std::uint16_t>(args.link.max_registers)});
      }
    }
    client = transport::make_client(port, args.link.serial(), args.link.client());
  }
  if (auto opened = client->open(); !opened) {
    return {{"ok", false},
            {"status", 503},
            {"device", device},
            {"error",
             fmt::format("cannot open {}: {}", client->describe(), opened.error().describe())}};
  }
  // The result is printed; the audit's log lines would only repeat it on stderr.
  spdlog::set_level(spdlog::level::err);
  DirectAccess access(std::move(client), devices);
  control::ControlService service(protocol::SettingsCatalog::builtin(), access, audit.get());
  auto result = service.handle_json(request, control::Source::Cli);
  auto out = control::to_json(service.catalog(), result);
  out["status"] = result.status;
  return out;
}

int exit_status(const nlohmann::json& reply) {
  int status = reply.value("status", 500);
  if (status == 200) return k_exit_ok;
  if (status == 400 || status == 404) return k_exit_usage;
  if (status == 409) return k_exit_refused;
  return k_exit_comm;
}

std::string text_of(const nlohmann::json& v) {
  if (v.is_null()) return "?";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The result for a person: one line per setting, the checks, what was sent, the error.
void print(const nlohmann::json& reply) {
  auto device = reply.value("device", std::string());
  if (reply.contains("changes")) {
    for (const auto& c : reply["changes"]) {
      auto unit = c.value("unit", std::string());
      auto with_unit = [&](const nlohmann::json& v) {
        return v.is_null() || unit.empty() ? text_of(v) : text_of(v) + " " + unit;
      };
      auto shown = [&](const char* key, const char* text_key) {
        return c.contains(text_key) ? text_of(c[text_key]) : with_unit(c[key]);
      };
      std::string state;
      auto outcome = reply.value("outcome", std::string());
      bool same = c["old"] == c["new"];
      if (outcome == "written" || outcome == "failed") {
        state = c.value("took", false) ? (same ? "unchanged" : "written") : "NOT TAKEN";
      } else {
        state = same ? "unchanged" : outcome;
      }
      std::cout << fmt::format("{}  {:<40} {} -> {}  [{}]\n", device, text_of(c["setting"]),
                               shown("old", "old_text"), shown("new", "new_text"), state);
    }
    for (const auto& v : reply.value("violations", nlohmann::json::array()))
      std::cout << fmt::format("{}  rule broken: {}\n", device, text_of(v));
    for (const auto& n : reply.value("notes", nlohmann::json::array()))
      std::cout << fmt::format("{}  note: {}\n", device, text_of(n));
    for (const auto& s : reply.value("sent", nlohmann::json::array()))
      std::cout << fmt::format("{}  request: {}\n", device, text_of(s));
  }
  if (reply.contains("clock")) {
    const auto& c = reply["clock"];
    std::cout << fmt::format("{}  controller {}  host {}  drift {:+.0f} s\n", device,
                             text_of(c["controller"]), text_of(c["host"]), c.value("drift_s", 0.0));
    if (reply.value("outcome", std::string()) == "written") {
      std::cout << fmt::format("{}  synchronised: now {} (drift {:+.0f} s)\n", device,
                               text_of(c["after"]), c.value("drift_after_s", 0.0));
    }
  }
  if (reply.contains("error")) {
    std::cerr << fmt::format("tracermon: {}{}\n", device.empty() ? "" : device + ": ",
                             text_of(reply["error"]));
  }
}

int report(const ControlArgs& args, const nlohmann::json& reply) {
  if (args.json) {
    std::cout << reply.dump() << '\n';
  } else {
    print(reply);
  }
  return exit_status(reply);
}

nlohmann::json base_request(const ControlArgs& args, const char* action,
                            const std::string& device) {
  return {{"action", action}, {"device", device}, {"force", args.force}};
}

void add_common(CLI::App& cmd, ControlArgs& args, bool writes) {
  args.link.add_to(cmd);
  cmd.add_option("--config", args.config,
                 "A daemon configuration: device names, their buses and the runtime dir");
  cmd.add_flag("--json", args.json, "The result as one JSON object per device");
  if (writes) {
    cmd.add_flag("--force", args.force,
                 "Write although the device is offline or its bus failing (never past the rules)");
  }
}

// --- set ------------------------------------------------------------------------------------

struct SetArgs : ControlArgs {
  std::string device;
  std::vector<std::string> assignments;
  bool list = false;
};

int run_set(const SetArgs& args) {
  const auto& catalog = protocol::SettingsCatalog::builtin();
  if (args.list) {
    for (auto id : catalog.settable()) {
      const auto& f = catalog.map().field(id);
      const auto* spec = catalog.spec(id);
      std::cout << fmt::format("{:<42} {:<8} {} .. {}  {}\n", f.name, f.unit,
                               catalog.plain(f, spec->min_raw), catalog.plain(f, spec->max_raw),
                               f.description);
    }
    return k_exit_ok;
  }
  if (args.device.empty() || args.assignments.empty()) {
    throw UsageError("usage: tracermon set DEVICE NAME=VALUE... [--yes | --dry-run]");
  }
  auto request = base_request(args, "set", args.device);
  auto settings = nlohmann::json::object();
  for (const auto& a : args.assignments) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(fmt::format("'{}': write NAME=VALUE, e.g. boost_charging_voltage=14.4V", a));
    }
    auto name = a.substr(0, eq);
    if (settings.contains(name)) throw UsageError(fmt::format("{} is given twice", name));
    settings[name] = a.substr(eq + 1);
  }
  request["settings"] = settings;
  bool preview = args.dry_run || !args.yes;
  request["dry_run"] = preview;
  auto reply = perform(args, request);
  int status = report(args, reply);
  if (status == k_exit_ok && preview && reply.value("outcome", "") == "dry-run" && !args.json) {
    std::cerr << "tracermon: nothing written (a preview): add --yes to write\n";
  }
  return status;
}

// --- load -----------------------------------------------------------------------------------

struct LoadArgs : ControlArgs {
  std::string device;
  std::string state;
};

int run_load(const LoadArgs& args) {
  if (args.state != "on" && args.state != "off" && args.state != "auto") {
    throw UsageError(fmt::format("load state '{}': use on, off or auto", args.state));
  }
  auto request = base_request(args, "load", args.device);
  request["state"] = args.state;
  request["dry_run"] = args.dry_run;
  return report(args, perform(args, request));
}

// --- clock ----------------------------------------------------------------------------------

struct ClockArgs : ControlArgs {
  std::string device;
  bool all = false;
  bool sync = false;
  bool trust = false;
};

int run_clock(const ClockArgs& args) {
  if (args.all == !args.device.empty()) throw UsageError("give one DEVICE or --all");
  std::vector<std::string> devices{args.device};
  if (args.all) {
    auto listed = perform(args, {{"action", "devices"}, {"device", "*"}});
    if (!listed.value("ok", false)) return report(args, listed);
    if (listed["devices"].empty()) {  // --port alone names no devices: say so, not silence
      throw UsageError(
          "--all: no devices to list; it needs a running daemon (--runtime-dir) or --config");
    }
    devices.clear();
    for (const auto& d : listed["devices"])
      devices.push_back(d.get<std::string>());
  }
  int status = k_exit_ok;
  for (const auto& device : devices) {
    auto request = base_request(args, "clock", device);
    request["sync"] = args.sync;
    request["trust_host_clock"] = args.trust;
    status = std::max(status, report(args, perform(args, request)));
  }
  return status;
}

// --- settings export / apply ----------------------------------------------------------------

struct SettingsArgs : ControlArgs {
  std::string device;
  std::string file;
  std::vector<std::string> devices;
};

// A TOML basic string. Unquoted, "10:00" (length_of_night) would be a TOML time without its
// seconds, and `settings apply` would refuse the whole file.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + '"';
}

int run_export(const SettingsArgs& args) {
  auto reply = perform(args, base_request(args, "export", args.device));
  if (!reply.value("ok", false) || args.json) return report(args, reply);
  const auto& catalog = protocol::SettingsCatalog::builtin();
  std::cout << fmt::format(
      "# tracermon settings of {}, read {}.\n# Apply to other controllers with `tracermon "
      "settings apply FILE DEVICE... --yes`.\n# Battery voltages are per 12 V block.\n"
      "[settings]\n",
      reply.value("device", ""), rfc3339(std::chrono::system_clock::now()));
  for (const auto& [name, value] : reply["settings"].items()) {
    const auto* field = catalog.map().find(name);
    if (field == nullptr || field->is_bit()) continue;  // coils are states, not settings
    auto text = value.get<std::string>();
    bool number = !text.empty() && text.find_first_not_of("-0123456789.") == std::string::npos;
    std::cout << fmt::format("{} = {}{}\n", name, number ? text : toml_string(text),
                             field->unit.empty() ? "" : fmt::format("  # {}", field->unit));
  }
  return k_exit_ok;
}

int run_apply(const SettingsArgs& args) {
  auto file = read_settings_file(args.file);
  auto settings = nlohmann::json::object();
  for (const auto& a : file.settings) {
    if (settings.contains(a.name)) {
      throw UsageError(fmt::format("{}: {} is given twice", args.file, a.name));
    }
    settings[a.name] = a.value;
  }
  if (!file.dropped.empty() && !args.json) {
    std::cerr << fmt::format(
        "tracermon: {}: the battery type is a preset, so its voltages are left to the "
        "controller: {}\n",
        args.file, fmt::join(file.dropped, ", "));
  }
  bool preview = args.dry_run || !args.yes;
  int status = k_exit_ok;
  for (const auto& device : args.devices) {
    auto request = base_request(args, "set", device);
    request["settings"] = settings;
    request["dry_run"] = preview;
    status = std::max(status, report(args, perform(args, request)));
  }
  if (status == k_exit_ok && preview && !args.json) {
    std::cerr << "tracermon: nothing written (a preview): add --yes to write\n";
  }
  return status;
}

}  // namespace

Command add_set_command(CLI::App& app) {
  auto args = std::make_shared<SetArgs>();
  auto* cmd = app.add_subcommand(
      "set", "Write settings to a controller: previews unless --yes (docs/control.md)");
  add_common(*cmd, *args, true);
  cmd->add_flag("--yes", args->yes, "Write (without it: show old -> new and the checks only)");
  cmd->add_flag("--dry-run", args->dry_run, "Never write, even with --yes");
  cmd->add_flag("--list", args->list, "List the settings, their units and allowed ranges");
  cmd->add_option("device", args->device, "A configured device name, or a slave id with --port");
  cmd->add_option("assignments", args->assignments,
                  "NAME=VALUE... (registers.csv names; units allowed: 14.4V, 200Ah)");
  return [args] { return run_set(*args); };
}

Command add_load_command(CLI::App& app) {
  auto args = std::make_shared<LoadArgs>();
  auto* cmd = app.add_subcommand("load", "Switch a controller's load output on, off or to auto");
  add_common(*cmd, *args, true);
  cmd->add_flag("--dry-run", args->dry_run, "Show what would be written");
  cmd->add_option("device", args->device, "A configured device name, or a slave id")->required();
  cmd->add_option("state", args->state, "on, off (manual mode) or auto (dusk to dawn)")->required();
  return [args] { return run_load(*args); };
}

Command add_clock_command(CLI::App& app) {
  auto args = std::make_shared<ClockArgs>();
  auto* cmd = app.add_subcommand("clock", "Show a controller clock's drift; --sync sets it");
  add_common(*cmd, *args, true);
  cmd->add_option("device", args->device, "A configured device name, or a slave id");
  cmd->add_flag("--all", args->all, "Every device (of the daemon or --config)");
  cmd->add_flag("--sync", args->sync, "Write the host's time (only when NTP-synchronised)");
  cmd->add_flag("--trust-host-clock", args->trust,
                "Sync although the host clock is not NTP-synchronised");
  return [args] { return run_clock(*args); };
}

Command add_settings_command(CLI::App& app) {
  auto args = std::make_shared<SettingsArgs>();
  auto* cmd = app.add_subcommand("settings", "Export a controller's settings or apply a file");
  cmd->require_subcommand(1);
  auto* exp = cmd->add_subcommand("export", "Print the settings as TOML (for apply)");
  add_common(*exp, *args, false);
  exp->add_option("device", args->device, "A configured device name, or a slave id")->required();
  auto* apply = cmd->add_subcommand("apply", "Write a settings file to controllers (clone)");
  add_common(*apply, *args, true);
  apply->add_flag("--yes", args->yes, "Write (without it: preview only)");
  apply->add_flag("--dry-run", args->dry_run, "Never write, even with --yes");
  apply->add_option("file", args->file, "A file from `settings export`")->required();
  apply->add_option("devices", args->devices, "Devices to apply it to")->required();
  return [args, exp] { return exp->parsed() ? run_export(*args) : run_apply(*args); };
}

}  // namespace tracermon::app
