#include "protocol/link_counters.hpp"

#include <array>

namespace tracermon::protocol {
namespace {

constexpr std::array k_counters = {
    &LinkCounters::requests,     &LinkCounters::replies,     &LinkCounters::timeouts,
    &LinkCounters::crc_errors,   &LinkCounters::bad_replies, &LinkCounters::wrong_unit,
    &LinkCounters::echoes,       &LinkCounters::noise_bytes, &LinkCounters::late_replies,
    &LinkCounters::other_master, &LinkCounters::retries,     &LinkCounters::link_errors,
};
// A counter added to the struct but not to the list would silently not be carried over.
static_assert(sizeof(LinkCounters) == k_counters.size() * sizeof(std::uint64_t),
              "every member of LinkCounters must be in k_counters");

}  // namespace

void LinkCounters::add_since(const LinkCounters& before, const LinkCounters& after) {
  for (auto counter : k_counters)
    this->*counter += after.*counter - before.*counter;
}

}  // namespace tracermon::protocol
