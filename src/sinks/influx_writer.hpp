#pragma once
// Writes line protocol to InfluxDB over HTTP(S) with libcurl: the 1.x API (POST /write, also
// served by InfluxDB 2 and 3 for compatibility) or the 2.x API (POST /api/v2/write).
//
// The result says what the output runner should do with the batch:
//   Ok                      2xx: written
//   ErrorKind::Rejected     400, 422 (the data itself is bad), or a single line too large even
//                           alone: sending it again cannot help
//   ErrorKind::ConnectFailed no HTTP answer (refused, unreachable, timeout, TLS): keep, retry
//   ErrorKind::Io           any other HTTP status (5xx, 429, 401/403 until the credentials
//                           are fixed, 404 ...): keep, retry
// A 413 (body too large) splits the batch in halves, recursively down to single lines.
// A server that refuses gzip (415, or a 400 about the encoding) gets plain bodies from then on;
// with `create_database`, a 1.x "database not found" creates it and the write is tried once
// more. Messages carry the HTTP status and the server's own message, never a password or
// token.
//
// Not thread-safe: one writer per output, used from the output runner's delivery thread;
// only endpoint() (fixed at construction) may be called from anywhere.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/result.hpp"
#include "format/influx_lines.hpp"

namespace tracermon::sinks {

enum class InfluxApi : std::uint8_t { V1, V2 };

struct InfluxWriterOptions {
  std::string url = "http://127.0.0.1:8086";  // base; the API path is appended
  InfluxApi api = InfluxApi::V1;
  // 1.x: database, retention policy (empty = the default one), basic auth when username is set.
  std::string database = "tracermon", username, password, retention_policy;
  // 2.x: organisation, bucket, API token.
  std::string org, bucket, token;
  format::InfluxPrecision precision = format::InfluxPrecision::Nanoseconds;
  bool gzip = true;             // Content-Encoding: gzip
  bool create_database = true;  // 1.x: on "database not found" send CREATE DATABASE
  std::string ca_file;          // https: an extra CA bundle; empty = the system store
  bool verify_tls = true;
  std::chrono::milliseconds timeout{10000};
};

class InfluxWriter {
 public:
  explicit InfluxWriter(InfluxWriterOptions options);
  ~InfluxWriter();
  InfluxWriter(const InfluxWriter&) = delete;
  InfluxWriter& operator=(const InfluxWriter&) = delete;

  // POSTs the items (each one or more newline-terminated lines) joined into one body; see the
  // class comment for the result.
  core::Status write(std::span<const std::string> items);

  // The write URL without credentials, for logs and status.
  [[nodiscard]] std::string endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace tracermon::sinks
