#pragma once
// How often each poll class is read, and so how old a value may be before it is stale: the
// daemon's schedule and every reader of its values agree on it.

#include <chrono>

#include "protocol/register_map.hpp"

namespace tracermon::model {

struct PollIntervals {
  std::chrono::milliseconds fast{5000};
  std::chrono::milliseconds slow{60000};
  std::chrono::milliseconds settings{3600000};
  int max_skip_cycles = 8;  // backoff cap, in fast cycles
};

// How old a field's value may be before it counts as stale: three of its poll intervals;
// zero (never stale) for rated data and settings, which are read rarely.
std::chrono::milliseconds max_age(const protocol::Field& field, const PollIntervals& intervals);

}  // namespace tracermon::model
