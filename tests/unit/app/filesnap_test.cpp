#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "sinks/filesnap_sink.hpp"
#include "snapshot_builder.hpp"
#include "temp_dir.hpp"

namespace tracermon::sinks {
namespace {

using test::sample;
using test::snapshot;

// Every old key's field, with values as the old tool printed them.
model::DeviceSnapshot full_snapshot() {
  return snapshot("roof", 1,
                  {sample("pv_voltage", 1852),                    // pvvolt 18.52
                   sample("pv_current", 250),                     // pvamps 2.5
                   sample("battery_voltage", 1380),               // bavolt 13.8
                   sample("battery_charging_current", 1000),      // baamps 10
                   sample("battery_soc", 85),                     // baperc 85
                   sample("battery_temperature", -500),           // batemp -5
                   sample("battery_status", 0),                   // bastat 0
                   sample("load_voltage", 1375),                  // dcvolt 13.75
                   sample("load_current", 3),                     // dcamps 0.03
                   sample("charging_equipment_status", 11),       // epstat 11
                   sample("device_temperature", 2512),            // eptemp1 25.12
                   sample("power_components_temperature", 3000),  // eptemp2 30
                   sample("pv_power", 4630)});                    // pvwatt: not a filesnap key
}

TEST(Filesnap, OldKeyOrderAndTheValuesOwnDecimals) {
  FilesnapSink sink(test::map(), "/tmp/unused_{id}");
  EXPECT_EQ(sink.render(full_snapshot()),
            "pvvolt:18.52\n"
            "pvamps:2.5\n"
            "bavolt:13.8\n"
            "baamps:10\n"
            "baperc:85\n"
            "batemp:-5\n"
            "bastat:0\n"
            "dcvolt:13.75\n"
            "dcamps:0.03\n"
            "epstat:11\n"
            "eptemp1:25.12\n"
            "eptemp2:30\n");
}

TEST(Filesnap, AnAbsentFieldHasNoLine) {
  FilesnapSink sink(test::map(), "/tmp/unused_{id}");
  auto partial =
      snapshot("roof", 1, {sample("battery_voltage", 1380), sample("device_temperature", -125)});
  EXPECT_EQ(sink.render(partial), "bavolt:13.8\neptemp1:-1.25\n");
  EXPECT_EQ(sink.render(snapshot("roof", 1, {})), "");
}

TEST(Filesnap, PathPatternTakesIdAndName) {
  auto cycle = snapshot("roof", 7, {});
  EXPECT_EQ(FilesnapSink(test::map(), "/tmp/ep_tracer_{id}.log").path_for(cycle),
            "/tmp/ep_tracer_7.log");
  EXPECT_EQ(FilesnapSink(test::map(), "/run/tracermon/{name}-{id}/{name}.txt").path_for(cycle),
            "/run/tracermon/roof-7/roof.txt");
  EXPECT_EQ(FilesnapSink(test::map(), "/tmp/fixed.log").path_for(cycle), "/tmp/fixed.log");
}

TEST(Filesnap, WriteReplacesTheFileEachCycle) {
  ::tracermon::test::TempDir dir;
  FilesnapSink sink(test::map(), (dir.path() / "ep_{id}.log").string());
  auto read = [&] {
    std::ifstream in(dir.path() / "ep_1.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  sink.write(full_snapshot());
  EXPECT_EQ(read(), sink.render(full_snapshot()));
  // A cycle that read nothing empties the file: an old value must not pass for a new one.
  sink.write(snapshot("roof", 1, {}));
  EXPECT_EQ(read(), "");
}

}  // namespace
}  // namespace tracermon::sinks
