// `tracermon get DEVICE FIELD`: the latest value from the running daemon's state files, the
// way get_tracer.sh grepped the old tool's files. It never touches the bus and works with HTTP
// off; a value older than three poll intervals is refused as stale.

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "core/wall_time.hpp"
#include "protocol/legacy_names.hpp"
#include "protocol/register_map.hpp"
#include "sinks/state_file_sink.hpp"

namespace tracermon::app {

namespace {

struct GetArgs {
  std::string device;
  std::string field;
  std::string config = "/etc/tracermon/tracermon.toml";
  std::string dir;
  bool json = false;
};

int fail(const std::string& message) {
  std::cerr << "tracermon: " << message << '\n';
  return k_exit_comm;
}

int run_get(const GetArgs& args) {
  std::filesystem::path dir = args.dir;
  if (dir.empty()) {
    auto config = load_config(args.config);
    if (config.files.json_dir.empty()) {
      throw UsageError(
          fmt::format("{}: files.json_dir is off, so there are no state files; "
                      "set it or use the HTTP API",
                      args.config));
    }
    dir = config.files.json_dir;
  }
  const auto& map = protocol::RegisterMap::builtin();
  auto name = std::string(protocol::resolve_legacy_name(args.field));
  if (map.find(name) == nullptr) {
    throw UsageError(
        fmt::format("unknown field '{}': use a name from registers.csv "
                    "(e.g. pv_voltage) or an old check name (pvvolt)",
                    args.field));
  }
  auto path = sinks::StateFileSink::file_for(dir, args.device);
  std::ifstream in(path);
  if (!in) {
    return fail(
        fmt::format("no state file {} for device '{}': is the daemon running, and is "
                    "that a configured device name?",
                    path.string(), args.device));
  }
  std::stringstream text;
  text << in.rdbuf();
  auto state = nlohmann::json::parse(text.str(), nullptr, false);
  if (state.is_discarded() || !state.contains("fields")) {
    return fail(fmt::format("{}: not a tracermon state file", path.string()));
  }
  const auto& fields = state["fields"];
  if (!fields.contains(name)) {
    std::string why = "it was never read";
    if (state.contains("missing") && state["missing"].contains(name)) {
      why = state["missing"][name].get<std::string>();
    }
    return fail(fmt::format("{}: no value for {} ({})", args.device, name, why));
  }
  const auto& entry = fields[name];
  auto now_ms = core::wall_now_ms();
  auto age_s = static_cast<double>(now_ms - entry.value("time_ms", std::int64_t{0})) / 1000.0;
  auto max_age_s = entry.value("max_age_s", 0.0);
  if (max_age_s > 0 && age_s > max_age_s) {
    return fail(fmt::format("{}: {} is stale: read {:.0f} s ago at {}, older than {:.0f} s",
                            args.device, name, age_s, entry.value("time", std::string{}),
                            max_age_s));
  }
  if (args.json) {
    std::cout << entry.dump() << '\n';
  } else {
    std::cout << entry["value"].dump() << '\n';
  }
  return k_exit_ok;
}

}  // namespace

Command add_get_command(CLI::App& app) {
  auto args = std::make_shared<GetArgs>();
  auto* cmd = app.add_subcommand(
      "get", "Print a device's latest value from the running daemon (never touches the bus)");
  cmd->add_option("device", args->device, "Device name, as in the configuration")->required();
  cmd->add_option("field", args->field, "Field name (pv_voltage) or old check name (pvvolt)")
      ->required();
  cmd->add_option("-c,--config", args->config, "The daemon's configuration file")
      ->capture_default_str();
  cmd->add_option("--dir", args->dir, "The state file folder (files.json_dir), instead of -c");
  cmd->add_flag("--json", args->json, "Print value, unit and time as JSON");
  return [args] { return run_get(*args); };
}

}  // namespace tracermon::app
