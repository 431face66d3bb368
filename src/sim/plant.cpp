#include "sim/plant.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace tracermon::sim {

namespace {

constexpr double k_max_substep = 2.0;  // seconds: results barely depend on the chopping
constexpr double k_mppt_efficiency = 0.97;
constexpr double k_temperature_tau = 600.0;  // s, heat sinks and batteries warm slowly
constexpr double k_cloud_tau = 90.0;         // s, how fast a cloud edge passes
constexpr double k_cloud_period = 300.0;     // s, mean time between cloud changes
constexpr double k_pi = std::numbers::pi;

double radians(double degrees) {
  return degrees * k_pi / 180.0;
}

// The battery, per 12 V block of lead-acid, with currents as C-rates (amperes per Ah of
// capacity, so 0.1 is C/10). At rest it reads 12.0 V empty to 12.8 V full, falling away
// steeply in the last few percent. Under discharge it sags by its resistance. Under charge it
// rises by its resistance plus an overvoltage that grows as the plates fill: at C/8 the
// voltage climbs from about 13.0 V at half charge to 14.4 V at 85 %, and near full a
// 14.4 V absorption takes only about C/100 and a 13.8 V float about C/300. The numbers are
// typical of a flooded or AGM bank, not any one battery's data sheet.
constexpr double k_empty_volts = 12.0;
constexpr double k_full_volts = 12.8;
constexpr double k_knee_soc = 0.05;              // below it the rest voltage falls to 11.0 V
constexpr double k_discharge_resistance = 2.5;   // V per C-rate: C/10 sags 0.25 V
constexpr double k_charge_resistance = 2.0;      // V per C-rate
constexpr double k_overvoltage_slope = 0.55;     // V per e-fold of current over the exchange
constexpr double k_exchange_at_empty = 0.38;     // C-rate; shrinks as (1 - soc)^2
constexpr double k_exchange_when_full = 0.0006;  // C-rate: gassing and the float current

double rest_voltage(double soc) {
  double v = k_empty_volts + (k_full_volts - k_empty_volts) * soc;
  if (soc < k_knee_soc) {
    double d = (k_knee_soc - soc) / k_knee_soc;
    v -= 1.0 * d * d;
  }
  return v;
}

// Volts of one block above (+) or below (-) its rest voltage at C-rate `rate` (+ charging).
// Continuous and rising in `rate` (the charge regulation bisects on it).
double polarization(double soc, double rate) {
  if (rate <= 0) return k_discharge_resistance * rate;
  double empty = 1.0 - soc;
  double exchange = k_exchange_at_empty * empty * empty + k_exchange_when_full;
  return k_charge_resistance * rate + k_overvoltage_slope * std::log1p(rate / exchange);
}

double lag(double value, double target, double dt, double tau) {
  return value + (target - value) * std::min(1.0, dt / tau);
}

}  // namespace

Plant::Plant(Site site, const std::vector<ControllerSetup>& controllers, std::uint64_t seed,
             double start_seconds_of_day)
    : m_site(site),
      m_rng(seed),
      m_seconds_of_day(std::fmod(std::max(0.0, start_seconds_of_day), 86400.0)),
      m_day_of_year(std::clamp(site.day_of_year, 1, 366)),
      m_soc(std::clamp(site.initial_soc, 0.0, 1.0)) {
  if (controllers.empty()) throw std::invalid_argument("a plant needs at least one controller");
  if (m_site.battery_capacity_ah <= 0) throw std::invalid_argument("battery capacity must be > 0");
  for (auto& setup : controllers) {
    Member m;
    m.setup = setup;
    m.now.ambient_temperature = m.now.battery_temperature = m.now.device_temperature =
        m.now.power_components_temperature = ambient();
    m.now.phase = ChargePhase::Boost;
    m_controllers.push_back(m);
  }
  m_cloud = m_cloud_target = m_site.cloudiness * 0.5;
  m_battery_voltage = blocks() * rest_voltage(m_soc);
  integrate(0.0);
}

const ControllerReadings& Plant::readings(std::size_t i) const {
  return m_controllers.at(i).now;
}

void Plant::set_inputs(std::size_t i, const ControllerInputs& inputs) {
  m_controllers.at(i).inputs = inputs;
}

void Plant::set_settings(std::size_t i, const ChargeSettings& settings) {
  m_controllers.at(i).settings = settings;
}

double Plant::seconds_of_day() const {
  return m_seconds_of_day;
}

int Plant::day_of_year() const {
  return m_day_of_year;
}

double Plant::blocks() const {
  return m_site.battery_nominal_voltage / 12.0;
}

double Plant::clear_sky() const {
  double declination = radians(23.44) * std::sin(2 * k_pi * (284 + m_day_of_year) / 365.0);
  double hour_angle = radians(15.0 * (m_seconds_of_day / 3600.0 - 12.0));
  double lat = radians(m_site.latitude);
  double sin_elevation = std::sin(lat) * std::sin(declination) +
                         std::cos(lat) * std::cos(declination) * std::cos(hour_angle);
  return sin_elevation > 0 ? 1000.0 * std::pow(sin_elevation, 1.2) : 0.0;
}

