#include "web/time_param.hpp"

#include <charconv>
#include <ctime>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace tracermon::web {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_relative(std::string_view text, std::int64_t now_ms) {
  if (text.size() < 3 || text[0] != '-') return std::nullopt;
  auto amount = parse_int(text.substr(1, text.size() - 2));
  if (!amount || *amount < 0) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = 60'000;
      break;
    case 'h':
      unit = 3'600'000;
      break;
    case 'd':
      unit = 86'400'000;
      break;
    case 'w':
      unit = 7 * 86'400'000LL;
      break;
    case 'y':
      unit = 365 * 86'400'000LL;
      break;
    default:
      return std::nullopt;
  }
  // "-9000000000000000000h" must not overflow.
  if (*amount > std::numeric_limits<std::int64_t>::max() / unit) return std::nullopt;
  return now_ms - *amount * unit;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  std::string s(text);
  std::tm tm{};
  int fraction_ms = 0;
  if (s.size() == 10) s += "T00:00:00Z";
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    if (!is_digit(*rest)) return std::nullopt;  // "10:00:00.Z"
    int digits = 0;
    while (is_digit(*rest)) {
      if (digits < 3) fraction_ms = fraction_ms * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    for (; digits < 3; ++digits)
      fraction_ms *= 10;
  }
  long offset_s = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    // Exactly "+HH:MM": sscanf("%2d") would take "+1:00" or "+ 1:00", and stepping 6 chars
    // past a shorter offset would read beyond the end of the string.
    if (!is_digit(rest[1]) || !is_digit(rest[2]) || rest[3] != ':' || !is_digit(rest[4]) ||
        !is_digit(rest[5])) {
      return std::nullopt;
    }
    long hours = (rest[1] - '0') * 10 + (rest[2] - '0');
    long minutes = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (hours > 23 || minutes > 59) return std::nullopt;
    offset_s = (hours * 3600L + minutes * 60L) * (*rest == '-' ? -1 : 1);
    rest += 6;
  } else {
    return std::nullopt;  // a time without zone is ambiguous
  }
  if (*rest != '\0') return std::nullopt;
  // Years far outside the allowed range must not overflow below: they stay out of range.
  if (tm.tm_year > 20000) return std::numeric_limits<std::int64_t>::max();
  if (tm.tm_year < -20000) return std::numeric_limits<std::int64_t>::min();
  auto seconds = timegm(&tm) - offset_s;
  return static_cast<std::int64_t>(seconds) * 1000 + fraction_ms;
}

}  // namespace

std::optional<std::int64_t> parse_time_param(std::string_view text, std::int64_t now_ms) {
  if (text == "now") return now_ms;
  if (auto relative = parse_relative(text, now_ms)) return relative;
  if (auto number = parse_int(text)) {
    // Ten digits or fewer are seconds (until the year 2286), more are milliseconds.
    return text.size() <= 10 ? *number * 1000 : *number;
  }
  return parse_rfc3339(text);
}

core::Result<std::int64_t> time_param(std::string_view name, std::string_view text,
                                      std::int64_t now_ms) {
  auto time = parse_time_param(text, now_ms);
  if (!time) {
    return core::Error{core::ErrorKind::InvalidArgument,
                       fmt::format("{}: '{}' is not a time; allowed: now, -24h, -7d, epoch seconds "
                                   "or ms, RFC 3339, from {}",
                                   name, text, k_time_range)};
  }
  if (*time < k_min_time_ms || *time > k_max_time_ms) {
    return core::Error{
        core::ErrorKind::InvalidArgument,
        fmt::format("{}: '{}' is outside the allowed range {}", name, text, k_time_range)};
  }
  return *time;
}

}  // namespace tracermon::web
