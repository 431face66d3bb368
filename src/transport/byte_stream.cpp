#include "transport/byte_stream.hpp"

#include <stdexcept>

#include "transport/fd_stream.hpp"

namespace tracermon::transport {

namespace {
SimulatedStreamFactory g_simulated = nullptr;
}

void set_simulated_stream_factory(SimulatedStreamFactory factory) {
  g_simulated = factory;
}

std::unique_ptr<ByteStream> make_stream(const PortSpec& port, const SerialSettings& serial) {
  if (port.kind == LinkKind::Serial) return make_serial_stream(port.path, serial);
  if (port.kind == LinkKind::Simulated) {
    if (g_simulated == nullptr) {
      throw std::logic_error("sim: ports need the simulator (sim::register_sim_ports)");
    }
    return g_simulated(port);
  }
  return make_tcp_stream(port);
}

}  // namespace tracermon::transport
