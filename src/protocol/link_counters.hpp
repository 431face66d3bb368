#pragma once
// What a Modbus master counts of its exchanges and of what else it sees on its link. The client
// keeps these for its link (transport::ClientCounters); the bus worker keeps each device's share
// (model::DeviceCounters). One struct for both, so the shares are carried over in one place.

#include <cstdint>

namespace tracermon::protocol {

struct LinkCounters {
  std::uint64_t requests = 0;      // frames sent, retries included
  std::uint64_t replies = 0;       // valid replies (exceptions included)
  std::uint64_t timeouts = 0;      // requests without a reply in time
  std::uint64_t crc_errors = 0;    // frames of ours with a bad CRC (RTU: each one seen)
  std::uint64_t bad_replies = 0;   // attempts that got only a wrong size, function or garbage
  std::uint64_t wrong_unit = 0;    // frames from slave ids we did not ask
  std::uint64_t echoes = 0;        // our own request seen coming back (adapter echo)
  std::uint64_t noise_bytes = 0;   // bytes on the line that belonged to no frame
  std::uint64_t late_replies = 0;  // replies that came after their request gave up (discarded)
  std::uint64_t other_master = 0;  // another master's requests and the replies to them
  std::uint64_t retries = 0;       // requests sent again
  std::uint64_t link_errors = 0;   // open/connect failures and I/O errors

  // Adds, counter by counter, what was counted from `before` to `after` (two readings of the
  // same counts, `after` the later one).
  void add_since(const LinkCounters& before, const LinkCounters& after);
};

}  // namespace tracermon::protocol
