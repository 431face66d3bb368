#pragma once
// Replaces a file so that a reader sees the old or the new content, never half of it: write a
// temporary file beside it, then rename over it.

#include <filesystem>
#include <string_view>

#include "core/result.hpp"

namespace tracermon::core {

Status write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace tracermon::core
