#pragma once
// The old logtracer.py `filesnap` files: one `key:value` line per check, in the old key order,
// so `get_tracer.sh`-style greps keep working. A field the model lacks or that was not read
// this cycle has no line (the old tool wrote -2 there).

#include <string>

#include "core/log_limiter.hpp"
#include "model/snapshot.hpp"
#include "protocol/register_map.hpp"
#include "sinks/sink.hpp"

namespace tracermon::sinks {

class FilesnapSink final : public Sink {
 public:
  // `pattern`: a path with {id} and/or {name}, e.g. "/tmp/ep_tracer_{id}.log".
  FilesnapSink(const protocol::RegisterMap& map, std::string pattern);
  [[nodiscard]] std::string_view name() const override { return "filesnap"; }
  // Only what this cycle read: the old tool's files never showed an older value.
  void on_cycle(const CycleEvent& event) override { write(*event.cycle); }
  void write(const model::DeviceSnapshot& cycle);

  // The file's text for this snapshot.
  [[nodiscard]] std::string render(const model::DeviceSnapshot& cycle) const;
  [[nodiscard]] std::string path_for(const model::DeviceSnapshot& cycle) const;

 private:
  const protocol::RegisterMap& m_map;
  std::string m_pattern;
  core::LogLimiter m_log;
};

}  // namespace tracermon::sinks
