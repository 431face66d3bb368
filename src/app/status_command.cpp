// `tracermon status`: the running daemon's health for a person, a script or a monitoring
// check. It asks the daemon's /api/v1/status (found through <runtime_dir>/daemon.json); with
// HTTP off it reads the devices' state files instead. Exit status: status_report.hpp.

#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/daemon_lookup.hpp"
#include "app/status_report.hpp"
#include "core/wall_time.hpp"
#include "sinks/state_file_sink.hpp"
#include "web/http_get.hpp"

namespace tracermon::app {

namespace {

struct StatusArgs {
  std::string config;
  std::string runtime_dir;
  bool json = false;
};

// The daemon could not be asked: said on stderr (and as JSON on stdout with --json).
int unreachable(const StatusArgs& args, const std::string& message) {
  if (args.json) {
    nlohmann::ordered_json out{{"status", "unreachable"},
                               {"exit_code", k_exit_comm},
                               {"summary", message},
                               {"problems", {message}}};
    std::cout << out.dump() << '\n';
  }
  std::cerr << "tracermon: " << message << '\n';
  return k_exit_comm;
}

std::filesystem::path runtime_dir_of(const StatusArgs& args) {
  if (!args.runtime_dir.empty()) return args.runtime_dir;
  if (!args.config.empty()) return load_config(args.config).runtime_dir;
  return default_runtime_dir();
}

// The status API's device entries, made from the state files (HTTP off): health as the last
// cycle left it, and offline when the file stopped changing (a daemon that hangs).
nlohmann::json status_from_state_files(const DaemonConfig& config) {
  auto now_ms = core::wall_now_ms();
  // A silent device is still tried every (max_skip_cycles + 1) fast cycles: then its file changes.
  auto stale_ms = std::max<std::int64_t>(
      30'000, std::int64_t{2} * (config.poll.max_skip_cycles + 1) * config.poll.fast.count());
  nlohmann::json buses = nlohmann::json::array();
  for (const auto& bus : config.buses) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& device : bus.devices) {
      nlohmann::json entry{{"name", device.name}, {"id", device.id}, {"health", "unknown"}};
      auto path = sinks::StateFileSink::file_for(config.files.json_dir, device.name);
      std::ifstream in(path);
      auto state = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
      if (state.is_discarded() || !state.is_object()) {
        entry["last_error"] = fmt::format("no readable state file {}", path.string());
        devices.push_back(std::move(entry));
        continue;
      }
      entry["health"] = state.value("health", "unknown");
      std::int64_t newest = 0;
      const auto fields = state.value("fields", nlohmann::json::object());
      for (const auto& field : fields) {
        if (field.is_object()) newest = std::max(newest, field.value("time_ms", std::int64_t{0}));
      }
      if (newest > 0) entry["last_seen_age_s"] = static_cast<double>(now_ms - newest) / 1000.0;
      auto written_ms = state.value("time_ms", std::int64_t{0});
      if (now_ms - written_ms > stale_ms) {
        entry["health"] = "offline";
        entry["last_error"] =
            fmt::format("{} not updated for {}", path.string(),
                        format_age(static_cast<double>(now_ms - written_ms) / 1000));
      }
      devices.push_back(std::move(entry));
    }
    buses.push_back({{"name", bus.name}, {"devices", std::move(devices)}});
  }
  return {{"source", "state_files"}, {"buses", std::move(buses)}};
}

int print(const StatusArgs& args, const StatusReport& report) {
  if (args.json) {
    std::cout << report.json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << '\n';
  } else {
    std::cout << render_status(report);
  }
  return report.exit_code;
}

int run_status(const StatusArgs& args) {
  auto dir = runtime_dir_of(args);
  auto daemon = running_daemon(dir);
  if (!daemon) {
    return unreachable(
        args, fmt::format("no tracermon daemon runs with runtime_dir {} (nobody holds {}); start "
                          "it with `sudo systemctl start tracermon` or `tracermon run --config "
                          "FILE`, or give its --runtime-dir / --config",
                          dir.string(), (dir / "daemon.lock").string()));
  }
  DaemonFacts facts{daemon->pid, daemon->config, daemon->http};
  if (daemon->http.empty()) {
    // HTTP off: the state files say which devices answer; nothing else is published.
    DaemonConfig config;
    try {
      config = load_config(daemon->config);
    } catch (const ConfigError& e) {
      return unreachable(args, fmt::format("the daemon (pid {}) runs with HTTP off and its "
                                           "configuration cannot be read for its state files: {}",
                                           daemon->pid, e.what()));
    }
    if (config.files.json_dir.empty()) {
      return unreachable(args, fmt::format("the daemon (pid {}) runs with HTTP off and without "
                                           "state files ([files] json_dir): nothing tells its "
                                           "health; set [http] enabled = true in {}",
                                           daemon->pid, daemon->config));
    }
    return print(args, assess_status(status_from_state_files(config), facts));
  }
  web::HttpAnswer answer;
  try {
    answer = web::http_get(daemon->http, "/api/v1/status", std::chrono::seconds(5));
  } catch (const std::exception& e) {
    return unreachable(args, fmt::format("daemon.json in {}: bad http URL '{}': {}", dir.string(),
                                         daemon->http, e.what()));
  }
  if (answer.status == 0) {
    return unreachable(
        args, fmt::format("the daemon (pid {}) does not answer at {}api/v1/status: {}", daemon->pid,
                          daemon->http, answer.error));
  }
  auto status = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status != 200 || status.is_discarded() || !status.is_object()) {
    return unreachable(args, fmt::format("{}api/v1/status answered {}: {}", daemon->http,
                                         answer.status, answer.body.substr(0, 200)));
  }
  return print(args, assess_status(status, facts));
}

}  // namespace

Command add_status_command(CLI::App& app) {
  auto args = std::make_shared<StatusArgs>();
  auto* cmd = app.add_subcommand(
      "status",
      "Show the running daemon's health: buses, devices, outputs, store, clock. Exit 0 all "
      "well, 1 a problem, 3 no daemon answers");
  cmd->add_option("-c,--config", args->config,
                  "The daemon's configuration file (for its runtime_dir)");
  cmd->add_option("--runtime-dir", args->runtime_dir,
                  "Where the daemon runs (default $TRACERMON_RUNTIME_DIR or /run/tracermon)");
  cmd->add_flag("--json", args->json, "One JSON object: status, problems, devices, ...");
  return [args] { return run_status(*args); };
}

}  // namespace tracermon::app
