#pragma once
// One line of the control audit: a write, or a refusal, of one setting (or the clock, the
// load) on one device, by whom and with what result. Kept in the store, the log and at
// /api/v1/control/log.

#include <string>

#include "core/wall_time.hpp"

namespace tracermon::model {

struct AuditRecord {
  core::WallTime time{};
  std::string source;     // cli, http, mqtt, auto
  std::string device;     // the configured name, or the slave id without a configuration
  std::string action;     // set, load, clock, apply
  std::string setting;    // registers.csv name, "clock" for a clock sync, "" for the request
  std::string old_value;  // as read fresh before the write ("" when not read)
  std::string new_value;
  std::string result;   // written, unchanged, dry-run, refused, failed
  std::string message;  // why it was refused or failed
};

}  // namespace tracermon::model
