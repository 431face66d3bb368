#include "sinks/energy_ledger.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/wall_time.hpp"

namespace tracermon::sinks {
namespace {

using Json = nlohmann::json;

constexpr int k_json_version = 1;
constexpr double k_rate_factor = 1.5;
constexpr double k_rate_slack_hours = 0.25;

// No real reading is older; a host clock saying so is a Pi that booted without RTC or NTP.
core::WallTime time_floor() {
  return core::WallTime{std::chrono::sys_days{std::chrono::year{2020} / 1 / 1}};
}

std::tm local_tm(core::WallTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

std::string period_name(PeriodKind kind, const std::tm& tm) {
  switch (kind) {
    case PeriodKind::Day:
      return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    case PeriodKind::Month:
      return fmt::format("{:04}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1);
    case PeriodKind::Year:
      return fmt::format("{:04}", tm.tm_year + 1900);
  }
  return {};
}

constexpr PeriodKind k_kinds[] = {PeriodKind::Day, PeriodKind::Month, PeriodKind::Year};

using core::epoch_ms;
using core::from_epoch_ms;

}  // namespace

const char* to_string(PeriodKind kind) {
  switch (kind) {
    case PeriodKind::Day:
      return "day";
    case PeriodKind::Month:
      return "month";
    case PeriodKind::Year:
      return "year";
  }
  return "day";
}

const char* to_string(CounterEvent event) {
  switch (event) {
    case CounterEvent::Absent:
      return "absent";
    case CounterEvent::Baseline:
      return "baseline";
    case CounterEvent::Counted:
      return "counted";
    case CounterEvent::Reset:
      return "reset";
    case CounterEvent::Decrease:
      return "decrease";
    case CounterEvent::Jump:
      return "jump";
  }
  return "absent";
}

EnergyLedger::EnergyLedger(std::string source, LedgerOptions options)
    : m_source(std::move(source)), m_options(options) {}

CounterEvent EnergyLedger::update(Counter& counter, std::optional<double> total_kwh, bool reset,
                                  core::WallTime host_time, double max_w,
                                  std::int64_t& added) const {
  added = 0;
  if (!total_kwh || !std::isfinite(*total_kwh) || *total_kwh < 0) return CounterEvent::Absent;
  const std::int64_t wh = std::llround(*total_kwh * 1000);
  auto rebase = [&] {
    counter.baseline_wh = wh;
    counter.baseline_time = host_time;
    counter.drops = 0;
  };
  if (!counter.baseline_wh) {
    rebase();
    return CounterEvent::Baseline;
  }
  if (reset) {
    rebase();
    return CounterEvent::Reset;
  }
  if (wh < *counter.baseline_wh) {
    // A cleared counter stays low and only grows; a glitch comes back up.
    counter.drops = counter.drops > 0 && wh >= counter.drop_last_wh ? counter.drops + 1 : 1;
    counter.drop_last_wh = wh;
    if (counter.drops >= m_options.drop_confirm_observations) {
      rebase();
      return CounterEvent::Reset;
    }
    return CounterEvent::Decrease;
  }
  counter.drops = 0;
  const std::int64_t delta = wh - *counter.baseline_wh;
  bool jump = static_cast<double>(delta) > m_options.max_step_kwh * 1000;
  // The rate bound needs a trustworthy elapsed time: not after the host clock went back.
  if (max_w > 0 && counter.baseline_time && host_time > *counter.baseline_time) {
    double hours =
        std::chrono::duration<double, std::ratio<3600>>(host_time - *counter.baseline_time)
            .count() +
        k_rate_slack_hours;
    if (static_cast<double>(delta) > max_w * k_rate_factor * hours) jump = true;
  }
  rebase();
  if (jump) return CounterEvent::Jump;
  added = delta;
  return CounterEvent::Counted;
}

Observation EnergyLedger::observe(core::WallTime host_time,
                                  std::optional<double> generated_total_kwh,
                                  std::optional<double> consumed_total_kwh, bool counter_reset) {
  Observation result;
  if (host_time < time_floor()) {
    result.refused = true;
    return result;
  }
  core::WallTime filed_at = host_time;
  if (m_latest && host_time < *m_latest) {
    filed_at = *m_latest;
    result.clock_went_back = true;
  } else {
    m_latest = host_time;
  }
  result.day = period_name(PeriodKind::Day, local_tm(filed_at));

  std::int64_t generated_wh = 0;
  std::int64_t consumed_wh = 0;
  result.generated = update(m_generated, generated_total_kwh, counter_reset, host_time,
                            m_options.generated_max_w, generated_wh);
  result.consumed = update(m_consumed, consumed_total_kwh, counter_reset, host_time,
                           m_options.consumed_max_w, consumed_wh);
  result.generated_kwh = static_cast<double>(generated_wh) / 1000;
  result.consumed_kwh = static_cast<double>(consumed_wh) / 1000;
  if (result.generated == CounterEvent::Counted || result.consumed == CounterEvent::Counted) {
    file(filed_at, generated_wh, consumed_wh);
  }
  return result;
}

void EnergyLedger::file(core::WallTime time, std::int64_t generated_wh, std::int64_t consumed_wh) {
  const auto tm = local_tm(time);
  for (auto kind : k_kinds) {
    auto& rows = table(kind);
    auto name = period_name(kind, tm);
    auto [row, created] = rows.try_emplace(name);
    if (created || generated_wh != 0 || consumed_wh != 0) m_dirty.emplace(kind, name);
    row->second.generated_wh += generated_wh;
    row->second.consumed_wh += consumed_wh;
    std::size_t keep = kind == PeriodKind::Day     ? m_options.keep_days
                       : kind == PeriodKind::Month ? m_options.keep_months
                                                   : rows.size();
    while (rows.size() > std::max<std::size_t>(keep, 1))
      rows.erase(rows.begin());
  }
}

std::map<std::string, EnergyLedger::Amounts>& EnergyLedger::table(PeriodKind kind) {
  return kind == PeriodKind::Day ? m_days : kind == PeriodKind::Month ? m_months : m_years;
}

const std::map<std::string, EnergyLedger::Amounts>& EnergyLedger::table(PeriodKind kind) const {
  return kind == PeriodKind::Day ? m_days : kind == PeriodKind::Month ? m_months : m_years;
}

namespace {
EnergyPeriod make_period(PeriodKind kind, const std::string& name, std::int64_t generated_wh,
                         std::int64_t consumed_wh) {
  return EnergyPeriod{kind, name, static_cast<double>(generated_wh) / 1000,
                      static_cast<double>(consumed_wh) / 1000};
}
}  // namespace

std::vector<EnergyPeriod> EnergyLedger::periods(PeriodKind kind) const {
  std::vector<EnergyPeriod> out;
  for (const auto& [name, amounts] : table(kind)) {
    out.push_back(make_period(kind, name, amounts.generated_wh, amounts.consumed_wh));
  }
  return out;
}

std::optional<EnergyPeriod> EnergyLedger::period(PeriodKind kind, std::string_view name) const {
  const auto& rows = table(kind);
  auto it = rows.find(std::string(name));
  if (it == rows.end()) return std::nullopt;
  return make_period(kind, it->first, it->second.generated_wh, it->second.consumed_wh);
}

std::vector<EnergyPeriod> EnergyLedger::dirty() const {
  std::vector<EnergyPeriod> out;
  for (const auto& [kind, name] : m_dirty) {
    if (auto row = period(kind, name)) out.push_back(*row);  // pruned rows are gone
  }
  return out;
}

std::optional<double> EnergyLedger::generated_baseline_kwh() const {
  if (!m_generated.baseline_wh) return std::nullopt;
  return static_cast<double>(*m_generated.baseline_wh) / 1000;
}

std::optional<double> EnergyLedger::consumed_baseline_kwh() const {
  if (!m_consumed.baseline_wh) return std::nullopt;
  return static_cast<double>(*m_consumed.baseline_wh) / 1000;
}

std::string EnergyLedger::to_json() const {
  auto counter_json = [](const Counter& counter) {
    Json j = Json::object();
    if (counter.baseline_wh) j["baseline_wh"] = *counter.baseline_wh;
    if (counter.baseline_time) j["baseline_time_ms"] = epoch_ms(*counter.baseline_time);
    j["drops"] = counter.drops;
    j["drop_last_wh"] = counter.drop_last_wh;
    return j;
  };
  Json j;
  j["version"] = k_json_version;
  j["source"] = m_source;
  if (m_latest) j["latest_time_ms"] = epoch_ms(*m_latest);
  j["generated"] = counter_json(m_generated);
  j["consumed"] = counter_json(m_consumed);
  for (auto kind : k_kinds) {
    Json rows = Json::object();
    for (const auto& [name, amounts] : table(kind)) {
      rows[name] = {{"generated_wh", amounts.generated_wh}, {"consumed_wh", amounts.consumed_wh}};
    }
    j[std::string(to_string(kind)) + "s"] = std::move(rows);
  }
  return j.dump();
}

core::Result<EnergyLedger> EnergyLedger::from_json(std::string_view text, LedgerOptions options) {
  auto error = [](const std::string& what) {
    return core::Error{core::ErrorKind::InvalidArgument, "energy ledger state: " + what};
  };
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return error("not valid JSON");
  if (!j.is_object()) return error("not a JSON object");
  // Type mismatches surface as nlohmann exceptions; they stay inside this function.
  try {
    if (j.value("version", 0) != k_json_version) {
      return error(fmt::format("unsupported version {}", j.value("version", 0)));
    }
    EnergyLedger ledger(j.at("source").get<std::string>(), options);
    if (j.contains("latest_time_ms")) {
      ledger.m_latest = from_epoch_ms(j.at("latest_time_ms").get<std::int64_t>());
    }
    auto read_counter = [](const Json& c, Counter& counter) {
      if (c.contains("baseline_wh")) counter.baseline_wh = c.at("baseline_wh").get<std::int64_t>();
      if (c.contains("baseline_time_ms")) {
        counter.baseline_time = from_epoch_ms(c.at("baseline_time_ms").get<std::int64_t>());
      }
      counter.drops = c.value("drops", 0);
      counter.drop_last_wh = c.value("drop_last_wh", std::int64_t{0});
    };
    read_counter(j.at("generated"), ledger.m_generated);
    read_counter(j.at("consumed"), ledger.m_consumed);
    for (auto kind : k_kinds) {
      auto key = std::string(to_string(kind)) + "s";
      if (!j.contains(key)) continue;
      for (const auto& [name, row] : j.at(key).items()) {
        ledger.table(kind)[name] = Amounts{row.at("generated_wh").get<std::int64_t>(),
                                           row.at("consumed_wh").get<std::int64_t>()};
      }
    }
    return ledger;
  } catch (const Json::exception& e) {
    return error(e.what());
  }
}

}  // namespace tracermon::sinks
