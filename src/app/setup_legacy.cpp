#include "app/setup_legacy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "app/config.hpp"

namespace tracermon::app {

LegacyPlan read_legacy(const std::filesystem::path& dir, const std::filesystem::path& crontab) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw LegacyInputError(
        fmt::format("--from-legacy {}: not a folder (the old tool's, with "
                    "influx.db)",
                    dir.string()));
  }
  LegacyPlan plan;
  plan.crontab = crontab.empty() ? dir / "crontab" : crontab;
  if (crontab.empty() && !std::filesystem::exists(plan.crontab, ec)) {
    throw LegacyInputError(fmt::format(
        "{}: no such file: save the old cron job there (`crontab -l > {}`) or give it with "
        "--crontab FILE",
        plan.crontab.string(), plan.crontab.string()));
  }
  auto text = read_config_file(plan.crontab);  // ConfigError "FILE:1: cannot read ..."
  plan.jobs = parse_legacy_crontab(text, plan.crontab.string());
  for (const auto& job : plan.jobs) {
    if (job.mode == LegacyMode::Check) continue;
    if (job.mode == LegacyMode::FileSnap) plan.filesnap = true;
    if (job.mode == LegacyMode::DbSnap && !plan.dbsnap) plan.dbsnap = job;
    for (auto id : job.ids) {
      if (std::find(plan.ids.begin(), plan.ids.end(), id) == plan.ids.end()) plan.ids.push_back(id);
    }
  }
  if (plan.ids.empty()) {
    throw LegacyInputError(fmt::format(
        "{}: no `logtracer.py IDS dbsnap` or `filesnap` line: nothing to move over (plain "
        "`tracermon setup` finds the controllers)",
        plan.crontab.string()));
  }
  if (plan.dbsnap) {
    plan.influx_file = dir / "influx.db";
    plan.influx = load_influx_ini(plan.influx_file);
  }
  return plan;
}

}  // namespace tracermon::app
