#pragma once
// A simulated RS-485 bus: the controllers on it (a PAL-ADP group sharing one battery by
// default), the physics that drives them, the faults it shows and the timing of its replies.
// It is the slave::RequestHandler behind the slave links (pty, Modbus TCP, RTU over TCP), and
// the in-process sim: port talks to it too: it decides every reply, its timing and its faults,
// the links only carry the bytes. It is thread-safe, and like a real half-duplex bus it serves
// one request at a time.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/pdu.hpp"
#include "sim/controller.hpp"
#include "sim/faults.hpp"
#include "sim/journal.hpp"
#include "sim/plant.hpp"
#include "sim/profile.hpp"
#include "slave/request_handler.hpp"

namespace tracermon::sim {

struct BusOptions {
  std::vector<std::uint8_t> ids{1};
  std::vector<Profile> profiles;  // one per id, or one for all; empty: tracer-an
  std::uint64_t seed = 1;
  double speed = 1.0;                 // simulated seconds per real second
  std::uint16_t max_registers = 125;  // longer reads get exception 3
  double turnaround_ms = 4.0;         // before a reply, plus 0.5 ms per register (3-25 ms real)
  int baud = 115200;
  bool shared_battery = true;  // false: every controller has a battery of its own
  double cloudiness = 0.3;
  double latitude = 45.0;
  // The controllers' clocks at start, seconds since 2000-01-01 local; default: the host's
  // local time now.
  std::optional<ClockSeconds> start;
  FaultSettings faults;
  std::map<std::uint8_t, double> drift_ppm;
  // sim: ports only: replies without wire time (benchmarks of the host side, the demo history).
  bool instant = false;
  // A file to record every register value served in (journal.hpp); empty: none.
  std::filesystem::path journal;
};

class SimulatedBus final : public slave::RequestHandler {
 public:
  explicit SimulatedBus(BusOptions options);

  // One RTU request frame with a good CRC: the reply as the wire carries it, faults included
  // (an unplug lasts options().faults.unplug_ms).
  slave::Transmission on_rtu_frame(std::span<const std::uint8_t> frame) override;
  // One Modbus TCP request: the reply PDU and the unit to answer as, with only the faults a
  // client sees through a gateway (silence, late, truncated, wrong id, exceptions).
  slave::TcpReply on_tcp_request(std::uint8_t unit, std::span<const std::uint8_t> pdu) override;

  void set_faults(const FaultSettings& faults);
  [[nodiscard]] FaultSettings faults() const;
  bool power_cycle(std::uint8_t unit);  // false: no such controller
  bool set_drift(std::uint8_t unit, double ppm);
  // Runs the physics up to now (links call it on every request; the ticker of a quiet bus).
  void advance();
  // Runs the physics `seconds` of simulated time ahead at once, however long that is in real
  // time (the demo's history is made this way), then goes on from there in real time.
  void run_for(double seconds);
  // A controller's reply PDU without wire, timing or faults; nullopt for an absent id.
  std::optional<protocol::Bytes> request(std::uint8_t unit, std::span<const std::uint8_t> pdu);
  // A reply a link could not deliver: its client had gone away.
  void note_undelivered() override;
  // Counters and state, for the control channel and tests.
  [[nodiscard]] nlohmann::json status() const;
  // Time on the wire for `bytes` bytes at the bus's baud (10 bits a character).
  [[nodiscard]] double wire_ms(std::size_t bytes) const override;
  [[nodiscard]] const BusOptions& options() const { return m_options; }

 private:
  struct Member {
    std::unique_ptr<SimulatedController> controller;
    std::size_t plant = 0;   // index into m_plants
    std::size_t member = 0;  // index inside that plant
    bool stuck = false;
    std::uint64_t requests = 0;
  };
  Member* find(std::uint8_t unit);
  void advance_locked();
  // The controllers' settings, coils and battery capacity to the physics, before each step.
  void sync_locked();
  void step_locked(double seconds);
  // The controller's reply to one PDU, with the PDU-level faults applied; nullopt: silence.
  std::optional<protocol::Bytes> answer(Member& m, std::span<const std::uint8_t> pdu,
                                        std::optional<Fault> fault);
  void journal(std::uint8_t unit, std::span<const std::uint8_t> request,
               std::span<const std::uint8_t> reply);
  double turnaround(std::span<const std::uint8_t> pdu) const;

  BusOptions m_options;
  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<Plant>> m_plants;
  std::vector<Member> m_members;
  FaultDice m_dice;
  std::array<std::uint64_t, k_fault_count> m_fault_counts{};
  std::uint64_t m_requests = 0;
  std::uint64_t m_undelivered = 0;
  std::chrono::steady_clock::time_point m_last_advance;
  std::unique_ptr<ReplyJournal> m_journal;
};

// The host's local time now as controller-clock seconds (what a freshly set RTC would read).
ClockSeconds host_local_clock();

}  // namespace tracermon::sim
