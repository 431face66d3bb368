// The simulator's physics: a plausible day, one shared battery, the charging stages and the
// protections a Tracer applies.

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>

#include "sim/plant.hpp"

using namespace tracermon::sim;

namespace {

constexpr double k_hour = 3600;

Site clear_site(double soc = 0.5) {
  Site s;
  s.battery_nominal_voltage = 24;
  s.battery_capacity_ah = 300;
  s.initial_soc = soc;
  s.cloudiness = 0;
  return s;
}

ControllerSetup tracer() {
  ControllerSetup c;
  c.rating = {100.0, 30.0, 20.0, true};
  c.panels = {780.0, 88.0, 72.0};
  c.load_watts = 60;
  return c;
}

ChargeSettings settings_24v() {
  ChargeSettings s;
  for (double* v :
       {&s.over_voltage_disconnect, &s.charging_limit, &s.equalize, &s.boost, &s.float_voltage,
        &s.boost_reconnect, &s.low_voltage_reconnect, &s.under_voltage_recover,
        &s.under_voltage_warning, &s.low_voltage_disconnect, &s.discharging_limit})
    *v *= 2;
  return s;
}

// 24 V thresholds without temperature compensation: the targets are exactly the settings.
ChargeSettings exact_24v(double boost = 28.8) {
  auto s = settings_24v();
  s.temperature_compensation = 0;
  s.equalize_minutes = 0;
  s.boost = boost;
  return s;
}

Plant make(double start_hour, Site site = clear_site(), std::size_t controllers = 1,
           std::uint64_t seed = 1) {
  Plant p(site, std::vector<ControllerSetup>(controllers, tracer()), seed, start_hour * k_hour);
  for (std::size_t i = 0; i < controllers; ++i)
    p.set_settings(i, settings_24v());
  return p;
}

}  // namespace

TEST(SimPlant, SameSeedSameDay) {
  Site cloudy = clear_site();
  cloudy.cloudiness = 0.8;
  auto a = make(6, cloudy, 1, 42), b = make(6, cloudy, 1, 42), c = make(6, cloudy, 1, 43);
  for (int i = 0; i < 12 * 60; ++i) {
    a.step(60);
    b.step(60);
    c.step(60);
  }
  EXPECT_EQ(a.readings(0).generated_wh, b.readings(0).generated_wh);
  EXPECT_EQ(a.readings(0).soc, b.readings(0).soc);
  EXPECT_NE(a.readings(0).generated_wh, c.readings(0).generated_wh);  // other clouds
}

TEST(SimPlant, NoonAndMidnight) {
  auto noon = make(12);
  noon.step(60);
  const auto& r = noon.readings(0);
  EXPECT_FALSE(r.night);
  EXPECT_GT(r.pv_power, 300);
  EXPECT_NEAR(r.pv_power, r.pv_voltage * r.pv_current, 0.01);
  EXPECT_NE(r.phase, ChargePhase::None);
  EXPECT_GT(r.charging_current, 0);
  EXPECT_LE(r.charging_current, 30.0);
  EXPECT_LT(r.pv_voltage, 88.0);

  auto midnight = make(0);
  midnight.step(60);
  const auto& n = midnight.readings(0);
  EXPECT_TRUE(n.night);
  EXPECT_EQ(n.pv_power, 0);
  EXPECT_EQ(n.charging_current, 0);
  EXPECT_EQ(n.phase, ChargePhase::None);
  EXPECT_LT(n.battery_net_current, 0);  // the load runs from the battery
}

TEST(SimPlant, SocRisesByDayAndFallsByNightEnergyOnlyGrows) {
  auto p = make(0, clear_site(0.4));
  int soc_at_dawn = 0, soc_peak = 0;
  double generated = 0, consumed = 0;
  for (int minute = 0; minute < 24 * 60; ++minute) {
    p.step(60);
    const auto& r = p.readings(0);
    EXPECT_GE(r.generated_wh, generated);
    EXPECT_GE(r.consumed_wh, consumed);
    generated = r.generated_wh;
    consumed = r.consumed_wh;
    if (minute == 5 * 60) soc_at_dawn = r.soc;
    soc_peak = std::max(soc_peak, r.soc);
  }
  EXPECT_GT(soc_peak, soc_at_dawn + 10);
  EXPECT_LT(p.readings(0).soc, soc_peak);
  EXPECT_GT(generated, 2000);  // a June day on 780 W of panels
  EXPECT_GT(consumed, 500);
}

