// The simulator's physics: a plausible day, one shared battery, the charging stages and the
// protections a Tracer applies.

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
