// `tracermon run`: the monitoring daemon.

#include "app/commands.hpp"
#include "app/daemon.hpp"

namespace tracermon::app {

Command add_run_command(CLI::App& app) {
  auto config = std::make_shared<std::string>("/etc/tracermon/tracermon.toml");
  auto demo_days = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand(
      "run", "Run the monitoring daemon: poll every controller, keep history, serve the API");
  cmd->add_option("-c,--config", *config, "Configuration file")->capture_default_str();
  cmd->add_option("--demo-history", *demo_days,
                  "Fill an empty store with this many days of simulated history first (sim: "
                  "buses only; `make demo` uses 7)")
      ->check(CLI::Range(0, 366));
  return [config, demo_days] { return run_daemon(*config, *demo_days); };
}

}  // namespace tracermon::app
