#pragma once
// A JSON file per device (<dir>/<name>.json) with its latest values, replaced atomically every
// cycle: what `tracermon get` and scripts read, without HTTP and without the bus.

#include <filesystem>

#include "core/log_limiter.hpp"
#include "model/poll_intervals.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

class StateFileSink final : public Sink {
 public:
  StateFileSink(const protocol::RegisterMap& map, std::filesystem::path dir,
                model::PollIntervals intervals);
  [[nodiscard]] std::string_view name() const override { return "state_files"; }
  void on_cycle(const CycleEvent& event) override { write(*event.latest); }
  // Writes the merged latest view of one device. Errors are logged (rate-limited), not thrown.
  void write(const model::DeviceSnapshot& latest);

  static std::filesystem::path file_for(const std::filesystem::path& dir, std::string_view device);

 private:
  const protocol::RegisterMap& m_map;
  std::filesystem::path m_dir;
  model::PollIntervals m_intervals;
  core::LogLimiter m_log;
};

}  // namespace tracermon::sinks
