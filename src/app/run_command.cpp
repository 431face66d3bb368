// `tracermon run`: the monitoring daemon.

#include "app/commands.hpp"
#include "app/daemon.hpp"

namespace tracermon::app {

Command add_run_command(CLI::App& app) {
  auto config = std::make_shared<std::string>("/etc/tracermon/tracermon.toml");
  auto* cmd = app.add_subcommand(
      "run", "Run the monitoring daemon: poll every controller, keep history, serve the API");
  cmd->add_option("-c,--config", *config, "Configuration file")->capture_default_str();
  return [config] { return run_daemon(*config); };
}

}  // namespace tracermon::app
