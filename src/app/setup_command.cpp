// `tracermon setup`: the first-run helper. Finds the serial adapters, probes them for
// controllers, writes a commented configuration and, with --enable, starts the service.
// `--from-legacy DIR` moves the old script tool's cron job and influx.db over.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/daemon_lookup.hpp"
#include "app/probe.hpp"
#include "app/serial_adapters.hpp"
#include "app/setup_config.hpp"
#include "app/setup_install.hpp"
#include "app/setup_legacy.hpp"
#include "core/wall_time.hpp"

namespace tracermon::app {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_service = "tracermon.service";
constexpr std::string_view k_service_config = "/etc/tracermon/tracermon.toml";
// setup could not write the configuration or start the service.
constexpr int k_exit_failed = 1;

struct SetupArgs {
  std::string config{k_service_config};
  std::string ids = "1-16";
  CLI::Option* ids_option = nullptr;
  // The vendor's documents (MODBUS-Protocol-v25, V2.3, LS-B V1.1) name 115200 baud only.
  std::string bauds = "115200";
  int timeout_ms = 200;
  bool print = false;
  bool yes = false;
  bool enable = false;
  std::string from_legacy;
  std::string crontab;
  DeviceRoots roots;
};

std::vector<int> parse_bauds(const std::string& text) {
  std::vector<int> bauds;
  for (const auto& part : CLI::detail::split(text, ',')) {
    try {
      std::size_t end = 0;
      int baud = std::stoi(part, &end);
      if (end != part.size()) throw std::invalid_argument(part);
      transport::check_baud(baud);
      if (std::find(bauds.begin(), bauds.end(), baud) == bauds.end()) bauds.push_back(baud);
    } catch (const std::exception&) {
      throw UsageError(
          fmt::format("--bauds: '{}' in '{}' is not a baud rate (1200-921600, e.g. "
                      "115200,9600)",
                      part, text));
    }
  }
  if (bauds.empty()) throw UsageError("--bauds is empty");
  return bauds;
}

std::string now_text() {
  return core::local_text(std::chrono::system_clock::now(), "%Y-%m-%d %H:%M %Z");
}

// "1-16" for a run of ids, else "1,2,5".
std::string ids_text(const std::vector<std::uint8_t>& ids) {
  bool run = ids.size() > 2;
  for (std::size_t i = 1; run && i < ids.size(); ++i)
    run = ids[i] == ids[i - 1] + 1;
  if (run) return fmt::format("{}-{}", ids.front(), ids.back());
  return fmt::format("{}", fmt::join(ids, ","));
}

struct ProbeResult {
  int baud = 0;
  std::vector<ProbedController> found;
  bool rs485 = false;  // answered with the adapter in RS-485 mode
};

// The vendor's cable (Exar XR21B1411) under the mainline xr_serial driver sends nothing on the
// bus until it is switched to RS-485 mode; its old out-of-tree driver did that by itself.
bool wants_rs485(const SerialAdapter& adapter) {
  return adapter.usb && adapter.usb->driver == "xr_serial";
}

// Probes one adapter: each baud in turn until controllers answer. Nothing when the daemon
// polls the port or it cannot be opened (said on `out`).
std::optional<ProbeResult> probe_adapter(const SerialAdapter& adapter,
                                         const std::vector<std::uint8_t>& ids,
                                         const std::vector<int>& bauds, int timeout_ms,
                                         std::ostream& out, bool& held_by_daemon) {
  const auto& map = protocol::RegisterMap::builtin();
  auto port = transport::parse_port(adapter.path);
  if (auto daemon = daemon_holding(default_runtime_dir(), port)) {
    out << fmt::format(
        "  {}: not probed: the tracermon daemon (pid {}, config {}) polls it; stop it "
        "(systemctl stop tracermon) to include it\n",
        adapter.path, daemon->pid, daemon->config);
    held_by_daemon = true;
    return std::nullopt;
  }
  transport::ClientOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.retries = 0;
  bool rs485 = wants_rs485(adapter);
  for (int baud : bauds) {
    auto connect = [&] {
      transport::SerialSettings serial;
      serial.baud = baud;
      serial.rs485 = rs485;
      auto client = transport::make_client(port, serial, options);
      client->options().sync_first = false;  // most ids are absent: no sync before each
      return client;
    };
    auto client = connect();
    auto opened = client->open();
    if (!opened && rs485) {
      // A kernel whose xr_serial predates RS-485 support: the cable may still work as it is.
      out << fmt::format("  {}: {}; probing without it\n", adapter.path, opened.error().describe());
      rs485 = false;
      client = connect();
      opened = client->open();
    }
    if (!opened) {
      out << fmt::format("  {}: cannot open: {}\n", adapter.path, opened.error().describe());
      return std::nullopt;
    }
    out << fmt::format("  {} at {} baud: ", adapter.path, baud) << std::flush;
    auto show = [&](const ProbedController& f) {
      out << fmt::format("\n    id {:>3}  {:<16} {}", f.id, model_text(f),
                         f.identity ? f.identity->revision : "")
          << std::flush;
    };
    auto found = probe_controllers(map, *client, 20, ids, show);
    if (found.empty()) {
      out << "nothing answered\n";
      continue;
    }
    out << fmt::format("\n    {} controller(s)\n", found.size());
    return ProbeResult{baud, std::move(found), rs485};
  }
  return std::nullopt;
}

SetupDevice device_of(const protocol::RegisterMap& map, const ProbedController& f) {
  SetupDevice device;
  device.id = f.id;
  if (f.identity) device.model = f.identity->product_code;
  device.comment = fmt::format("{} {}, PV {}", rated_text(map, f, "battery_rated_voltage"),
                               rated_text(map, f, "battery_rated_current"),
                               rated_text(map, f, "pv_rated_voltage"));
  if (f.identity && !f.identity->revision.empty()) {
    device.comment += ", firmware " + f.identity->revision;
  }
  return device;
}

void say_what_was_looked_for(const SetupArgs& args, const std::vector<SerialAdapter>& adapters,
                             const std::vector<std::uint8_t>& ids, const std::vector<int>& bauds,
                             std::ostream& out) {
  out << "\nNo controller answered.\n";
  std::vector<std::string> patterns;
  for (auto prefix : k_tty_prefixes)
    patterns.push_back((args.roots.dev / (std::string(prefix) + "*")).string());
  out << fmt::format("Looked for adapters in {} and at {}: {} found.\n",
                     (args.roots.dev / "serial" / "by-id").string(), fmt::join(patterns, ", "),
                     adapters.size());
  if (!adapters.empty()) {
    out << fmt::format("Probed ids {} at {} baud, {} ms per id.\n", ids_text(ids),
                       fmt::join(bauds, ", "), args.timeout_ms);
    out << "Check the cable (swap A and B), the controller's id (MT50 menu) and try\n"
           "--ids 1-247 or --bauds 115200,9600,19200,57600.\n";
  } else {
    out << "Plug in the RS-485 adapter (the EPEVER USB cable, CH340, FTDI, CP210x) and run "
           "setup again; `dmesg` tells whether the kernel saw it.\n";
  }
  out << "Without hardware, try the simulator: `tracermon demo` (three simulated controllers, "
         "a dashboard at http://127.0.0.1:8080/) or `tracermon scan -p 'sim:ids=1,2,3'`.\n";
}

// The legacy plan's ids that no probe found go to the first bus, so the config reads what the
// old cron job read.
void add_missing_legacy_ids(const LegacyPlan& plan, const std::vector<SerialAdapter>& adapters,
                            std::vector<SetupBus>& buses, std::ostream& out) {
  if (buses.empty()) {
    // The old tool's fixed port, by its stable name when it has one.
    std::string port{k_legacy_port};
    for (const auto& adapter : adapters) {
      if (adapter.stable && adapter.tty == fs::path(k_legacy_port).filename()) port = adapter.path;
    }
    out << fmt::format("No controller answered: the config uses the old tool's port {}.\n", port);
    buses.push_back({"bus1", port, 115200, "The old tool's fixed port (logtracer.py)", {}, false});
  }
  for (auto id : plan.ids) {
    bool present = std::any_of(buses.begin(), buses.end(), [&](const SetupBus& bus) {
      return std::any_of(bus.devices.begin(), bus.devices.end(),
                         [&](const SetupDevice& d) { return d.id == id; });
    });
    if (present) continue;
    out << fmt::format("Id {} of the cron job did not answer: it is in the config anyway.\n", id);
    buses.front().devices.push_back({id, "", "", "did not answer during setup"});
  }
}

std::string device_name_of(const std::vector<SetupBus>& buses, std::uint8_t id) {
  for (const auto& bus : buses) {
    for (const auto& device : bus.devices) {
      if (device.id == id) return device.name;
    }
  }
  return {};
}

void print_legacy_plan(const LegacyPlan& plan, std::ostream& out) {
  out << fmt::format("The old tool's cron job ({}):\n", plan.crontab.string());
  for (const auto& job : plan.jobs) {
    auto what = job.mode == LegacyMode::DbSnap     ? std::string("dbsnap")
                : job.mode == LegacyMode::FileSnap ? std::string("filesnap")
                                                   : "check " + job.check;
    out << fmt::format("  line {}: ids {}, {}, every {}{}\n", job.line, ids_text(job.ids), what,
                       format_duration(job.interval),
                       job.notes.empty() ? "" : fmt::format(" ({})", fmt::join(job.notes, "; ")));
    if (job.mode == LegacyMode::Check) {
      out << fmt::format("    not moved over: `tracermon get DEVICE {}` reads it from the daemon\n",
                         job.check);
    }
  }
  if (plan.influx) {
    out << fmt::format("  {}: InfluxDB {}:{}, database {}, measurement {}\n",
                       plan.influx_file.string(), plan.influx->host, plan.influx->port,
                       plan.influx->database, plan.influx->measurement);
  }
}

SetupConfig legacy_settings(const LegacyPlan& plan, std::vector<SetupBus> buses) {
  SetupConfig config;
  config.buses = std::move(buses);
  if (plan.filesnap) config.filesnap = "/tmp/ep_tracer_{id}.log";
  if (plan.dbsnap && plan.influx) {
    LegacyInflux influx;
    influx.ini = *plan.influx;
    influx.source = fmt::format("{} and line {} of {}", plan.influx_file.string(),
                                plan.dbsnap->line, plan.crontab.string());
    for (auto id : plan.dbsnap->ids)
      influx.legacy_devices.push_back(device_name_of(config.buses, id));
    influx.interval = plan.dbsnap->interval;
    config.influx = influx;
  }
  return config;
}

// Whether the file's folder, or the nearest existing folder above it, takes a new file: the
// configuration is written beside it and renamed. Asked before the probe, which takes seconds.
bool can_write_in(const fs::path& file) {
  auto folder = fs::absolute(file).parent_path();
  std::error_code ec;
  while (!fs::exists(folder, ec) && folder.has_relative_path())
    folder = folder.parent_path();
  return ::access(folder.c_str(), W_OK) == 0;
}

// True when the file may be replaced: --yes, or the user said so at the terminal.
bool may_replace(const fs::path& file, bool yes) {
  if (yes) return true;
  if (::isatty(STDIN_FILENO) == 0) return false;
  std::cerr << fmt::format("{} exists. Replace it (a backup is kept)? [y/N] ", file.string());
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

int enable_service(const fs::path& config, std::ostream& out) {
  const char* override_path = std::getenv("TRACERMON_SYSTEMCTL");
  std::string systemctl =
      override_path != nullptr && *override_path != '\0' ? override_path : "systemctl";
  if (fs::absolute(config) != fs::path(k_service_config)) {
    out << fmt::format("Note: the service reads {}, not {}.\n", k_service_config, config.string());
  }
  std::string service{k_service};
  bool running = run_program({systemctl, "is-active", "--quiet", service}) == 0;
  std::vector<std::vector<std::string>> steps;
  if (running) {
    steps = {{systemctl, "enable", service}, {systemctl, "restart", service}};
  } else {
    steps = {{systemctl, "enable", "--now", service}};
  }
  for (const auto& step : steps) {
    out << fmt::format("Running: {}\n", fmt::join(step, " "));
    if (int status = run_program(step); status != 0) {
      std::cerr << fmt::format("tracermon: `{}` failed (exit {}); see `journalctl -u tracermon`\n",
                               fmt::join(step, " "), status);
      return k_exit_failed;
    }
  }
  out << "The service runs: `systemctl status tracermon`, `journalctl -u tracermon -f`.\n";
  return k_exit_ok;
}

int run_setup(const SetupArgs& args) {
  auto ids = parse_ids(args.ids);
  auto bauds = parse_bauds(args.bauds);
  if (args.timeout_ms < 10 || args.timeout_ms > 10000) {
    throw UsageError(fmt::format("--timeout {} is not 10-10000 ms", args.timeout_ms));
  }
  if (!args.crontab.empty() && args.from_legacy.empty()) {
    throw UsageError("--crontab goes with --from-legacy DIR");
  }
  if (args.enable && args.print) throw UsageError("--enable and --print: choose one");
  // --print shows the configuration on stdout; what setup says goes to stderr then.
  std::ostream& out = args.print ? std::cerr : std::cout;
  const fs::path target = args.config;

  std::optional<LegacyPlan> legacy;
  if (!args.from_legacy.empty()) {
    try {
      legacy = read_legacy(args.from_legacy, args.crontab);
    } catch (const LegacyInputError& e) {
      throw UsageError(e.what());
    }
    print_legacy_plan(*legacy, out);
    if (args.ids_option->count() == 0) ids = legacy->ids;
  }
  std::error_code ec;
  bool replacing = !args.print && fs::exists(target, ec);
  if (replacing && !args.yes && ::isatty(STDIN_FILENO) == 0) {
    std::cerr << fmt::format(
        "tracermon: {} exists: give --yes to replace it (a backup is kept), --config FILE to "
        "write elsewhere, or --print to see the configuration\n",
        target.string());
    return k_exit_usage;
  }
  if (args.enable && ::geteuid() != 0 && std::getenv("TRACERMON_SYSTEMCTL") == nullptr) {
    std::cerr << "tracermon: --enable installs and starts the system service: run it as root "
                 "(sudo tracermon setup --enable)\n";
    return k_exit_failed;
  }
  if (!args.print && !can_write_in(target)) {
    std::cerr << fmt::format(
        "tracermon: cannot write {}: permission denied; run setup with sudo, or give --print "
        "or --config FILE\n",
        target.string());
    return k_exit_failed;
  }

  const auto& table = known_adapters();
  auto adapters = find_serial_adapters(args.roots);
  out << fmt::format("Serial adapters ({}, {}/tty...):\n",
                     (args.roots.dev / "serial" / "by-id").string(), args.roots.dev.string());
  for (const auto& adapter : adapters) {
    out << fmt::format("  {} ({}): {}{}\n", adapter.path, adapter.tty,
                       describe_adapter(adapter, table),
                       adapter.stable ? "" : "; no stable by-id name");
  }
  if (adapters.empty()) out << "  none\n";

  std::vector<SetupBus> buses;
  bool held_by_daemon = false;
  if (!adapters.empty()) {
    out << fmt::format("Probing ids {} at {} baud:\n", ids_text(ids), fmt::join(bauds, ", "));
  }
  const auto& map = protocol::RegisterMap::builtin();
  for (const auto& adapter : adapters) {
    auto result = probe_adapter(adapter, ids, bauds, args.timeout_ms, out, held_by_daemon);
    if (!result) continue;
    SetupBus bus;
    bus.name = fmt::format("bus{}", buses.size() + 1);
    bus.port = adapter.path;
    bus.baud = result->baud;
    bus.rs485 = result->rs485;
    bus.comment = fmt::format("{}: {}", adapter.tty, describe_adapter(adapter, table));
    for (const auto& f : result->found)
      bus.devices.push_back(device_of(map, f));
    buses.push_back(std::move(bus));
  }
  if (legacy) {
    add_missing_legacy_ids(*legacy, adapters, buses, out);
  } else if (buses.empty()) {
    if (!held_by_daemon) say_what_was_looked_for(args, adapters, ids, bauds, out);
    return k_exit_comm;
  }
  name_devices(buses);
  SetupConfig config;
  if (legacy) {
    config = legacy_settings(*legacy, std::move(buses));
  } else {
    config.buses = std::move(buses);
  }
  config.written_on = now_text();
  auto text = setup_config_text(config);
  // What is written must load; a failure here is a bug of setup, not of the user's input.
  try {
    parse_config(text, target);
  } catch (const ConfigError& e) {
    std::cerr << fmt::format("tracermon: setup made a configuration that does not load: {}\n",
                             e.what());
    return k_exit_failed;
  }
  if (args.print) {
    std::cout << text;
    return k_exit_ok;
  }
  if (replacing) {
    if (!may_replace(target, args.yes)) {
      std::cerr << fmt::format("tracermon: {} left as it was\n", target.string());
      return k_exit_usage;
    }
  }
  try {
    if (replacing)
      out << fmt::format("Kept the old configuration as {}\n", back_up(target).string());
    write_config_file(target, text, config.influx && !config.influx->ini.password.empty());
  } catch (const std::runtime_error& e) {
    std::cerr << fmt::format(
        "tracermon: {}{}\n", e.what(),
        ::geteuid() != 0 ? " (run setup with sudo, or give --config FILE)" : "");
    return k_exit_failed;
  }
  std::size_t devices = 0;
  for (const auto& bus : config.buses)
    devices += bus.devices.size();
  out << fmt::format(
      "Wrote {} ({} bus(es), {} device(s)); check it with `tracermon config "
      "check {}`\n",
      target.string(), config.buses.size(), devices, target.string());
  if (legacy) {
    for (const auto& job : legacy->jobs) {
      if (job.mode == LegacyMode::Check) continue;
      out << fmt::format(
          "Remove the old cron line (crontab -e), or both use the port at once:\n  {}\n", job.text);
    }
  }
  if (args.enable) return enable_service(target, out);
  out << "Start the service: sudo tracermon setup --enable (or systemctl enable --now "
         "tracermon)\n";
  return k_exit_ok;
}

}  // namespace

Command add_setup_command(CLI::App& app) {
  auto args = std::make_shared<SetupArgs>();
  auto* cmd = app.add_subcommand(
      "setup", "Find the adapters and controllers, write a configuration, start the service");
  cmd->add_option("--config,-c", args->config, "The configuration file to write")
      ->capture_default_str();
  args->ids_option = cmd->add_option("--ids", args->ids, "Ids to probe: 1-16, 1-247, 1,3,5")
                         ->capture_default_str();
  cmd->add_option("--bauds", args->bauds,
                  "Baud rates to try in turn until controllers answer, e.g. 115200,9600")
      ->capture_default_str();
  cmd->add_option("--timeout,-t", args->timeout_ms, "Reply timeout per id in milliseconds")
      ->capture_default_str();
  cmd->add_flag("--print,--dry-run", args->print,
                "Show the configuration on stdout instead of writing it");
  cmd->add_flag("--yes,-y", args->yes,
                "Replace an existing configuration without asking (a backup is kept)");
  cmd->add_flag("--enable", args->enable,
                "Then enable and (re)start the service with systemctl (as root)");
  cmd->add_option("--from-legacy", args->from_legacy,
                  "Move the old logtracer.py tool over: its folder, with influx.db and crontab");
  cmd->add_option("--crontab", args->crontab,
                  "With --from-legacy: the saved `crontab -l` (default DIR/crontab)");
  // For tests and unusual systems: where /dev and /sys are.
  cmd->add_option("--dev-root", args->roots.dev, "Where /dev is (tests)")->group("");
  cmd->add_option("--sys-root", args->roots.sys, "Where /sys is (tests)")->group("");
  return [args] { return run_setup(*args); };
}

}  // namespace tracermon::app
