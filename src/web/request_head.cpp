#include "web/request_head.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "web/api.hpp"

namespace tracermon::web {

namespace {

constexpr std::string_view k_crlf = "\r\n";

HeadCheck refused(int status, std::string reason) {
  HeadCheck check;
  check.verdict = HeadCheck::Verdict::Refused;
  check.status = status;
  check.reason = std::move(reason);
  return check;
}

std::size_t count_lines(std::string_view text) {
  std::size_t lines = 0;
  for (auto pos = text.find(k_crlf); pos != std::string_view::npos;
       pos = text.find(k_crlf, pos + 2)) {
    ++lines;
  }
  return lines;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace

HeadCheck check_request_head(std::string_view received, const HttpLimits& limits) {
  auto line_end = received.find(k_crlf);
  if (line_end == std::string_view::npos ? received.size() > limits.max_request_line
                                         : line_end > limits.max_request_line) {
    return refused(414, fmt::format("request line longer than {} bytes", limits.max_request_line));
  }
  auto too_many_lines = fmt::format("more than {} header lines", limits.max_header_lines);
  auto head_end = received.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (received.size() > limits.max_head) {
      return refused(431, fmt::format("request head longer than {} bytes", limits.max_head));
    }
    if (count_lines(received) > limits.max_header_lines + 1) return refused(431, too_many_lines);
    return {};
  }
  HeadCheck check;
  check.length = head_end + 4;
  if (check.length > limits.max_head) {
    return refused(431, fmt::format("request head longer than {} bytes", limits.max_head));
  }
  auto head = received.substr(0, head_end + 2);  // every line with its CRLF
  if (count_lines(head) > limits.max_header_lines + 1) return refused(431, too_many_lines);

  auto request_line = head.substr(0, line_end);
  auto method = request_line.substr(0, request_line.find(' '));
  auto target = request_line.size() > method.size() ? request_line.substr(method.size() + 1)
                                                    : std::string_view{};
  target = target.substr(0, target.find(' '));
  auto path = target.substr(0, target.find('?'));
  check.event_stream = method == "GET" && path == "/api/v1/events";
  const bool takes_body = method == "POST" && path.starts_with("/api/v1/control/");

  constexpr std::string_view k_no_body =
      "request body not accepted: only POST /api/v1/control/... takes one";
  for (auto pos = line_end + 2; pos < head.size();) {
    auto end = head.find(k_crlf, pos);
    auto line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // cpp-httplib answers 400 for it
    auto name = line.substr(0, colon);
    auto value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "transfer-encoding")) {
      return refused(413, takes_body ? "chunked request bodies are not accepted: send a "
                                       "Content-Length"
                                     : std::string(k_no_body));
    }
    if (equals_ignoring_case(name, "content-length")) {
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return refused(400, fmt::format("Content-Length '{}' is not a number", value));
      }
      auto digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
      if (digits.empty()) continue;
      if (!takes_body) return refused(413, std::string(k_no_body));
      // More digits than max_body has is too long, whatever they say (no overflow).
      std::size_t length = 0;
      bool too_long = digits.size() > std::to_string(limits.max_body).size();
      for (char c : digits) {
        if (too_long) break;
        length = length * 10 + static_cast<std::size_t>(c - '0');
      }
      if (too_long || length > limits.max_body) {
        return refused(413, fmt::format("request body larger than {} bytes", limits.max_body));
      }
      if (check.body != 0 && check.body != length) {
        return refused(400, "Content-Length given twice with different values");
      }
      check.body = length;
    }
  }
  check.verdict = HeadCheck::Verdict::Complete;
  return check;
}

std::string refusal(int status, std::string_view message) {
  auto body = error_body(message);
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\n{}\r\n{}",
      status, reason_phrase(status), body.size(), status == 503 ? "Retry-After: 5\r\n" : "", body);
}

}  // namespace tracermon::web
