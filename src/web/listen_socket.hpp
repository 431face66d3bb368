#pragma once
// The HTTP listening socket, made here rather than by cpp-httplib: SO_REUSEADDR (a restart
// need not wait for TIME_WAIT) but never SO_REUSEPORT (a second daemon on the port would share
// it, and each would answer every other connection from its own store), and the kernel's
// largest backlog instead of httplib's 5 (a burst of connections would wait for SYN retries).

#include <string>

#include "core/unique_fd.hpp"

namespace tracermon::web {

struct ListenSocket {
  core::UniqueFd fd;  // non-blocking, listening
  int port = 0;       // the bound port (the one chosen when 0 was asked for)
};

// Throws std::runtime_error "http: cannot listen on HOST:PORT: ...": "address in use by pid
// N (command)" when another process holds the port and it can be found.
ListenSocket listen_tcp(const std::string& host, int port);

}  // namespace tracermon::web
