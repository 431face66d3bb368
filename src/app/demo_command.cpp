// `tracermon demo`: the demo of `make demo` from an installed binary. Three simulated
// controllers on one bus, the embedded store and the dashboard, with every file in one folder
// of the user's (no root, no source tree): the built-in examples/demo.toml with its paths moved.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/daemon.hpp"
#include "app/demo_config.hpp"

namespace tracermon::app {

extern const std::string_view k_demo_config_toml;  // examples/demo.toml, embedded

namespace {

std::filesystem::path default_demo_dir() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "tracermon-demo";
  }
  return std::filesystem::temp_directory_path() / fmt::format("tracermon-demo-{}", getuid());
}

}  // namespace

std::string demo_config_text(std::string_view example, const std::string& listen) {
  // The example keeps its data in ../build/demo/ of the source tree; here, beside the file.
  constexpr std::string_view k_source_dir = "../build/demo/";
  constexpr std::string_view k_listen = "listen = \"127.0.0.1:8080\"";
  std::string text(example);
  if (text.find(k_source_dir) == std::string::npos || text.find(k_listen) == std::string::npos) {
    throw std::logic_error("the built-in demo configuration lost its paths or its listen line");
  }
  for (auto at = text.find(k_source_dir); at != std::string::npos; at = text.find(k_source_dir)) {
    text.erase(at, k_source_dir.size());
  }
  text.replace(text.find(k_listen), k_listen.size(), fmt::format("listen = \"{}\"", listen));
  return text;
}

Command add_demo_command(CLI::App& app) {
  struct Args {
    std::string dir;
    std::string listen = "127.0.0.1:8080";
    int history_days = 7;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "demo",
      "Run the daemon on three simulated controllers (no hardware): dashboard, API, history");
  cmd->add_option("--dir", args->dir,
                  "Folder for the demo's configuration, history and state (default: "
                  "$XDG_RUNTIME_DIR/tracermon-demo, else /tmp/tracermon-demo-UID)");
  cmd->add_option("--listen", args->listen, "Address of the dashboard and API")
      ->capture_default_str();
  cmd->add_option("--history", args->history_days,
                  "Days of simulated history to fill an empty store with first")
      ->check(CLI::Range(0, 366))
      ->capture_default_str();
  return [args] {
    auto dir = args->dir.empty() ? default_demo_dir() : std::filesystem::path(args->dir);
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) throw UsageError(fmt::format("demo folder {}: {}", dir.string(), error.message()));
    auto config = dir / "demo.toml";
    {
      std::ofstream out(config, std::ios::trunc);
      out << "# Written by `tracermon demo`; it is rewritten at each start.\n"
          << demo_config_text(k_demo_config_toml, args->listen);
      if (!out.flush()) throw UsageError(fmt::format("{}: cannot write it", config.string()));
    }
    std::cerr << fmt::format("tracermon demo: {} (dashboard on http://{}/)\n", config.string(),
                             args->listen);
    return run_daemon(config, args->history_days);
  };
}

}  // namespace tracermon::app
