#pragma once
// What one HTTP client may cost the daemon. The listener (connection_loop.hpp) holds every
// connection in one poll() thread until its request head is complete and within these limits;
// only then does a worker thread see it. Documented for users in docs/daemon.md.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tracermon::web {

struct HttpLimits {
  // Open connections at once (reading, being answered, streaming). One more is answered 503
  // and closed. Each costs a socket and at most `max_head` bytes of buffer.
  std::size_t max_connections = 256;
  // At the limit, new connections wait in the kernel's backlog this long for a slot (a burst
  // of short requests frees them in milliseconds) before they are refused.
  std::chrono::milliseconds full_grace{250};
  // The request line (method, target, version): beyond it 414.
  std::size_t max_request_line = 8192;
  // Request line and headers together, and the number of header lines: beyond either 431.
  std::size_t max_head = 16384;
  std::size_t max_header_lines = 100;
  // A request body, with Content-Length: only POSTs to /api/v1/control/ take one (a JSON
  // request of a few hundred bytes); beyond this 413 from the head, before a byte is read.
  std::size_t max_body = 16384;
  // A request head must be complete this long after the connection opened or after its first
  // byte arrived on a kept-alive connection: else 408 and close (a slowloris costs no thread).
  std::chrono::milliseconds head_timeout{10'000};
  // A kept-alive connection with no request in progress is closed after this.
  std::chrono::milliseconds idle_timeout{5'000};
  // Writing an answer: the client must take some bytes within `write_timeout`, and an answer
  // other than an event stream must be written within `response_timeout`; else it is dropped.
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds response_timeout{30'000};
  // Requests on one connection before it is closed (the client opens another).
  std::size_t max_requests_per_connection = 1000;
  // After a refusal (408, 413, 414, 431, 503) the rest of what the client sends is read and
  // dropped for up to this long and this many bytes, so it reads the refusal instead of a reset.
  std::chrono::milliseconds linger_timeout{2'000};
  std::size_t linger_bytes = 1 << 20;
  // Threads answering requests, and threads for event streams (one per possible stream), so
  // open dashboards never take the API's threads.
  std::size_t api_workers = 8;
  std::size_t stream_workers = 8;
  // stop(): how long request handlers still running (a store query) may take to finish before
  // a warning; client sockets are shut down at once, so no client can make this longer.
  std::chrono::milliseconds stop_timeout{2'000};
};

// What the listener did, for /metrics.
struct ListenerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused_busy = 0;      // 503: at the connection limit
  std::uint64_t refused_requests = 0;  // 400, 413, 414, 431 from the head
  std::uint64_t timed_out = 0;         // 408: head not complete in time
  std::size_t open = 0;                // connections open now
};

}  // namespace tracermon::web
