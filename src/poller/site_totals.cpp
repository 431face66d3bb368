#include "poller/site_totals.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace tracermon::poller {

model::SiteTotals compute_site_totals(const protocol::RegisterMap& map, std::string site,
                                      std::span<const model::SnapshotPtr> members,
                                      core::SteadyTime now, std::chrono::milliseconds max_age) {
  model::SiteTotals totals;
  totals.site = std::move(site);
  for (std::size_t i = 0; i < members.size(); ++i) {
    totals.members.push_back(members[i] ? members[i]->device : "#" + std::to_string(i));
  }

  auto fresh = [&](std::size_t member, protocol::FieldId id) -> const model::FieldSample* {
    if (!members[member]) return nullptr;
    const auto* sample = members[member]->find(id);
    if (sample == nullptr || now - sample->read_at > max_age) return nullptr;
    return sample;
  };

  std::vector<bool> missing(members.size(), false);
  for (const auto& spec : model::site_fields()) {
    const auto* field = map.find(spec.source);
    std::vector<const model::FieldSample*> samples;
    std::vector<std::size_t> lacking;
    // Totals are dated by their members' cycles (the snapshot times the store files rows
    // under), not by the read time of each field within a cycle.
    core::WallTime newest_cycle{};
    for (std::size_t i = 0; field != nullptr && i < members.size(); ++i) {
      if (const auto* sample = fresh(i, field->id)) {
        if (samples.empty() || spec.combine != model::SiteCombine::First) {
          newest_cycle = std::max(newest_cycle, members[i]->time);
        }
        samples.push_back(sample);
      } else {
        lacking.push_back(i);
      }
    }
    // A sum needs every member; the battery fields need any one of them.
    bool computable = field != nullptr && !samples.empty() &&
                      (spec.combine != model::SiteCombine::Sum || lacking.empty());
    if (!computable) {
      for (auto i : lacking)
        missing[i] = true;
      totals.left_out.emplace_back(spec.name);
      continue;
    }
    double value = 0;
    totals.time = std::max(totals.time, newest_cycle);
    if (spec.combine == model::SiteCombine::First) {
      value = samples.front()->value;
    } else {
      for (const auto* sample : samples)
        value += sample->value;
      if (spec.combine == model::SiteCombine::Mean) value /= static_cast<double>(samples.size());
    }
    // Sums and means of 0.01 steps: round away the binary fraction noise (707.0899999 ->
    // 707.09) here, once, so every output shows and files the same number.
    totals.values.emplace_back(spec.name, std::round(value * 100) / 100);
  }

  for (std::size_t i = 0; i < members.size(); ++i) {
    if (missing[i]) totals.missing_members.push_back(totals.members[i]);
  }
  totals.complete = totals.left_out.empty() && totals.missing_members.empty();
  return totals;
}

}  // namespace tracermon::poller
