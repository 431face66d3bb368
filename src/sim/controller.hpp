#pragma once
// One simulated Tracer as a Modbus slave: its register image (rated data, live values from the
// plant, statistics that roll over at its own clock, settings, coils), the checks an AN makes
// on writes (NOTES.md section 7), and Read Device Identification as in the vendor capture.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "protocol/decode.hpp"
#include "protocol/pdu.hpp"
#include "protocol/register_map.hpp"
#include "sim/plant.hpp"
#include "sim/profile.hpp"

namespace tracermon::sim {

// Seconds since 2000-01-01T00:00:00 on the controller's own clock (local time, no zone).
using ClockSeconds = double;

class SimulatedController {
 public:
  SimulatedController(const Profile& profile, std::uint8_t unit, ClockSeconds clock);

  [[nodiscard]] std::uint8_t unit() const { return m_unit; }
  [[nodiscard]] const Profile& profile() const { return m_profile; }

  // One request PDU in, the reply PDU out (an exception reply when the request is refused).
  // Reads of more than `max_registers` registers get exception 3.
  protocol::Bytes handle(std::span<const std::uint8_t> pdu, std::uint16_t max_registers);

  // After the plant moved `dt` simulated seconds: live registers, statistics, clock.
  void update(const ControllerReadings& readings, double dt);
  // What the settings and coils ask of the physics.
  [[nodiscard]] ChargeSettings charge_settings() const;
  [[nodiscard]] ControllerInputs inputs() const;
  // battery_capacity (0x9001) in Ah: the bank the controller is set up for.
  [[nodiscard]] double battery_capacity() const;

  [[nodiscard]] ClockSeconds clock() const { return m_clock; }
  void set_clock_drift(double ppm) { m_drift_ppm = ppm; }
  // Power lost and back: coils and load state reset to their defaults; the settings,
  // statistics and clock survive (EEPROM and the RTC battery).
  void power_cycle();

  // The current word of a register (tests and the control channel); nullopt if absent.
  [[nodiscard]] std::optional<std::uint16_t> word(protocol::Table table,
                                                  std::uint16_t address) const;

 private:
  [[nodiscard]] bool present(protocol::Table table, std::uint16_t address) const;
  protocol::Bytes read(std::uint8_t function, std::span<const std::uint8_t> pdu,
                       std::uint16_t max_registers);
  protocol::Bytes write_coil(std::span<const std::uint8_t> pdu);
  protocol::Bytes write_registers(std::span<const std::uint8_t> pdu);
  protocol::Bytes device_id(std::span<const std::uint8_t> pdu) const;
  // 0 when the write may go ahead, else the exception code.
  [[nodiscard]] std::uint8_t check_settings_write(std::uint16_t start,
                                                  std::span<const std::uint16_t> words) const;

  void set(std::string_view field, double value);  // scaled by the field's scale
  void set_raw(std::string_view field, std::uint32_t raw);
  [[nodiscard]] std::uint32_t raw(std::string_view field) const;
  [[nodiscard]] double value(std::string_view field) const;
  void load_defaults();
  void apply_battery_type_presets(std::uint16_t type);
  void update_statistics(const ControllerReadings& r);
  void write_statistics();
  void update_status(const ControllerReadings& r);
  [[nodiscard]] double system_voltage() const;

  static std::uint32_t key(protocol::Table table, std::uint16_t address) {
    return static_cast<std::uint32_t>(table) << 16 | address;
  }

  const protocol::RegisterMap& m_map;
  Profile m_profile;
  std::uint8_t m_unit;
  std::unordered_map<std::uint32_t, std::uint16_t> m_words;
  std::unordered_set<std::uint32_t> m_missing;  // addresses of the fields the model lacks

  ClockSeconds m_clock;
  double m_drift_ppm = 0;
  // Energy counters in Wh: the plant's running totals at the last update, and the host of
  // statistics kept by the controller (they start from a plausible past).
  double m_last_generated_wh = -1, m_last_consumed_wh = -1;
  double m_generated[4] = {}, m_consumed[4] = {};  // today, month, year, total
  double m_since_timer_start = 0;                  // seconds the light-timer load has been on
  bool m_was_night = false;
};

// Calendar helpers for the controller clock.
protocol::ControllerTime to_calendar(ClockSeconds seconds);
ClockSeconds from_calendar(const protocol::ControllerTime& t);

}  // namespace tracermon::sim
