#include "app/legacy_cron.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "app/cli_common.hpp"

namespace tracermon::app {

namespace {

using std::chrono::minutes;

int parse_number(std::string_view text, int low, int high, std::string_view what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < low ||
      value > high) {
    throw std::invalid_argument(fmt::format("{} '{}' is not {}-{}", what, text, low, high));
  }
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (true) {
    auto next = text.find(separator, pos);
    parts.push_back(text.substr(pos, next == text.npos ? text.npos : next - pos));
    if (next == text.npos) return parts;
    pos = next + 1;
  }
}

// The minutes between runs within an hour, from the minute field; 60 for a single minute.
int minute_step(std::string_view field, std::vector<std::string>& notes) {
  if (field == "*") return 1;
  if (auto slash = field.find('/'); slash != std::string_view::npos) {
    auto range = field.substr(0, slash);
    int step = parse_number(field.substr(slash + 1), 1, 59, "minute step");
    if (range != "*") {
      auto dash = range.find('-');
      parse_number(range.substr(0, dash), 0, 59, "minute");
      if (dash != std::string_view::npos) parse_number(range.substr(dash + 1), 0, 59, "minute");
    }
    if (60 % step != 0)
      notes.push_back(fmt::format("every {} minutes, restarting each hour", step));
    return step;
  }
  std::vector<int> list;
  for (auto part : split(field, ',')) {
    if (part.find('-') != std::string_view::npos) {
      throw std::invalid_argument(fmt::format("minute range '{}' without a step", part));
    }
    list.push_back(parse_number(part, 0, 59, "minute"));
  }
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  if (list.size() == 1) return 60;
  int smallest = 60;
  for (std::size_t i = 0; i < list.size(); ++i) {
    int next = i + 1 < list.size() ? list[i + 1] : list.front() + 60;
    smallest = std::min(smallest, next - list[i]);
  }
  if (60 % static_cast<int>(list.size()) != 0 || smallest != 60 / static_cast<int>(list.size())) {
    notes.push_back(
        fmt::format("minutes {} are not evenly spaced: the shortest gap is used", field));
  }
  return smallest;
}

}  // namespace

minutes cron_interval(const std::vector<std::string>& fields, std::vector<std::string>& notes) {
  if (fields.size() == 1 && fields.front().starts_with('@')) {
    const auto& word = fields.front();
    if (word == "@hourly") return minutes(60);
    if (word == "@daily" || word == "@midnight") return minutes(24 * 60);
    if (word == "@weekly") return minutes(7 * 24 * 60);
    throw std::invalid_argument(fmt::format("'{}' is not a regular schedule", word));
  }
  if (fields.size() != 5) throw std::invalid_argument("a schedule has 5 fields");
  int step = minute_step(fields[0], notes);
  const auto& hour = fields[1];
  if (step == 60 && hour != "*") {
    // One minute of some hours: every N hours, or daily.
    if (hour.starts_with("*/")) {
      step = 60 * parse_number(std::string_view(hour).substr(2), 1, 23, "hour step");
    } else {
      step = 24 * 60;
      notes.push_back(fmt::format("only at hour(s) {}", hour));
    }
  } else if (hour != "*") {
    notes.push_back(fmt::format("only at hour(s) {}", hour));
  }
  if (fields[2] != "*" || fields[3] != "*" || fields[4] != "*") {
    notes.push_back(fmt::format("only on days '{} {} {}' (day, month, weekday)", fields[2],
                                fields[3], fields[4]));
  }
  return minutes(step);
}

std::vector<LegacyJob> parse_legacy_crontab(std::string_view text, std::string_view source) {
  std::vector<LegacyJob> jobs;
  std::istringstream in{std::string(text)};
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string word; words >> word;)
      tokens.push_back(word);
    if (tokens.empty() || tokens.front().starts_with('#')) continue;
    auto script = std::find_if(tokens.begin(), tokens.end(), [](const std::string& t) {
      return t == "logtracer.py" || t.ends_with("/logtracer.py");
    });
    if (script == tokens.end()) continue;
    auto fail = [&](const std::string& what) {
      return LegacyInputError(fmt::format("{}:{}: {}: {}", source, number, what, line));
    };
    LegacyJob job;
    job.line = number;
    job.text = line;
    std::size_t schedule_size = tokens.front().starts_with('@') ? 1 : 5;
    if (tokens.size() < schedule_size + 1 ||
        static_cast<std::size_t>(script - tokens.begin()) < schedule_size) {
      throw fail("not a cron line (a schedule of 5 fields or @hourly, then the command)");
    }
    try {
      job.interval = cron_interval(
          {tokens.begin(), tokens.begin() + static_cast<long>(schedule_size)}, job.notes);
    } catch (const std::invalid_argument& e) {
      throw fail(fmt::format("bad schedule: {}", e.what()));
    }
    if (tokens.end() - script < 3)
      throw fail("logtracer.py needs ids and dbsnap, filesnap or a check");
    try {
      job.ids = parse_ids(*(script + 1));
    } catch (const UsageError& e) {
      throw fail(e.what());
    }
    // "dbsnap>/dev/null", "dbsnap;": the word ends where the shell's syntax starts.
    std::string what = *(script + 2);
    what = what.substr(0, what.find_first_of(";&|<>"));
    job.mode = what == "dbsnap"     ? LegacyMode::DbSnap
               : what == "filesnap" ? LegacyMode::FileSnap
                                    : LegacyMode::Check;
    if (job.mode == LegacyMode::Check) job.check = what;
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace tracermon::app
