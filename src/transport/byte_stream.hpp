#pragma once
// A byte stream to a bus: a serial port or a TCP socket. Framing lives above it. One stream
// belongs to one thread (the bus worker); it is not thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "transport/port_spec.hpp"

namespace tracermon::transport {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
using Bytes = std::vector<std::uint8_t>;

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  ByteStream() = default;
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  // Opens the link if it is not open; a no-op when it is.
  virtual core::Status open(Deadline deadline) = 0;
  virtual void close() = 0;
  [[nodiscard]] virtual bool is_open() const = 0;
  virtual core::Status write_all(std::span<const std::uint8_t> bytes, Deadline deadline) = 0;
  // Appends what arrives before the deadline to `out`: at least one byte, or Timeout.
  virtual core::Status read_some(Bytes& out, Deadline deadline) = 0;
  // Throws away bytes already received (a late reply, another master's traffic).
  virtual void discard_input() = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  // Whether bytes take their wire time to arrive (a real serial line), so that a reply complete
  // sooner than the wire allows cannot be the reply to what was just sent. A pseudo-terminal
  // or a socket delivers at once.
  [[nodiscard]] virtual bool paced_by_wire() const { return false; }
};

// A stream for the port: a serial device (opened exclusively), a TCP connection, or a
// simulated bus in this process.
std::unique_ptr<ByteStream> make_stream(const PortSpec& port, const SerialSettings& serial);

// The simulator lives above this layer; it registers how to reach it (sim/sim_stream.hpp).
using SimulatedStreamFactory = std::unique_ptr<ByteStream> (*)(const PortSpec& port);
void set_simulated_stream_factory(SimulatedStreamFactory factory);

}  // namespace tracermon::transport
