#pragma once
// The listener's look at a request before any thread or parser of cpp-httplib sees it: is the
// head (request line and headers, up to the blank line) complete, within the limits, and
// without a body? Pure: bytes in, verdict out.

#include <cstddef>
#include <string>
#include <string_view>

#include "web/http_limits.hpp"

namespace tracermon::web {

struct HeadCheck {
  enum class Verdict { Incomplete, Complete, Refused };
  Verdict verdict = Verdict::Incomplete;
  std::size_t length = 0;     // Complete: bytes of the head, blank line included
  bool event_stream = false;  // Complete: GET /api/v1/events, for a stream worker
  int status = 0;             // Refused: 400, 413, 414 or 431
  std::string reason;         // Refused: what the client is told
};

// `received`: what the connection sent so far, from the start of a request. No endpoint takes
// a body, so a request that announces one (Content-Length > 0, Transfer-Encoding) is refused
// from its head with 413 before a byte of the body is read.
HeadCheck check_request_head(std::string_view received, const HttpLimits& limits);

// A whole HTTP/1.1 answer with a JSON body {"error": message} and "Connection: close": what
// the listener sends when it refuses a connection or a request itself.
std::string refusal(int status, std::string_view message);

}  // namespace tracermon::web
