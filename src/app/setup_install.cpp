#include "app/setup_install.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/fd_write.hpp"
#include "core/unique_fd.hpp"
#include "core/wall_time.hpp"

extern char** environ;

namespace tracermon::app {

namespace fs = std::filesystem;

namespace {

std::runtime_error os_failure(const std::string& what) {
  return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

std::string timestamp() {
  return core::local_text(std::chrono::system_clock::now(), "%Y%m%d-%H%M%S");
}

}  // namespace

fs::path back_up(const fs::path& file) {
  auto base = file.string() + ".bak-" + timestamp();
  fs::path copy = base;
  for (int n = 2; fs::exists(copy); ++n)
    copy = fmt::format("{}-{}", base, n);
  std::error_code ec;
  fs::copy_file(file, copy, fs::copy_options::none, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("cannot back up {} to {}: {}", file.string(), copy.string(), ec.message()));
  }
  return copy;
}

void write_config_file(const fs::path& file, std::string_view text, bool secret) {
  std::error_code ec;
  auto folder = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  fs::create_directories(folder, ec);
  if (ec)
    throw std::runtime_error(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
  mode_t mode = secret ? 0640 : 0644;
  uid_t owner = static_cast<uid_t>(-1);
  gid_t group = static_cast<gid_t>(-1);
  struct stat old {};
  if (::stat(file.c_str(), &old) == 0) {
    mode = old.st_mode & 07777;
    owner = old.st_uid;
    group = old.st_gid;
  } else if (secret && ::geteuid() == 0) {
    if (const auto* tracermon = ::getgrnam("tracermon")) group = tracermon->gr_gid;
  }
  auto temporary = fs::path(file.string() + ".tmp-setup");
  {
    core::UniqueFd fd(
        ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0600));
    if (!fd) throw os_failure(fmt::format("cannot write {}", temporary.string()));
    bool ok = ::fchown(fd.get(), owner, group) == 0 || ::geteuid() != 0;
    ok = ok && ::fchmod(fd.get(), mode) == 0;
    std::size_t done = 0;
    while (ok && done < text.size()) {
      auto n = core::write_no_sigpipe(fd.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd.get()) == 0;
    if (!ok) {
      auto error = os_failure(fmt::format("cannot write {}", temporary.string()));
      ::unlink(temporary.c_str());
      throw error;
    }
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    auto error = os_failure(fmt::format("cannot replace {}", file.string()));
    ::unlink(temporary.c_str());
    throw error;
  }
}

int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 127;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace tracermon::app
