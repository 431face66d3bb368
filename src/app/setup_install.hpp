#pragma once
// What `tracermon setup` does to the machine: the configuration file (with a backup of the one
// it replaces) and the service (systemctl).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tracermon::app {

// Copies `file` to FILE.bak-YYYYmmdd-HHMMSS (-2, -3 ... if taken), keeping its mode; returns
// the copy's path. Throws std::runtime_error.
std::filesystem::path back_up(const std::filesystem::path& file);

// Writes `text` to `file` atomically (a temporary beside it, then rename), creating its folder.
// A replaced file keeps its mode and owner; a new one is 0644, or 0640 with the group
// `tracermon` (when it exists) for a file with a password. Throws std::runtime_error.
void write_config_file(const std::filesystem::path& file, std::string_view text, bool secret);

// Runs a program (searched in PATH) with arguments and waits: its exit status, 127 when it
// could not be started.
int run_program(const std::vector<std::string>& argv);

}  // namespace tracermon::app
