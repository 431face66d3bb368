#include "sinks/state_file_sink.hpp"

#include <spdlog/spdlog.h>

#include "core/atomic_file.hpp"
#include "format/snapshot_json.hpp"

namespace tracermon::sinks {

StateFileSink::StateFileSink(const protocol::RegisterMap& map, std::filesystem::path dir,
                             model::PollIntervals intervals)
    : m_map(map), m_dir(std::move(dir)), m_intervals(intervals) {}

std::filesystem::path StateFileSink::file_for(const std::filesystem::path& dir,
                                              std::string_view device) {
  return dir / (std::string(device) + ".json");
}

void StateFileSink::write(const model::DeviceSnapshot& latest) {
  auto text = format::snapshot_json(m_map, latest, m_intervals).dump(1) + "\n";
  auto written = core::write_file_atomically(file_for(m_dir, latest.device), text);
  if (!written) {
    if (auto line = m_log.admit("state", "state file: " + written.error().message)) {
      spdlog::error("{}", *line);
    }
  } else if (auto suppressed = m_log.clear("state")) {
    spdlog::info("state files are written again");
  }
}

}  // namespace tracermon::sinks
