#pragma once
// A GET to a tracermon daemon's own HTTP server, for the CLI (`tracermon status`): the one
// place outside the server that speaks HTTP with the server's library.

#include <chrono>
#include <string>

namespace tracermon::web {

struct HttpAnswer {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::string error;  // why there was no answer
};

// `base_url` as daemon.json gives it ("http://127.0.0.1:8080/"); a wildcard listen address
// (0.0.0.0, ::) is asked on loopback. Throws std::invalid_argument for a URL without a port.
HttpAnswer http_get(const std::string& base_url, const std::string& path,
                    std::chrono::seconds timeout);

}  // namespace tracermon::web
