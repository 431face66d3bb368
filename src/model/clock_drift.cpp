#include "model/clock_drift.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace tracermon::model {

double calendar_seconds_between(const protocol::ControllerTime& controller,
                                const protocol::ControllerTime& host) {
  auto seconds = [](const protocol::ControllerTime& c) {
    using namespace std::chrono;
    auto day = sys_days{year{c.year} / month{static_cast<unsigned>(c.month)} /
                        std::chrono::day{static_cast<unsigned>(c.day)}};
    return static_cast<double>(day.time_since_epoch().count()) * 86400.0 + c.hour * 3600.0 +
           c.minute * 60.0 + c.second;
  };
  return seconds(controller) - seconds(host);
}

protocol::ControllerTime local_time_of(WallTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&t, &tm);
  protocol::ControllerTime c;
  c.year = tm.tm_year + 1900;
  c.month = tm.tm_mon + 1;
  c.day = tm.tm_mday;
  c.hour = tm.tm_hour;
  c.minute = tm.tm_min;
  c.second = std::min(tm.tm_sec, 59);  // a leap second, as device::local_calendar clamps it
  return c;
}

std::optional<double> clock_drift_s(const protocol::RegisterMap& map,
                                    const DeviceSnapshot& snapshot) {
  if (!snapshot.clock_trusted) return std::nullopt;
  const FieldSample* words[3] = {};
  const char* names[3] = {"rtc_minute_second", "rtc_day_hour", "rtc_year_month"};
  for (int i = 0; i < 3; ++i) {
    const auto* field = map.find(names[i]);
    if (field == nullptr) return std::nullopt;
    words[i] = snapshot.find(field->id);
    if (words[i] == nullptr) return std::nullopt;
  }
  auto [first, last] = std::minmax({words[0]->wall_time, words[1]->wall_time, words[2]->wall_time});
  if (last - first > std::chrono::seconds(2)) return std::nullopt;
  auto controller =
      protocol::decode_rtc(words[0]->words[0], words[1]->words[0], words[2]->words[0]);
  using namespace std::chrono;
  if (!controller.valid() ||
      !year_month_day{year{controller.year} / month{static_cast<unsigned>(controller.month)} /
                      day{static_cast<unsigned>(controller.day)}}
           .ok()) {
    return std::nullopt;  // never set, or a day the month does not have
  }
  // The seconds word is the one that moves: the host's time when it was read.
  return calendar_seconds_between(controller, local_time_of(words[0]->wall_time));
}

}  // namespace tracermon::model
