#include "core/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/unique_fd.hpp"

namespace tracermon::core {

Status write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  auto temporary = path;
  temporary += fmt::format(".tmp{}", ::getpid());
  auto fail = [&](const char* what) {
    auto error = Error{ErrorKind::Io,
                       fmt::format("{} {}: {}", what, temporary.string(), std::strerror(errno))};
    ::unlink(temporary.c_str());
    return error;
  };
  {
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return fail("cannot create");
    std::size_t done = 0;
    while (done < content.size()) {
      auto n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("cannot write");
      }
      done += static_cast<std::size_t>(n);
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) return fail("cannot rename");
  return Ok{};
}

}  // namespace tracermon::core
