#include "model/clock_drift.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace tracermon::model {

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
  return protocol::seconds_between(controller, protocol::local_calendar(words[0]->wall_time));
}

}  // namespace tracermon::model
