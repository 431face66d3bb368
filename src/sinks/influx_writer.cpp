#include "sinks/influx_writer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <curl/curl.h>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>
#include <zlib.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#ifndef TRACERMON_VERSION_STRING
#define TRACERMON_VERSION_STRING "unknown"
#endif

namespace tracermon::sinks {
namespace {

using core::Error;
using core::ErrorKind;

constexpr std::size_t k_max_reply_bytes = 64U << 10;  // enough for any error message
constexpr std::size_t k_max_message_chars = 200;

struct CurlEasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

struct CurlFreeDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlString = std::unique_ptr<char, CurlFreeDeleter>;

// zlib's stream owns memory between deflateInit2 and deflateEnd.
class Deflater {
 public:
  Deflater() {
    // 15 + 16: the largest window with a gzip header and trailer (Content-Encoding: gzip).
    m_ok = deflateInit2(&m_stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                        Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (m_ok) deflateEnd(&m_stream);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::optional<std::string> gzip(std::string_view input) {
    if (!m_ok || input.size() > std::numeric_limits<uInt>::max() / 2) return std::nullopt;
    if (deflateReset(&m_stream) != Z_OK) return std::nullopt;
    std::string output(deflateBound(&m_stream, static_cast<uLong>(input.size())), '\0');
    // zlib's API is not const-correct; it only reads the input.
    m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    m_stream.avail_in = static_cast<uInt>(input.size());
    m_stream.next_out = reinterpret_cast<Bytef*>(output.data());
    m_stream.avail_out = static_cast<uInt>(output.size());
    if (deflate(&m_stream, Z_FINISH) != Z_STREAM_END) return std::nullopt;
    output.resize(m_stream.total_out);
    return output;
  }

 private:
  z_stream m_stream{};
  bool m_ok = false;
};

void append_header(CurlSlist& list, const std::string& header) {
  curl_slist* head = list.release();
  curl_slist* grown = curl_slist_append(head, header.c_str());
  list.reset(grown != nullptr ? grown : head);
}

std::size_t collect_reply(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  auto bytes = size * count;
  if (out->size() < k_max_reply_bytes) {
    out->append(data, std::min(bytes, k_max_reply_bytes - out->size()));
  }
  return bytes;
}

std::string url_escape(CURL* curl, std::string_view text) {
  CurlString escaped(curl_easy_escape(curl, text.data(), static_cast<int>(text.size())));
  return escaped ? std::string(escaped.get()) : std::string();
}

// "http://user:secret@host:8086/x" -> "http://host:8086/x".
std::string strip_credentials(std::string_view url) {
  auto scheme = url.find("://");
  auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  auto at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return fmt::format("{}{}", url.substr(0, start), url.substr(start + at + 1));
}

std::string join(std::span<const std::string> items) {
  std::size_t size = 0;
  for (const auto& item : items)
    size += item.size() + 1;
  std::string body;
  body.reserve(size);
  for (const auto& item : items) {
    body += item;
    if (!item.empty() && item.back() != '\n') body += '\n';
  }
  return body;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.emplace_back(text.substr(0, end));
    text.remove_prefix(end);
  }
  return lines;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 1.x answers {"error": "..."}, 2.x {"code": "...", "message": "..."}; a proxy may answer
// anything, so other bodies are shown shortened.
std::string server_message(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    if (auto it = json.find("error"); it != json.end() && it->is_string()) {
      return it->get<std::string>();
    }
    if (auto it = json.find("message"); it != json.end() && it->is_string()) {
      auto code = json.find("code");
      if (code != json.end() && code->is_string() && !code->get<std::string>().empty()) {
        return fmt::format("{}: {}", code->get<std::string>(), it->get<std::string>());
      }
      return it->get<std::string>();
    }
  }
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back())) != 0)
    body.remove_suffix(1);
  if (body.empty()) return "no message";
  if (body.size() <= k_max_message_chars) return std::string(body);
  return fmt::format("{}...", body.substr(0, k_max_message_chars));
}

bool is_success(long status) {
  return status >= 200 && status < 300;
}

}  // namespace

struct InfluxWriter::Impl {
  struct Reply {
    long status = 0;
    std::string body;
  };

  InfluxWriterOptions options;
  CurlEasy curl;
  std::array<char, CURL_ERROR_SIZE> curl_error{};
  std::string base_url;  // without trailing '/'
  std::string write_url;
  std::string endpoint;  // write_url without credentials
  bool gzip = true;      // until the server refuses it
  Deflater deflater;

  explicit Impl(InfluxWriterOptions writer_options) : options(std::move(writer_options)) {
    static std::once_flag global_init;
    std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl.reset(curl_easy_init());
    gzip = options.gzip;
    base_url = options.url;
    while (!base_url.empty() && base_url.back() == '/')
      base_url.pop_back();
    std::string query;
    if (options.api == InfluxApi::V1) {
      query = "/write?db=" + url_escape(curl.get(), options.database);
      if (!options.retention_policy.empty()) {
        query += "&rp=" + url_escape(curl.get(), options.retention_policy);
      }
    } else {
      query = "/api/v2/write?org=" + url_escape(curl.get(), options.org) +
              "&bucket=" + url_escape(curl.get(), options.bucket);
    }
    write_url = fmt::format("{}{}&precision={}", base_url, query, to_string(options.precision));
    endpoint = strip_credentials(write_url);
  }

