#pragma once
// The physics behind simulated controllers: the sun over a day with clouds, the panels of each
// controller, MPPT or PWM charging, one battery shared by the group (a PAL-ADP puts the
// controllers in parallel on one bank), a DC load per controller and temperatures. Pure and
// deterministic: nothing moves except through step(), and the same seed gives the same day.
// The register image (sim/controller_image.hpp) turns these readings into Modbus words.

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace tracermon::sim {

// The share of the charge current a lead-acid bank stores (coulombic efficiency); discharge
// takes out exactly what flows.
inline constexpr double k_charge_efficiency = 0.95;

// 0x3201 D3-D2. Bulk (the voltage still rising to the boost target) reports as Boost, as a
// Tracer does.
enum class ChargePhase : std::uint8_t { None = 0, Float = 1, Boost = 2, Equalize = 3 };

struct ControllerRating {
  double max_pv_voltage = 100.0;       // V, PV input limit (0x3000)
  double rated_charge_current = 30.0;  // A (0x3005)
  double rated_load_current = 20.0;    // A (0x300E)
  bool mppt = true;                    // false: PWM, the PV voltage sits near the battery's
};

struct PanelArray {                    // the string wired to one controller
  double peak_power = 400.0;           // W at 1000 W/m2
  double open_circuit_voltage = 44.0;  // V
  double max_power_voltage = 36.0;     // V
};

// Charging thresholds in volts for the real system voltage (the register image multiplies
// the 12 V values of 0x9000-0x900E by the number of 12 V blocks), and durations.
struct ChargeSettings {
  double over_voltage_disconnect = 16.0;
  double charging_limit = 15.0;
  double equalize = 14.6;
  double boost = 14.4;
  double float_voltage = 13.8;
  double boost_reconnect = 13.2;
  double low_voltage_reconnect = 12.6;
  double under_voltage_recover = 12.2;
  double under_voltage_warning = 12.0;
  double low_voltage_disconnect = 11.1;
  double discharging_limit = 10.6;
  double temperature_compensation = 3.0;  // mV per degC per 2 V cell, from 25 degC
  double boost_minutes = 120;
  double equalize_minutes = 120;
  double equalize_cycle_days = 30;
};

// What the register image tells the physics (coils, load logic).
struct ControllerInputs {
  bool charging_enabled = true;  // coil 0
  bool load_on = true;           // the outcome of the load mode and coils
};

struct Site {
  double battery_nominal_voltage = 12.0;  // 12, 24, 36 or 48
  double battery_capacity_ah = 200.0;     // the shared bank at start (set_battery_capacity)
  double initial_soc = 0.6;               // 0..1
  double latitude = 45.0;                 // degrees, for day length
  int day_of_year = 172;                  // 1..366 at the start
  double cloudiness = 0.3;                // 0 clear .. 1 overcast: mean depth of cloud dips
  double ambient_mean = 20.0;             // degC, daily mean; +-5 over the day
};

struct ControllerSetup {
  ControllerRating rating;
  PanelArray panels;
  double load_watts = 40.0;  // mean DC load; varies over the day (more in the evening)
};

// Everything one controller measures at this instant. Currents and powers >= 0 except
// battery_net_current (+ into the battery, - out of it; the same for every member).
struct ControllerReadings {
  double pv_voltage = 0, pv_current = 0, pv_power = 0;
  double battery_voltage = 0;
  double charging_current = 0, charging_power = 0;  // from this controller into the battery
  double load_voltage = 0, load_current = 0, load_power = 0;
  double battery_net_current = 0;  // the bank: all charging minus all loads
  double battery_temperature = 25, device_temperature = 25, power_components_temperature = 25;
  double ambient_temperature = 25;
  int soc = 0;  // % 0..100, the bank's
  ChargePhase phase = ChargePhase::None;
  bool night = false;                   // PV voltage below the night threshold (about 5 V per 12 V)
  bool load_on = false;                 // the load is powered (off after low-voltage disconnect)
  bool low_voltage_disconnect = false;  // load cut for low battery until low_voltage_reconnect
  bool under_voltage_warning = false;
  bool over_voltage = false;     // battery above over_voltage_disconnect
  bool pv_over_voltage = false;  // open-circuit voltage above the controller's max_pv_voltage
  bool device_over_temperature = false;  // heat sink above 85 degC
  double generated_wh = 0;               // energy into the battery from this controller since start
  double consumed_wh = 0;                // energy out to this controller's load since start
};

class Plant {
 public:
  // `start_seconds_of_day` is the local solar time at which the simulation starts.
  Plant(Site site, const std::vector<ControllerSetup>& controllers, std::uint64_t seed,
        double start_seconds_of_day);

  // Advances the simulated time by `seconds` (any size: it integrates in steps of at most
  // a few simulated seconds, so a day at --speed 3600 integrates the same as in real time).
  void step(double seconds);

  [[nodiscard]] std::size_t size() const { return m_controllers.size(); }
  [[nodiscard]] const ControllerReadings& readings(std::size_t i) const;
  void set_inputs(std::size_t i, const ControllerInputs& inputs);
  void set_settings(std::size_t i, const ChargeSettings& settings);
  // The bank's capacity from now on (> 0; smaller values are taken as 1 Ah). The state of
  // charge keeps its fraction: the same bank, measured against another size.
  void set_battery_capacity(double ah);
  [[nodiscard]] double battery_capacity() const { return m_site.battery_capacity_ah; }
  [[nodiscard]] double state_of_charge() const { return m_soc; }  // 0..1, not rounded

  [[nodiscard]] double seconds_of_day() const;  // local solar time, 0..86400
  [[nodiscard]] int day_of_year() const;
  [[nodiscard]] double irradiance() const;  // W/m2 now, clouds included

 private:
  struct Member {
    ControllerSetup setup;
    ChargeSettings settings;
    ControllerInputs inputs;
    ControllerReadings now;
    double phase_seconds = -1;  // time held in boost/equalize; -1: a new cycle starts
    double load_noise = 0;      // relative deviation of the load from its daily profile
    double voc = 0, vmp = 0, pmax = 0, isc = 0;  // the panels at this instant
    double available = 0;                        // A the controller could push into the battery now
  };
  void integrate(double dt);
  void advance_clock(double dt);
  [[nodiscard]] double blocks() const;  // 12 V blocks in the bank
  [[nodiscard]] double clear_sky() const;
  [[nodiscard]] double ambient() const;
  [[nodiscard]] double load_factor(double hour) const;
  [[nodiscard]] double battery_voltage_at(double net_current) const;
  [[nodiscard]] double charge_target(const Member& m) const;

  Site m_site;
  std::vector<Member> m_controllers;
  std::mt19937_64 m_rng;
  double m_seconds_of_day;
  int m_day_of_year;
  double m_soc;        // 0..1
  double m_cloud = 0;  // current cloud attenuation 0..1
  double m_cloud_target = 0;
  double m_days_since_equalize = 0;
  double m_battery_voltage = 0;
};

}  // namespace tracermon::sim
