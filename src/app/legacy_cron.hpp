#pragma once
// The old tool's cron jobs: `*/5 * * * * python3 /home/pi/epsolar/logtracer.py 1,2 dbsnap`.
// What `setup --from-legacy` needs from them: which ids, dbsnap or filesnap, how often.

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tracermon::app {

// "FILE:LINE: what is wrong". Nothing is written after one.
class LegacyInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LegacyMode { DbSnap, FileSnap, Check };

struct LegacyJob {
  std::size_t line = 0;
  std::string text;  // the whole cron line, to tell the user which one to remove
  std::vector<std::uint8_t> ids;
  LegacyMode mode = LegacyMode::Check;
  std::string check;               // Check: the field name (`logtracer.py 1 pvvolt`)
  std::chrono::minutes interval;   // how often it ran
  std::vector<std::string> notes;  // what the interval leaves out ("only at hours 6-20")
};

// How often a cron schedule runs: `*` 1 min, `*/5` 5 min, `0,15,30,45` 15 min, `7 * * * *`
// an hour, `@hourly`, `@daily`. `fields` are the five fields or one @word. Throws
// std::invalid_argument naming the field. Notes get what the interval does not say.
std::chrono::minutes cron_interval(const std::vector<std::string>& fields,
                                   std::vector<std::string>& notes);

// Every line of a crontab (`crontab -l` output or an /etc/cron.d file) that runs logtracer.py;
// comments and other jobs are skipped. Throws LegacyInputError "SOURCE:LINE: ..." for such a
// line whose schedule or arguments cannot be read.
std::vector<LegacyJob> parse_legacy_crontab(std::string_view text, std::string_view source);

}  // namespace tracermon::app
