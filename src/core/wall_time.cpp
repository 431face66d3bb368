#include "core/wall_time.hpp"

#include <ctime>

#include <fmt/format.h>

namespace tracermon::core {

std::string local_text(WallTime time, const char* strftime_format) {
  auto seconds = std::chrono::system_clock::to_time_t(time);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[64];
  auto size = std::strftime(text, sizeof text, strftime_format, &local);
  return {text, size};
}

std::string rfc3339(WallTime time) {
  auto seconds = std::chrono::system_clock::to_time_t(time);
  auto millis = epoch_ms(time) % 1000;
  std::tm local{};
  localtime_r(&seconds, &local);
  char base[32];
  std::strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &local);
  char zone[8];
  std::strftime(zone, sizeof zone, "%z", &local);  // +0100
  std::string offset(zone);
  if (offset.size() == 5) offset.insert(3, ":");
  if (offset == "+00:00") offset = "Z";
  return fmt::format("{}.{:03}{}", base, millis < 0 ? millis + 1000 : millis, offset);
}

}  // namespace tracermon::core