  core::Result<Reply> post(const std::string& url, std::string_view body,
                           std::string_view content_type, bool gzipped) {
    if (!curl) return Error{ErrorKind::Io, fmt::format("{}: curl_easy_init failed", endpoint)};
    std::optional<std::string> compressed;
    if (gzipped) compressed = deflater.gzip(body);
    std::string_view payload = compressed ? std::string_view(*compressed) : body;

    CurlSlist headers;
    append_header(headers, fmt::format("Content-Type: {}", content_type));
    append_header(headers, "Expect:");  // no 100-continue round trip for large bodies
    if (compressed) append_header(headers, "Content-Encoding: gzip");
    if (options.api == InfluxApi::V2 && !options.token.empty()) {
      append_header(headers, "Authorization: Token " + options.token);
    }

    Reply reply;
    CURL* h = curl.get();
    curl_easy_reset(h);  // keeps the open connection
    curl_error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error.data());
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tracermon/" TRACERMON_VERSION_STRING);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect_reply);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout.count()));
    if (options.api == InfluxApi::V1 && !options.username.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(h, CURLOPT_USERNAME, options.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, options.password.c_str());
    }
    if (!options.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!options.verify_tls) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }

    auto code = curl_easy_perform(h);
    if (code != CURLE_OK) {
      auto what = curl_error[0] != '\0' ? std::string(curl_error.data())
                                        : std::string(curl_easy_strerror(code));
      return Error{ErrorKind::ConnectFailed, fmt::format("{}: {}", endpoint, what)};
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
    return reply;
  }

  [[nodiscard]] bool refuses_gzip(const Reply& reply) const {
    if (reply.status == 415) return true;
    if (reply.status != 400) return false;
    auto text = lowercase(reply.body);
    return text.find("encoding") != std::string::npos || text.find("gzip") != std::string::npos;
  }

  [[nodiscard]] bool database_not_found(const Reply& reply) const {
    return options.api == InfluxApi::V1 && reply.status == 404 &&
           lowercase(server_message(reply.body)).find("database not found") != std::string::npos;
  }

  core::Status create_database() {
    std::string name;
    for (char c : options.database) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    auto statement = fmt::format("CREATE DATABASE \"{}\"", name);
    auto query_endpoint = strip_credentials(base_url + "/query");
    auto reply = post(base_url + "/query", "q=" + url_escape(curl.get(), statement),
                      "application/x-www-form-urlencoded", false);
    if (!reply) return reply.error();
    const auto& r = reply.value();
    auto failed = [&](const std::string& why) {
      return Error{ErrorKind::Io, fmt::format("{}: cannot create database \"{}\": {}",
                                              query_endpoint, options.database, why)};
    };
    if (!is_success(r.status)) {
      return failed(fmt::format("HTTP {}: {}", r.status, server_message(r.body)));
    }
    // A statement that fails still answers 200, with the error inside its result.
    auto json = nlohmann::json::parse(r.body, nullptr, false);
    if (!json.is_discarded() && json.is_object() && json.contains("results") &&
        json["results"].is_array()) {
      for (const auto& result : json["results"]) {
        if (result.is_object() && result.contains("error") && result["error"].is_string()) {
          return failed(result["error"].get<std::string>());
        }
      }
    }
    spdlog::info("influxdb {}: created database \"{}\"", query_endpoint, options.database);
    return core::Ok{};
  }

  core::Result<Reply> post_write(const std::string& body) {
    constexpr std::string_view k_line_protocol = "text/plain; charset=utf-8";
    auto reply = post(write_url, body, k_line_protocol, gzip);
    if (reply && gzip && refuses_gzip(reply.value())) {
      spdlog::warn("influxdb {}: the server refuses gzip (HTTP {}); sending plain bodies", endpoint,
                   reply.value().status);
      gzip = false;
      reply = post(write_url, body, k_line_protocol, gzip);
    }
    if (reply && options.create_database && database_not_found(reply.value())) {
      if (auto created = create_database(); !created) return created.error();
      reply = post(write_url, body, k_line_protocol, gzip);
    }
    return reply;
  }

  [[nodiscard]] Error http_error(const Reply& reply) const {
    auto message =
        fmt::format("{}: HTTP {}: {}", endpoint, reply.status, server_message(reply.body));
    bool bad_data = reply.status == 400 || reply.status == 422;
    return Error{bad_data ? ErrorKind::Rejected : ErrorKind::Io, std::move(message)};
  }

  core::Status send(std::span<const std::string> items) {
    auto reply = post_write(join(items));
    if (!reply) return reply.error();
    const auto& r = reply.value();
    if (is_success(r.status)) return core::Ok{};
    if (r.status != 413) return http_error(r);
    if (items.size() > 1) return send_halves(items);
    auto lines = split_lines(items.empty() ? std::string_view() : std::string_view(items.front()));
    if (lines.size() > 1) return send_halves(lines);
    return Error{
        ErrorKind::Rejected,
        fmt::format("{}: HTTP 413: a line of {} bytes is too large even alone: {}", endpoint,
                    lines.empty() ? 0 : lines.front().size(), server_message(r.body))};
  }

  // A failure to reach the server stops at once (the runner retries the whole batch; points
  // written twice are the same points). A rejected half does not stop the other half.
  core::Status send_halves(std::span<const std::string> items) {
    auto half = items.size() / 2;
    std::optional<Error> rejected;
    for (auto part : {items.first(half), items.subspan(half)}) {
      auto sent = send(part);
      if (sent) continue;
      if (sent.error().kind != ErrorKind::Rejected) return sent;
      if (!rejected) rejected = sent.error();
    }
    if (rejected) return *rejected;
    return core::Ok{};
  }
};

InfluxWriter::InfluxWriter(InfluxWriterOptions options)
    : m_impl(std::make_unique<Impl>(std::move(options))) {}

InfluxWriter::~InfluxWriter() = default;

core::Status InfluxWriter::write(std::span<const std::string> items) {
  if (items.empty()) return core::Ok{};
  return m_impl->send(items);
}

std::string InfluxWriter::endpoint() const {
  return m_impl->endpoint;
}

}  // namespace tracermon::sinks
