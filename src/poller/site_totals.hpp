#pragma once
// Totals of a site: controllers that charge one shared battery (PAL-ADP parallel kit). Sums are
// only made from fresh values of every member: a total that silently leaves out a controller
// that stopped answering would look like a drop in production, so such a sum is left out and
// the site reported incomplete instead.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/site_totals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::poller {

// `members`: the latest snapshot of each member. A member that was never polled may be passed
// as a snapshot carrying only its device name; a null pointer counts as a missing member named
// "#<index>". A sample is fresh when its read_at is within `max_age` before `now`, so
// `max_age` must cover the slow poll interval for the energy sums to appear.
model::SiteTotals compute_site_totals(const protocol::RegisterMap& map, std::string site,
                                      std::span<const model::SnapshotPtr> members,
                                      core::SteadyTime now, std::chrono::milliseconds max_age);

}  // namespace tracermon::poller
