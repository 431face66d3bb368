// tracermon: monitors EPEVER Tracer solar charge controllers over Modbus.

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "core/build_info.hpp"
#include "sim/sim_stream.hpp"

int main(int argc, char** argv) {
  using namespace tracermon::app;
  log_to_stderr();  // stdout is for the commands' output
  CLI::App app{"tracermon: monitor EPEVER Tracer solar charge controllers over Modbus"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("tracermon {}", tracermon::build_info::k_description));
  std::vector<std::pair<CLI::App*, Command>> commands;
  auto add = [&](Command (*adder)(CLI::App&)) {
    auto before = app.get_subcommands({}).size();
    auto run = adder(app);
    commands.emplace_back(app.get_subcommands({}).at(before), std::move(run));
  };
  add(add_read_command);
  add(add_scan_command);
  add(add_simulate_command);
  add(add_config_command);
  add(add_run_command);
  add(add_get_command);
  add(add_export_command);
  add(add_set_command);
  add(add_load_command);
  add(add_clock_command);
  add(add_settings_command);
  add(add_demo_command);
  add(add_setup_command);
  add(add_status_command);
  tracermon::sim::register_sim_ports();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message
    return k_exit_usage;
  }
  try {
    for (auto& [command, run] : commands) {
      if (command->parsed()) return run();
    }
  } catch (const PortHeldByDaemon& e) {
    std::cerr << "tracermon: " << e.what() << '\n';
    return k_exit_comm;
  } catch (const UsageError& e) {
    std::cerr << "tracermon: " << e.what() << '\n';
    return k_exit_usage;
  } catch (const ConfigError& e) {
    std::cerr << "tracermon: " << e.what() << '\n';
    return k_exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "tracermon: " << e.what() << '\n';
    return 1;
  }
  return k_exit_usage;
}
