#include "core/bounded_file.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/unique_fd.hpp"

namespace tracermon::core {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

Error system_error(const char* what) {
  return Error{ErrorKind::Io, fmt::format("{}: {}", what, std::strerror(errno))};
}

Error too_large(std::size_t max_bytes) {
  return Error{ErrorKind::InvalidArgument, fmt::format("larger than {}", size_text(max_bytes))};
}

}  // namespace

std::string size_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) {
    return fmt::format("{} MiB", bytes >> 20);
  }
  if (bytes >= 1024 && bytes % 1024 == 0) return fmt::format("{} KiB", bytes >> 10);
  return fmt::format("{} bytes", bytes);
}

Result<std::string> read_bounded_file(const std::filesystem::path& path, std::size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. It changes
  // nothing for a regular file, the only kind read.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return system_error("cannot read the file");
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return system_error("cannot read the file");
  if (!S_ISREG(info.st_mode)) {
    return Error{ErrorKind::InvalidArgument,
                 fmt::format("not a regular file ({})", kind_of(info.st_mode))};
  }
  if (static_cast<std::uintmax_t>(info.st_size) > max_bytes) return too_large(max_bytes);
  // The size may change while reading (a file being written, /proc): stop as soon as it is
  // over the limit.
  std::string text;
  text.reserve(static_cast<std::size_t>(info.st_size));
  std::array<char, 16384> chunk{};
  for (;;) {
    auto n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("cannot read the file");
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
    if (text.size() > max_bytes) return too_large(max_bytes);
  }
  return text;
}

}  // namespace tracermon::core
