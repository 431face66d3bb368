#pragma once
// Reading a small input file (a configuration, a simulator profile, the old tool's influx.db)
// without trusting what the path names: only a regular file is read, never a device such as
// /dev/zero (endless), a FIFO (blocks until a writer comes) or a folder, and at most
// `max_bytes` of it, so a wrong path cannot hang the reader or fill its memory.

#include <cstddef>
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace tracermon::core {

// Larger than any configuration file needs by a factor of a hundred.
inline constexpr std::size_t k_max_config_bytes = std::size_t{1} << 20;

// The whole file. Errors, worded without the path (the caller names the file): Io "cannot read
// the file: No such file or directory" (any open or read error, in the system's words), and
// InvalidArgument "not a regular file (a character device)" or "larger than 1 MiB".
Result<std::string> read_bounded_file(const std::filesystem::path& path,
                                      std::size_t max_bytes = k_max_config_bytes);

// "1 MiB", "64 KiB" or "100 bytes": how a size limit is written in messages.
std::string size_text(std::size_t bytes);

}  // namespace tracermon::core