TEST(SimPlant, StepSizeBarelyMatters) {
  auto fine = make(4), coarse = make(4);
  for (int i = 0; i < 16 * 3600; ++i)
    fine.step(1);
  for (int i = 0; i < 16 * 60; ++i)
    coarse.step(60);
  EXPECT_NEAR(fine.readings(0).generated_wh, coarse.readings(0).generated_wh,
              0.03 * fine.readings(0).generated_wh);
  // An hour at a time (--speed 3600) integrates the same day.
  auto hourly = make(4);
  for (int i = 0; i < 16; ++i)
    hourly.step(k_hour);
  EXPECT_NEAR(fine.state_of_charge(), hourly.state_of_charge(), 0.01);
  EXPECT_NEAR(fine.readings(0).battery_voltage, hourly.readings(0).battery_voltage, 0.1);
  EXPECT_EQ(fine.readings(0).phase, hourly.readings(0).phase);
}

TEST(SimPlant, ControllersShareOneBattery) {
  auto p = make(11, clear_site(0.3), 2);
  p.step(600);
  const auto& a = p.readings(0);
  const auto& b = p.readings(1);
  EXPECT_EQ(a.battery_voltage, b.battery_voltage);
  EXPECT_EQ(a.soc, b.soc);
  // Each measures its own current; together they are the bank's.
  EXPECT_NEAR(a.battery_net_current, a.charging_current - a.load_current, 1e-9);
  EXPECT_NEAR(b.battery_net_current, b.charging_current - b.load_current, 1e-9);
}

TEST(SimPlant, ProtectionsAndSwitches) {
  Site site = clear_site();
  Plant over(site, {[] {
               auto c = tracer();
               c.panels.open_circuit_voltage = 130;  // above the 100 V input limit
               c.panels.max_power_voltage = 110;
               return c;
             }()},
             1, 12 * k_hour);
  over.set_settings(0, settings_24v());
  over.step(60);
  EXPECT_TRUE(over.readings(0).pv_over_voltage);
  EXPECT_EQ(over.readings(0).charging_current, 0);

  auto off = make(12);
  off.set_inputs(0, {false, true});
  off.step(60);
  EXPECT_EQ(off.readings(0).charging_current, 0);
  EXPECT_EQ(off.readings(0).phase, ChargePhase::None);

  auto no_load = make(12);
  no_load.set_inputs(0, {true, false});
  no_load.step(60);
  EXPECT_FALSE(no_load.readings(0).load_on);
  EXPECT_EQ(no_load.readings(0).load_current, 0);
}

TEST(SimPlant, LowVoltageDisconnectAndReconnect) {
  Site site = clear_site(0.03);
  auto setup = tracer();
  setup.load_watts = 400;
  Plant p(site, {setup}, 1, 20 * k_hour);
  p.set_settings(0, settings_24v());
  bool disconnected = false;
  for (int i = 0; i < 6 * 60 && !disconnected; ++i) {
    p.step(60);
    disconnected = p.readings(0).low_voltage_disconnect;
  }
  ASSERT_TRUE(disconnected);
  EXPECT_FALSE(p.readings(0).load_on);
  EXPECT_TRUE(p.readings(0).under_voltage_warning);
  bool reconnected = false;
  for (int i = 0; i < 48 * 60 && !reconnected; ++i) {
    p.step(60);
    reconnected = !p.readings(0).low_voltage_disconnect;
  }
  EXPECT_TRUE(reconnected) << "the sun recharged the battery to the reconnect voltage";
}

