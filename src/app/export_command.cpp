// `tracermon export`: a time range of the embedded history as CSV or JSON lines.

#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "core/wall_time.hpp"
#include "store/snapshot_store.hpp"
#include "web/time_param.hpp"

namespace tracermon::app {

namespace {

struct ExportArgs {
  std::string config = "/etc/tracermon/tracermon.toml";
  std::string device;
  std::string from = "-24h";
  std::string to = "now";
  std::string format = "csv";
  std::string output;
};

int run_export(const ExportArgs& args) {
  auto config = load_config(args.config);
  if (!config.store.enabled) {
    throw UsageError(fmt::format("{}: the store is off ([store] enabled = false)", args.config));
  }
  auto now_ms = core::wall_now_ms();
  auto from = web::time_param("--from", args.from, now_ms);
  if (!from) throw UsageError(from.error().message);
  auto to = web::time_param("--to", args.to, now_ms);
  if (!to) throw UsageError(to.error().message);
  if (to.value() <= from.value()) throw UsageError("--from must be before --to");
  store::ExportFormat format{};
  if (args.format == "csv") {
    format = store::ExportFormat::Csv;
  } else if (args.format == "jsonl") {
    format = store::ExportFormat::JsonLines;
  } else {
    throw UsageError(fmt::format("--format '{}': use csv or jsonl", args.format));
  }
  if (!std::filesystem::exists(config.store.path)) {
    throw UsageError(fmt::format("{}: no history yet ({} does not exist)", args.config,
                                 config.store.path.string()));
  }
  store::StoreOptions options;
  options.path = config.store.path;
  store::SnapshotStore store(options);
  std::ofstream file;
  if (!args.output.empty()) {
    file.open(args.output);
    if (!file) throw UsageError(fmt::format("--output {}: cannot write it", args.output));
  }
  std::ostream& out = args.output.empty() ? std::cout : file;
  auto exported = store.export_range(args.device, from.value(), to.value(), format, out);
  if (!exported) {
    std::cerr << "tracermon: export: " << exported.error().message << '\n';
    return 1;
  }
  return k_exit_ok;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd =
      app.add_subcommand("export", "Write a time range of the history as CSV or JSON lines");
  cmd->add_option("-c,--config", args->config, "The daemon's configuration file")
      ->capture_default_str();
  cmd->add_option("--device", args->device, "One device or site (default: all)");
  cmd->add_option("--from", args->from, "Start: -24h, -7d, RFC 3339, epoch")->capture_default_str();
  cmd->add_option("--to", args->to, "End (exclusive)")->capture_default_str();
  cmd->add_option("--format", args->format, "csv or jsonl")->capture_default_str();
  cmd->add_option("-o,--output", args->output, "File to write (default: standard output)");
  return [args] { return run_export(*args); };
}

}  // namespace tracermon::app
