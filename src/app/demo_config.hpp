#pragma once
// The configuration `tracermon demo` runs: the built-in demo example with its data paths
// made relative to the file's own folder and the dashboard on `listen`.

#include <string>
#include <string_view>

namespace tracermon::app {

// Throws std::logic_error when `example` no longer has the paths and listen line it rewrites.
std::string demo_config_text(std::string_view example, const std::string& listen);

}  // namespace tracermon::app
