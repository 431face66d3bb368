#pragma once
// Host-side energy accounting for one source (a device or a site). The controller's own
// "today"/"month" registers follow its battery-backed clock, which drifts and is often never
// set, so they are not used: the ledger takes the increase of the total counters between two
// observations and files it under the host's local calendar day, month and year.
//
// Rules, per counter (generated and consumed separately):
// - the first observation only sets the baseline;
// - `counter_reset` (from the Validator) re-baselines without a negative delta;
// - a decrease without the flag is ignored and the old baseline kept (a glitch), unless
//   `drop_confirm_observations` observations in a row stay below it: then it re-baselines, so
//   a counter cleared while nobody watched (daemon down) cannot freeze the ledger;
// - a jump larger than `max_step_kwh`, or than the rated power could produce in the elapsed
//   time, is ignored AND re-baselined. Why re-baseline: a real jump (controller swapped under
//   the same name, counter preset) stays, and keeping the old baseline would reject every
//   later reading too; a one-off garbled high reading is followed by lower readings, which the
//   Validator (and the rule above) turn into a reset, so either way the ledger recovers and
//   never files the impossible amount;
// - host times before 2020-01-01 (a Pi booting without RTC) are refused; when the host clock
//   goes back, increases still count but are filed under the period of the latest time seen,
//   so no period is ever reduced.
// Energy between two observations is filed under the day of the later one (the counters say
// nothing about when inside the gap it was produced).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "model/snapshot.hpp"

namespace tracermon::sinks {

enum class PeriodKind : std::uint8_t { Day, Month, Year };
const char* to_string(PeriodKind kind);  // "day", "month", "year"

struct EnergyPeriod {
  PeriodKind kind = PeriodKind::Day;
  std::string period;  // local calendar: "2026-11-25", "2026-11", "2026"
  double generated_kwh = 0;
  double consumed_kwh = 0;

  bool operator==(const EnergyPeriod&) const = default;
};

struct LedgerOptions {
  double max_step_kwh = 50;  // more in one step is not energy but a glitch or a swap
  // Rated power of the source (0 = unknown: only max_step_kwh applies). An increase above
  // 1.5 x rated x (elapsed + 15 min) is a jump; the 15 min cover counter granularity and lag.
  double generated_max_w = 0;
  double consumed_max_w = 0;
  int drop_confirm_observations = 3;
  std::size_t keep_days = 400;    // older days are dropped from the state (the store has them)
  std::size_t keep_months = 120;  // years are all kept
};

// What one observation did to one counter.
enum class CounterEvent : std::uint8_t {
  Absent,    // no value given
  Baseline,  // first value: nothing counted
  Counted,   // increase (possibly 0) filed
  Reset,     // re-baselined: flagged reset or a persistent drop
  Decrease,  // ignored, old baseline kept
  Jump,      // ignored and re-baselined
};
const char* to_string(CounterEvent event);

struct Observation {
  bool refused = false;          // host time before 2020-01-01: nothing changed
  bool clock_went_back = false;  // filed under the latest time seen instead of host_time
  std::string day;               // the day increases were filed under
  CounterEvent generated = CounterEvent::Absent;
  CounterEvent consumed = CounterEvent::Absent;
  double generated_kwh = 0;  // added by this observation
  double consumed_kwh = 0;
};

class EnergyLedger {
 public:
  explicit EnergyLedger(std::string source, LedgerOptions options = {});

  // Totals in kWh; nullopt when not read this time.
  Observation observe(core::WallTime host_time, std::optional<double> generated_total_kwh,
                      std::optional<double> consumed_total_kwh, bool counter_reset);

  [[nodiscard]] const std::string& source() const { return m_source; }
  [[nodiscard]] std::vector<EnergyPeriod> periods(PeriodKind kind) const;  // oldest first
  [[nodiscard]] std::optional<EnergyPeriod> period(PeriodKind kind, std::string_view name) const;
  // Rows changed since the last mark_saved() (or since construction / from_json()).
  [[nodiscard]] std::vector<EnergyPeriod> dirty() const;
  void mark_saved() { m_dirty.clear(); }

  // The current baselines in kWh (e.g. to seed Validator::remember_total after a restart).
  [[nodiscard]] std::optional<double> generated_baseline_kwh() const;
  [[nodiscard]] std::optional<double> consumed_baseline_kwh() const;

  // The whole state as JSON text; from_json() restores it (the options are configuration and
  // are passed again). A malformed text is an InvalidArgument error naming what is wrong.
  [[nodiscard]] std::string to_json() const;
  static core::Result<EnergyLedger> from_json(std::string_view text, LedgerOptions options = {});

 private:
  // Counters in Wh: the devices count in 10 Wh steps, so sums stay exact.
  struct Counter {
    std::optional<std::int64_t> baseline_wh;
    std::optional<core::WallTime> baseline_time;  // host time the baseline was read
    int drops = 0;                                // observations in a row below the baseline
    std::int64_t drop_last_wh = 0;
  };
  struct Amounts {
    std::int64_t generated_wh = 0;
    std::int64_t consumed_wh = 0;
  };

  CounterEvent update(Counter& counter, std::optional<double> total_kwh, bool reset,
                      core::WallTime host_time, double max_w, std::int64_t& added) const;
  void file(core::WallTime time, std::int64_t generated_wh, std::int64_t consumed_wh);
  std::map<std::string, Amounts>& table(PeriodKind kind);
  [[nodiscard]] const std::map<std::string, Amounts>& table(PeriodKind kind) const;

  std::string m_source;
  LedgerOptions m_options;
  Counter m_generated;
  Counter m_consumed;
  std::optional<core::WallTime> m_latest;  // latest host time accepted
  std::map<std::string, Amounts> m_days;
  std::map<std::string, Amounts> m_months;
  std::map<std::string, Amounts> m_years;
  std::set<std::pair<PeriodKind, std::string>> m_dirty;
};

}  // namespace tracermon::sinks
