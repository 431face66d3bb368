#include "app/probe.hpp"

#include <algorithm>

#include "protocol/decode.hpp"

namespace tracermon::app {

std::vector<ProbedController> probe_controllers(
    const protocol::RegisterMap& map, transport::ModbusClient& client, int max_registers,
    std::span<const std::uint8_t> ids,
    const std::function<void(const ProbedController&)>& on_found) {
  std::vector<protocol::FieldId> wanted;
  wanted.reserve(std::size(k_rated_fields));
  for (const auto* name : k_rated_fields)
    wanted.push_back(map.find(name)->id);
  protocol::PlanOptions plan;
  plan.max_registers = static_cast<std::uint16_t>(max_registers);
  device::FieldReader reader(map, client, plan);

  std::vector<ProbedController> found;
  for (auto id : ids) {
    protocol::DeviceSupport support;
    auto rated = reader.read(id, wanted, support);
    // Any reply, even an exception, means a device is there.
    bool answered = !rated.values.empty() || !rated.unsupported.empty() ||
                    std::any_of(rated.failures.begin(), rated.failures.end(), [](const auto& f) {
                      return f.error.kind == core::ErrorKind::Exception;
                    });
    if (!answered) continue;
    ProbedController f{id, std::nullopt, std::move(rated)};
    if (auto identity = client.identify(id)) f.identity = identity.value();
    if (on_found) on_found(f);
    found.push_back(std::move(f));
  }
  return found;
}

std::string rated_text(const protocol::RegisterMap& map, const ProbedController& found,
                       const char* name) {
  const auto& field = *map.find(name);
  for (const auto& v : found.rated.values) {
    if (v.id == field.id) return protocol::format_value(field, v.raw) + field.unit;
  }
  return "?";
}

std::string model_text(const ProbedController& found) {
  return found.identity && !found.identity->product_code.empty() ? found.identity->product_code
                                                                 : "(unknown)";
}

}  // namespace tracermon::app
