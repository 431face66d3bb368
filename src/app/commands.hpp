#pragma once
// The subcommands. Each registers its options on the CLI11 app and returns the function that
// runs it and gives the exit status.

#include <functional>

#include <CLI/CLI.hpp>

namespace tracermon::app {

using Command = std::function<int()>;

Command add_read_command(CLI::App& app);
Command add_scan_command(CLI::App& app);
Command add_simulate_command(CLI::App& app);
Command add_config_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_get_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_set_command(CLI::App& app);
Command add_load_command(CLI::App& app);
Command add_clock_command(CLI::App& app);
Command add_settings_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_setup_command(CLI::App& app);
Command add_status_command(CLI::App& app);

}  // namespace tracermon::app
