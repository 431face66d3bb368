#pragma once
// The listener's look at a request before any thread or parser of cpp-httplib sees it: is the
// head (request line and headers, up to the blank line) complete, within the limits, and
// with a body only where one is taken (and then a Content-Length within max_body)? Pure:
// bytes in, verdict out.

#include <cstddef>
#include <string>
#include <string_view>

#include "web/http_limits.hpp"

namespace tracermon::web {

struct HeadCheck {
  enum class Verdict { Incomplete, Complete, Refused };
  Verdict verdict = Verdict::Incomplete;
  std::size_t length = 0;     // Complete: bytes of the head, blank line included
  std::size_t body = 0;       // Complete: bytes of the body that follows (Content-Length)
  bool event_stream = false;  // Complete: GET /api/v1/events, for a stream worker
  int status = 0;             // Refused: 400, 413, 414 or 431
  std::string reason;         // Refused: what the client is told
};

// `received`: what the connection sent so far, from the start of a request. Only a POST to
// /api/v1/control/... takes a body, with a Content-Length of at most `max_body`; any other
// request that announces one (Content-Length > 0, Transfer-Encoding) and a chunked or
// oversized control body are refused from the head with 413 before a byte of the body is read.
// Complete means the head is; the listener waits for `body` more bytes itself.
HeadCheck check_request_head(std::string_view received, const HttpLimits& limits);

// A whole HTTP/1.1 answer with a JSON body {"error": message} and "Connection: close": what
// the listener sends when it refuses a connection or a request itself.
std::string refusal(int status, std::string_view message);

}  // namespace tracermon::web
