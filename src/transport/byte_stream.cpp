#include "transport/byte_stream.hpp"

#include "transport/fd_stream.hpp"

namespace tracermon::transport {

std::unique_ptr<ByteStream> make_stream(const PortSpec& port, const SerialSettings& serial) {
  if (port.kind == LinkKind::Serial) return make_serial_stream(port.path, serial);
  return make_tcp_stream(port);
}

}  // namespace tracermon::transport
