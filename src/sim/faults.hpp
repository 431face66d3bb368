#pragma once
// Faults a simulated bus can show on demand, each with a rate (the chance per request), seeded
// and repeatable: what real buses do to a poller (NOTES.md sections 10-12).

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace tracermon::sim {

enum class Fault : std::uint8_t {
  NoReply,       // the controller says nothing
  BadCrc,        // the reply's checksum is wrong
  Truncated,     // the reply stops early
  Late,          // the reply comes after the client's timeout (late_ms)
  Garbage,       // noise before the reply
  WrongId,       // a reply with another slave id
  Echo,          // our request echoed back before the reply (a bad adapter)
  Exception4,    // slave device failure
  Exception6,    // slave device busy
  SecondMaster,  // an MT50 or a PAL-ADP polling too: its frames interleave or collide with ours
  Stuck,         // the controller goes silent until it is power-cycled
  Unplug,        // the USB adapter vanishes for unplug_ms and comes back (pty links)
  Count
};
constexpr std::size_t k_fault_count = static_cast<std::size_t>(Fault::Count);

// "no-reply", "bad-crc", ... (also accepted with underscores).
std::string_view fault_name(Fault f);
std::optional<Fault> parse_fault_name(std::string_view name);
// Every name, for help texts and errors.
std::string fault_names();

struct FaultSettings {
  std::array<double, k_fault_count> rate{};  // 0..1 per request
  std::optional<std::uint8_t> only_unit;     // faults hit only this controller
  double late_ms = 1500;
  double unplug_ms = 2000;
};

// Parses "NAME=RATE" (e.g. "no-reply=0.2"), "late-ms=MS", "unplug-ms=MS" or "unit=ID" into
// `settings`; throws std::invalid_argument saying what is wrong and what is allowed.
void apply_fault_option(FaultSettings& settings, std::string_view option);

class FaultDice {
 public:
  explicit FaultDice(std::uint64_t seed) : m_rng(seed) {}
  // The fault for this request to `unit`, if one fires: each is tried in order with its rate.
  std::optional<Fault> roll(const FaultSettings& settings, std::uint8_t unit);
  // A uniform number in [0, 1), and an integer in [lo, hi], from the same seeded stream.
  double uniform();
  int between(int lo, int hi);

 private:
  std::mt19937_64 m_rng;
};

}  // namespace tracermon::sim