TEST(SimPlant, BoostHoldsThenFloats) {
  auto p = make(9, clear_site(0.93));
  auto s = settings_24v();
  s.boost_minutes = 30;
  s.equalize_minutes = 0;  // no equalize today
  p.set_settings(0, s);
  p.step(60);
  EXPECT_EQ(p.readings(0).phase, ChargePhase::Boost);
  bool floated = false;
  for (int i = 0; i < 5 * 60 && !floated; ++i) {
    p.step(60);
    floated = p.readings(0).phase == ChargePhase::Float;
  }
  ASSERT_TRUE(floated);
  p.step(600);
  EXPECT_NEAR(p.readings(0).battery_voltage, s.float_voltage, 0.3);
  EXPECT_LT(p.readings(0).charging_current, 30.0);  // tapered, not the full sun
}

TEST(SimPlant, RestVoltageFollowsSocLowerUnderDischargeHigherUnderCharge) {
  // At night with the load off nothing flows: the bank rests at 12.0-12.8 V a 12 V block.
  auto resting = [](double soc) {
    auto p = make(0, clear_site(soc));
    p.set_inputs(0, {true, false});
    p.step(60);
    return p.readings(0).battery_voltage;
  };
  EXPECT_NEAR(resting(0.05), 2 * 12.04, 0.02);
  EXPECT_NEAR(resting(0.5), 2 * 12.4, 0.02);
  EXPECT_NEAR(resting(1.0), 2 * 12.8, 0.02);
  EXPECT_LT(resting(0.3), resting(0.6));

  auto discharging = make(0, clear_site(0.5));
  discharging.step(60);
  EXPECT_LT(discharging.readings(0).battery_net_current, 0);
  EXPECT_LT(discharging.readings(0).battery_voltage, resting(0.5) - 0.005);
  EXPECT_GT(discharging.readings(0).battery_voltage, resting(0.5) - 0.2);

  auto charging = make(11, clear_site(0.5));
  charging.step(60);
  EXPECT_GT(charging.readings(0).battery_net_current, 10);
  EXPECT_GT(charging.readings(0).battery_voltage, resting(0.5) + 0.3);
  EXPECT_LT(charging.readings(0).battery_voltage, 28.8);  // bulk: below the boost target
}

namespace {

struct Morning {
  std::optional<int> reached;              // first minute within 0.3 V of the boost target
  std::optional<int> floated;              // first minute in float
  int held = 0;                            // minutes in boost within 0.3 V of the target
  double highest_in_boost = 0;             // V
  bool bulk_rose = true;                   // before the target, in boost, the voltage only rose
  bool bulk_below = true;                  // ... and stayed below the target
  double float_low = 1e9, float_high = 0;  // V in float until 15:00
};

// A clear June day from 05:00 to 16:00 on a 24 V 200 Ah bank at 50 %, minute by minute.
Morning sunny_morning(double boost, std::uint64_t seed = 1) {
  Site site = clear_site(0.5);
  site.battery_capacity_ah = 200;
  auto p = make(5, site, 1, seed);
  p.set_settings(0, exact_24v(boost));
  Morning m;
  double last = 0;
  for (int minute = 0; minute < 11 * 60; ++minute) {
    p.step(60);
    const auto& r = p.readings(0);
    double v = r.battery_voltage;
    if (r.phase == ChargePhase::Boost) {
      m.highest_in_boost = std::max(m.highest_in_boost, v);
      if (!m.reached && v >= boost - 0.3) m.reached = minute;
      if (m.reached && std::abs(v - boost) <= 0.3) ++m.held;
      // From 07:00 the sun gives more than the load takes: bulk only rises.
      if (!m.reached && minute >= 120 && minute % 15 == 0) {
        if (v < last - 0.01) m.bulk_rose = false;
        last = v;
      }
      if (!m.reached && v > boost + 0.01) m.bulk_below = false;
    }
    if (r.phase == ChargePhase::Float) {
      if (!m.floated) m.floated = minute;
      if (minute < 10 * 60) {
        m.float_low = std::min(m.float_low, v);
        m.float_high = std::max(m.float_high, v);
      }
    }
  }
  return m;
}

}  // namespace

