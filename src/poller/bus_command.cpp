#include "poller/bus_command.hpp"

#include <fmt/format.h>

namespace tracermon::poller {

ReadResult read_result(device::Reading reading) {
  if (!reading.values.empty() || reading.failures.empty()) return reading;
  const auto& first = reading.failures.front();
  auto where = fmt::format("id {}, {}", reading.unit, first.block);
  return core::Error{first.error.kind,
                     first.error.message.empty() ? where : where + ": " + first.error.message,
                     first.error.exception_code};
}

}  // namespace tracermon::poller
