#pragma once
// What the daemon tells about each device and bus: health and the counters that explain
// communication trouble on a shared bus. Plain values, copied out of the bus worker.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/snapshot.hpp"
#include "protocol/device_identity.hpp"

namespace tracermon::model {

struct DeviceCounters {
  std::uint64_t cycles = 0;         // poll cycles tried
  std::uint64_t silent_cycles = 0;  // cycles without any answer
  std::uint64_t requests = 0;       // frames sent, retries included
  std::uint64_t replies = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t crc_errors = 0;
  std::uint64_t bad_replies = 0;
  std::uint64_t wrong_unit = 0;    // frames from other slave ids
  std::uint64_t echoes = 0;        // our requests seen coming back (adapter echo)
  std::uint64_t noise_bytes = 0;   // bytes on the line that belonged to no frame
  std::uint64_t late_replies = 0;  // replies that came after their request gave up (discarded)
  std::uint64_t other_master = 0;  // another master's requests and replies seen
  std::uint64_t retries = 0;
  std::uint64_t link_errors = 0;
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
