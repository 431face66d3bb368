#include "sinks/filesnap_sink.hpp"

#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/atomic_file.hpp"
#include "protocol/decode.hpp"
#include "protocol/legacy_names.hpp"

namespace tracermon::sinks {

namespace {
// LEGACY.md: the filesnap key order.
constexpr std::array k_keys{"pvvolt", "pvamps", "bavolt", "baamps", "baperc",  "batemp",
                            "bastat", "dcvolt", "dcamps", "epstat", "eptemp1", "eptemp2"};

std::string replace_all(std::string text, std::string_view what, std::string_view with) {
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
  return text;
}
}  // namespace

FilesnapSink::FilesnapSink(const protocol::RegisterMap& map, std::string pattern)
    : m_map(map), m_pattern(std::move(pattern)) {}

std::string FilesnapSink::path_for(const model::DeviceSnapshot& cycle) const {
  return replace_all(replace_all(m_pattern, "{id}", std::to_string(cycle.unit)), "{name}",
                     cycle.device);
}

std::string FilesnapSink::render(const model::DeviceSnapshot& cycle) const {
  std::string text;
  for (const auto* key : k_keys) {
    const auto* field = m_map.find(protocol::resolve_legacy_name(key));
    if (field == nullptr) continue;
    const auto* sample = cycle.find(field->id);
    if (sample == nullptr) continue;
    text += fmt::format("{}:{}\n", key, protocol::format_value(*field, sample->raw));
  }
  return text;
}

void FilesnapSink::write(const model::DeviceSnapshot& cycle) {
  // Written every cycle, even empty: the file has no time stamp, so an old value left in it
  // would pass for a new one.
  auto written = core::write_file_atomically(path_for(cycle), render(cycle));
  if (!written) {
    if (auto line = m_log.admit("filesnap", "filesnap: " + written.error().message)) {
      spdlog::error("{}", *line);
    }
  }
}

}  // namespace tracermon::sinks