TEST(SimPlant, BulkRisesToTheBoostVoltageHoldsItThenFloatHoldsFloat) {
  auto m = sunny_morning(28.8);
  ASSERT_TRUE(m.reached) << "the bank never came within 0.3 V of 28.8 V";
  EXPECT_TRUE(m.bulk_rose);
  EXPECT_TRUE(m.bulk_below);
  EXPECT_GT(*m.reached, 3 * 60) << "bulk at 50 % takes hours, not minutes";
  EXPECT_LT(m.highest_in_boost, 28.8 + 0.1);
  ASSERT_TRUE(m.floated);
  // Boost holds its voltage for boost_minutes (120), then float.
  EXPECT_GE(m.held, 115);
  EXPECT_NEAR(*m.floated - *m.reached, 120, 10);
  EXPECT_GT(m.float_low, 27.6 - 0.3);
  EXPECT_LT(m.float_high, 27.6 + 0.3);
}

TEST(SimPlant, LowerBoostVoltageIsHeldLowerAndFloatsSooner) {
  auto standard = sunny_morning(28.8), lower = sunny_morning(28.0);
  ASSERT_TRUE(standard.floated && lower.floated && lower.reached);
  EXPECT_LT(lower.highest_in_boost, 28.0 + 0.1);
  EXPECT_GE(lower.held, 115);
  EXPECT_LT(*lower.reached, *standard.reached - 30) << "a lower target is reached sooner";
  EXPECT_LT(*lower.floated, *standard.floated - 30);
}

TEST(SimPlant, SocMovesWithTheNetChargeAtTheCapacity) {
  // One hour, adding up the bank's net current each minute: the SOC moves by those
  // ampere-hours over the capacity (charge counted at the coulombic efficiency).
  struct Hour {
    double soc_change, expected;
  };
  auto hour = [](double start_hour, double soc, double capacity) {
    Site site = clear_site(soc);
    site.battery_capacity_ah = capacity;
    auto p = make(start_hour, site);
    p.set_settings(0, exact_24v());
    double before = p.state_of_charge(), ah = 0;
    for (int minute = 0; minute < 60; ++minute) {
      p.step(60);
      double net = p.readings(0).battery_net_current;
      ah += net * (net > 0 ? k_charge_efficiency : 1.0) / 60.0;
    }
    return Hour{p.state_of_charge() - before, ah / capacity};
  };
  auto noon = hour(11.5, 0.3, 200);
  EXPECT_GT(noon.expected, 0.08);  // about 22 A into 200 Ah
  EXPECT_NEAR(noon.soc_change, noon.expected, 0.03 * noon.expected);
  auto night = hour(21, 0.8, 200);
  EXPECT_LT(night.expected, -0.01);
  EXPECT_NEAR(night.soc_change, night.expected, 0.03 * -night.expected);
  auto bigger = hour(11.5, 0.3, 400);
  EXPECT_NEAR(bigger.soc_change, noon.soc_change / 2, 0.05 * noon.soc_change);
}

TEST(SimPlant, BatteryCapacityChangesWhileRunning) {
  auto a = make(11.5, clear_site(0.3)), b = make(11.5, clear_site(0.3));
  b.set_battery_capacity(150);  // from 300 Ah
  EXPECT_DOUBLE_EQ(b.battery_capacity(), 150);
  EXPECT_DOUBLE_EQ(b.state_of_charge(), 0.3);  // the same fraction
  a.step(1800);
  b.step(1800);
  EXPECT_NEAR(b.state_of_charge() - 0.3, 2 * (a.state_of_charge() - 0.3),
              0.05 * (a.state_of_charge() - 0.3));
  b.set_battery_capacity(0);  // nonsense is taken as 1 Ah, never a division by zero
  EXPECT_DOUBLE_EQ(b.battery_capacity(), 1);
}

TEST(SimPlant, LoadFollowsItsInputAtTheNextStep) {
  auto p = make(21);
  p.step(60);
  EXPECT_GT(p.readings(0).load_current, 0);
  p.set_inputs(0, {true, false});
  p.step(1);
  EXPECT_FALSE(p.readings(0).load_on);
  EXPECT_EQ(p.readings(0).load_current, 0);
  EXPECT_EQ(p.readings(0).load_power, 0);
  p.set_inputs(0, {true, true});
  p.step(1);
  EXPECT_TRUE(p.readings(0).load_on);
  EXPECT_GT(p.readings(0).load_current, 0);
  EXPECT_GT(p.readings(0).load_power, 0);
}