double Plant::irradiance() const {
  return clear_sky() * (1.0 - 0.8 * m_cloud);
}

double Plant::ambient() const {
  // Coolest before dawn (03:00), warmest mid-afternoon (15:00).
  return m_site.ambient_mean + 5.0 * std::sin(2 * k_pi * (m_seconds_of_day / 3600.0 - 9.0) / 24.0);
}

double Plant::load_factor(double hour) const {
  // Base load, a morning bump and the evening peak.
  auto bump = [hour](double centre, double width) {
    double d = hour - centre;
    return std::exp(-d * d / (2 * width * width));
  };
  return 0.6 + 0.3 * bump(7.5, 1.0) + 1.0 * bump(20.5, 1.5);
}

// Battery terminal voltage for a net current into the bank (+ charging).
double Plant::battery_voltage_at(double net_current) const {
  double rate = net_current / m_site.battery_capacity_ah;
  return blocks() * (rest_voltage(m_soc) + polarization(m_soc, rate));
}

void Plant::set_battery_capacity(double ah) {
  m_site.battery_capacity_ah = std::max(1.0, ah);
}

void Plant::step(double seconds) {
  while (seconds > 1e-9) {
    double dt = std::min(seconds, k_max_substep);
    integrate(dt);
    seconds -= dt;
  }
}

void Plant::advance_clock(double dt) {
  m_seconds_of_day += dt;
  while (m_seconds_of_day >= 86400.0) {
    m_seconds_of_day -= 86400.0;
    m_day_of_year = m_day_of_year % 365 + 1;
    m_days_since_equalize += 1;
  }
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (dt > 0 && u(m_rng) < dt / k_cloud_period) {
    m_cloud_target = m_site.cloudiness * std::pow(u(m_rng), 0.7);
  }
  m_cloud = lag(m_cloud, m_cloud_target, dt, k_cloud_tau);
  for (auto& m : m_controllers) {
    // A slow random walk around the mean load.
    m.load_noise = std::clamp(m.load_noise + (u(m_rng) - 0.5) * 0.02 * std::sqrt(dt), -0.15, 0.15);
  }
}

double Plant::charge_target(const Member& m) const {
  const auto& s = m.settings;
  double target = m.now.phase == ChargePhase::Equalize ? s.equalize
                  : m.now.phase == ChargePhase::Float  ? s.float_voltage
                                                       : s.boost;
  // Temperature compensation per 2 V cell, from 25 degC.
  double cells = 6.0 * blocks();
  target -= s.temperature_compensation * 1e-3 * (m.now.battery_temperature - 25.0) * cells;
  return std::min(target, s.charging_limit);
}

