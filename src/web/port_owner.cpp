#include "web/port_owner.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

namespace tracermon::web {

namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < line.size()) {
    auto start = line.find_first_not_of(' ', pos);
    if (start == std::string_view::npos) break;
    auto end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    out.push_back(line.substr(start, end - start));
    pos = end;
  }
  return out;
}

// "/proc/<pid>/cmdline" with spaces for NULs, cut to a readable length.
std::string command_of(const std::string& pid) {
  auto text = read_all(std::filesystem::path("/proc") / pid / "cmdline");
  while (!text.empty() && text.back() == '\0')
    text.pop_back();
  for (auto& c : text) {
    if (c == '\0') c = ' ';
  }
  constexpr std::size_t k_max = 160;
  if (text.size() > k_max) text = text.substr(0, k_max) + "...";
  return text;
}

// Processes come and go while /proc is read: every step takes an error_code, none throws.
template <typename Visit>
void each_entry(const std::filesystem::path& dir, Visit visit) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (visit(it->path())) return;
  }
}

std::optional<std::string> pid_holding(const std::vector<std::uint64_t>& inodes) {
  std::vector<std::string> links;
  links.reserve(inodes.size());
  for (auto inode : inodes)
    links.push_back(fmt::format("socket:[{}]", inode));
  std::optional<std::string> owner;
  each_entry("/proc", [&](const std::filesystem::path& process) {
    auto pid = process.filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) return false;
    each_entry(process / "fd", [&](const std::filesystem::path& fd) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(fd, ec).string();
      if (ec || std::find(links.begin(), links.end(), target) == links.end()) return false;
      auto command = command_of(pid);
      owner =
          command.empty() ? fmt::format("pid {}", pid) : fmt::format("pid {} ({})", pid, command);
      return true;
    });
    return owner.has_value();
  });
  return owner;
}

}  // namespace

std::vector<std::uint64_t> listening_inodes(std::string_view table, int port) {
  std::vector<std::uint64_t> inodes;
  std::size_t pos = 0;
  while (pos < table.size()) {
    auto end = table.find('\n', pos);
    if (end == std::string_view::npos) end = table.size();
    auto fields = words(table.substr(pos, end - pos));
    pos = end + 1;
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    if (fields.size() < 10 || fields[3] != "0A") continue;  // 0A: LISTEN
    auto local = fields[1];
    auto colon = local.rfind(':');
    if (colon == std::string_view::npos) continue;
    int local_port = 0;
    auto hex = local.substr(colon + 1);
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), local_port, 16);
    if (ec != std::errc{} || local_port != port) continue;
    std::uint64_t inode = 0;
    auto [q, ec2] = std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), inode);
    if (ec2 == std::errc{} && inode != 0) inodes.push_back(inode);
  }
  return inodes;
}

std::optional<std::string> tcp_port_owner(int port) {
  std::vector<std::uint64_t> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    auto found = listening_inodes(read_all(table), port);
    inodes.insert(inodes.end(), found.begin(), found.end());
  }
  if (inodes.empty()) return std::nullopt;
  return pid_holding(inodes);
}

}  // namespace tracermon::web
