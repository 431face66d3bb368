#pragma once
// Who listens on a TCP port: for the message when the daemon's HTTP port is taken. Linux /proc
// only; a process of another user is found only with the privileges to read its fds.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracermon::web {

// The socket inodes in LISTEN state on `port` in a /proc/net/tcp or /proc/net/tcp6 table.
std::vector<std::uint64_t> listening_inodes(std::string_view table, int port);

// "pid 1234 (tracermon run --config /etc/tracermon/tracermon.toml)", or nullopt when no
// visible process listens on `port`.
std::optional<std::string> tcp_port_owner(int port);

}  // namespace tracermon::web