void Plant::integrate(double dt) {
  advance_clock(dt);
  const double k = blocks();
  const double g = irradiance();
  const double air = ambient();
  const double hour = m_seconds_of_day / 3600.0;
  const double v_now = m_battery_voltage;

  // What each controller could deliver, and its share of the load.
  double load_current = 0;
  double available = 0;
  for (auto& m : m_controllers) {
    auto& r = m.now;
    const auto& panels = m.setup.panels;
    double cell_temp = air + 0.03 * g;
    double light = g > 1.0 ? std::clamp(1.0 + 0.06 * std::log(g / 1000.0), 0.5, 1.05) : 0.0;
    double thermal = 1.0 - 0.0035 * (cell_temp - 25.0);
    m.voc = panels.open_circuit_voltage * light * thermal;
    m.vmp = panels.max_power_voltage * light * thermal;
    m.pmax = panels.peak_power * g / 1000.0 * (1.0 - 0.004 * (cell_temp - 25.0));
    m.isc = panels.peak_power / panels.max_power_voltage * 1.07 * g / 1000.0;
    r.night = m.voc < 5.0 * k;
    r.pv_over_voltage = m.voc > m.setup.rating.max_pv_voltage;
    r.over_voltage = v_now > m.settings.over_voltage_disconnect;

    bool can_charge = !r.night && !r.pv_over_voltage && !r.over_voltage &&
                      m.inputs.charging_enabled && m.pmax > 0;
    double power = m.setup.rating.mppt ? m.pmax * k_mppt_efficiency : v_now * m.isc;
    m.available = can_charge ? std::min(m.setup.rating.rated_charge_current,
                                        std::max(0.0, power) / std::max(1.0, v_now))
                             : 0.0;
    available += m.available;

    // Phases: a new day starts in boost (or equalize when due); float after the hold time;
    // back to boost when the battery falls below boost reconnect.
    if (!can_charge) {
      r.phase = ChargePhase::None;
      if (r.night) m.phase_seconds = -1;  // the next morning starts a fresh cycle
    } else if (m.phase_seconds < 0 || r.phase == ChargePhase::None) {
      bool equalize_due = m.settings.equalize_minutes > 0 &&
                          m_days_since_equalize >= m.settings.equalize_cycle_days;
      r.phase = equalize_due ? ChargePhase::Equalize : ChargePhase::Boost;
      m.phase_seconds = 0;
    } else if (r.phase == ChargePhase::Float && v_now < m.settings.boost_reconnect) {
      r.phase = ChargePhase::Boost;
      m.phase_seconds = 0;
    }

    // The load.
    if (r.low_voltage_disconnect) {
      if (v_now >= m.settings.low_voltage_reconnect) r.low_voltage_disconnect = false;
    } else if (v_now < m.settings.low_voltage_disconnect) {
      r.low_voltage_disconnect = true;
    }
    if (r.under_voltage_warning) {
      if (v_now >= m.settings.under_voltage_recover) r.under_voltage_warning = false;
    } else if (v_now < m.settings.under_voltage_warning) {
      r.under_voltage_warning = true;
    }
    r.load_on = m.inputs.load_on && !r.low_voltage_disconnect;
    double watts = m.setup.load_watts * load_factor(hour) * (1.0 + m.load_noise);
    r.load_current =
        r.load_on ? std::min(watts / std::max(1.0, v_now), m.setup.rating.rated_load_current) : 0.0;
    load_current += r.load_current;
  }

  // The bank takes everything offered unless that would push it past the lowest target of the
  // charging controllers; then the current is cut back to hold that voltage.
  double target = 1e9;
  for (const auto& m : m_controllers) {
    if (m.available > 0) target = std::min(target, charge_target(m));
  }
  double charge = available;
  if (available > 0 && battery_voltage_at(available - load_current) > target) {
    double lo = 0, hi = available;
    for (int i = 0; i < 40; ++i) {
      double mid = (lo + hi) / 2;
      (battery_voltage_at(mid - load_current) > target ? hi : lo) = mid;
    }
    charge = lo;
  }
  double net = charge - load_current;
  double v = battery_voltage_at(net);
  double efficiency = net > 0 ? k_charge_efficiency : 1.0;
  m_soc = std::clamp(m_soc + net * efficiency * dt / 3600.0 / m_site.battery_capacity_ah, 0.0, 1.0);
  m_battery_voltage = v;

  for (auto& m : m_controllers) {
    auto& r = m.now;
    double share = available > 0 ? m.available / available : 0.0;
    r.charging_current = charge * share;
    r.charging_power = r.charging_current * v;
    r.battery_voltage = v;
    // Each controller measures only its own current: its charge minus its own load.
    r.battery_net_current = r.charging_current - r.load_current;
    r.soc = static_cast<int>(std::lround(m_soc * 100.0));
    r.load_voltage = r.load_on ? v : 0.0;
    r.load_power = r.load_current * v;

    // The panel's operating point: at maximum power when all of it is taken, towards open
    // circuit when the battery takes less; PWM pulls it down to the battery.
    double drawn = m.setup.rating.mppt ? r.charging_power / k_mppt_efficiency : r.charging_power;
    if (r.charging_current <= 1e-6) {
      r.pv_voltage = std::max(0.0, m.voc);
      r.pv_current = 0;
    } else if (m.setup.rating.mppt) {
      double used = std::clamp(drawn / std::max(1e-9, m.pmax), 0.0, 1.0);
      r.pv_voltage = m.vmp + (m.voc - m.vmp) * (1.0 - used);
      r.pv_current = drawn / r.pv_voltage;
    } else {
      r.pv_voltage = v + 0.3;
      r.pv_current = r.charging_current;
    }
    r.pv_power = r.pv_voltage * r.pv_current;
    // Boost and equalize hold their voltage for their duration, then float.
    if ((r.phase == ChargePhase::Boost || r.phase == ChargePhase::Equalize) &&
        v >= charge_target(m) - 0.05 * k) {
      m.phase_seconds += dt;
      double limit = (r.phase == ChargePhase::Equalize ? m.settings.equalize_minutes
                                                       : m.settings.boost_minutes) *
                     60.0;
      if (m.phase_seconds >= limit) {
        if (r.phase == ChargePhase::Equalize) m_days_since_equalize = 0;
        r.phase = ChargePhase::Float;
      }
    }

    double rated_power = std::max(1.0, m.setup.rating.rated_charge_current * v);
    r.ambient_temperature = air;
    r.battery_temperature = lag(r.battery_temperature, air + 0.05 * std::abs(net) * 12.0 / v, dt,
                                k_temperature_tau * 3);
    r.device_temperature = lag(r.device_temperature, air + 25.0 * r.charging_power / rated_power,
                               dt, k_temperature_tau);
    r.power_components_temperature =
        lag(r.power_components_temperature,
            air + 32.0 * r.charging_power / rated_power + 5.0 * r.load_power / rated_power, dt,
            k_temperature_tau);
    r.device_over_temperature = r.device_temperature > 85.0;
    r.generated_wh += r.charging_power * dt / 3600.0;
    r.consumed_wh += r.load_power * dt / 3600.0;
  }
}

}  // namespace tracermon::sim
