#pragma once
// What the daemon tells about each device and bus: health and the counters that explain
// communication trouble on a shared bus. Plain values, copied out of the bus worker.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/snapshot.hpp"
#include "protocol/device_identity.hpp"
#include "protocol/link_counters.hpp"

namespace tracermon::model {

// A device's counts since start: its share of the link's (requests, replies, timeouts, ...
// link_errors: protocol::LinkCounters) and what the poller adds. The outputs name each of them
// in one table (format/counters.hpp).
struct DeviceCounters : protocol::LinkCounters {
  std::uint64_t cycles = 0;                 // poll cycles tried
  std::uint64_t silent_cycles = 0;          // cycles without any answer
  std::uint64_t rejected_values = 0;        // read fine but physically impossible
  std::uint64_t counter_resets = 0;         // energy totals that restarted (statistics cleared)
  std::map<int, std::uint64_t> exceptions;  // by exception code
  double latency_ms_last = 0;
  double latency_ms_mean = 0;
  double latency_ms_max = 0;
};

struct DeviceStatus {
  std::string name;
  std::string site;
  std::uint8_t unit = 0;
  std::string model;  // configured, else from Read Device Identification
  protocol::DeviceIdentity identity;
  Health health = Health::Unknown;
  std::string last_error;
  WallTime last_error_time{};
  WallTime last_seen{};                  // last answer
  std::vector<std::string> unsupported;  // fields it answers exception 2 for
  DeviceCounters counters;
};

struct BusStatus {
  std::string name;
  std::string port;
  bool link_up = false;
  std::string link_error;
  std::uint64_t rounds = 0;  // passes over the devices
  std::vector<DeviceStatus> devices;
};

}  // namespace tracermon::model
