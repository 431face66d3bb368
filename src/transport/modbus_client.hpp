#pragma once
// A Modbus master on one link: frames requests (RTU or MBAP), finds and checks the reply,
// keeps the gap between transactions, retries what is worth retrying and counts everything.
// Owned and used by one thread (the bus worker, or a one-shot command).

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "protocol/pdu.hpp"
#include "transport/byte_stream.hpp"

namespace tracermon::transport {

enum class Framing : std::uint8_t { Rtu, Mbap };

// Defaults from NOTES.md: replies come within 3-25 ms but 100 ms timeouts failed in the
// field, so 1 s; at least 50 ms idle between transactions; 3 tries per request.
struct ClientOptions {
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds gap{50};
  int retries = 2;  // extra tries after a timeout, CRC error or bad reply
  // The RTU inter-frame silence (3.5 characters; 1.75 ms above 19200 baud): the least idle
  // time even when `gap` is 0, or a slave may read two requests as one frame. make_client
  // sets it from the baud rate; zero for Modbus TCP.
  std::chrono::microseconds min_silence{0};
};

struct ClientCounters {
  std::uint64_t requests = 0;  // frames sent, retries included
  std::uint64_t replies = 0;   // valid replies (exceptions included)
  std::uint64_t timeouts = 0;
  std::uint64_t crc_errors = 0;
  std::uint64_t bad_replies = 0;  // wrong size, wrong function, garbage
  std::uint64_t wrong_unit = 0;
  std::uint64_t echoes = 0;
  std::uint64_t exceptions = 0;
  std::uint64_t retries = 0;
  std::uint64_t link_errors = 0;  // open/connect failures and I/O errors
  std::chrono::microseconds last_latency{0};
  std::chrono::microseconds total_latency{0};  // over `replies`, for the mean
  std::chrono::microseconds max_latency{0};    // the longest since reset_max_latency()
};

// What 0x2B/0x0E tells about a device (EPEVER: "EPsolar Tech co., Ltd", "Tracer2215BN",
// "V02.05+V07.12", serial number as object 3).
struct DeviceIdentity {
  std::string vendor;
  std::string product_code;
  std::string revision;
  std::string serial;  // empty when the regular category is not answered
};

class ModbusClient {
 public:
  ModbusClient(std::unique_ptr<ByteStream> stream, Framing framing, ClientOptions options);

  // Opens the link now (it is opened on demand otherwise), to report a bad port up front.
  core::Status open();

  // One request/reply, retried per options; returns the reply PDU, an exception reply as
  // ErrorKind::Exception. `unit` is 1-247.
  core::Result<protocol::Bytes> transact(std::uint8_t unit, std::span<const std::uint8_t> pdu);

  // Reads registers (or bits, one word 0/1 each) with the function code of the table.
  core::Result<std::vector<std::uint16_t>> read(std::uint8_t unit, protocol::Table table,
                                                std::uint16_t start, std::uint16_t count);

  // Read Device Identification; ErrorKind::Exception when the device does not support it.
  core::Result<DeviceIdentity> identify(std::uint8_t unit);

  [[nodiscard]] const ClientCounters& counters() const { return m_counters; }
  // Starts a new window for max_latency (one device's reads on a shared bus).
  void reset_max_latency() { m_counters.max_latency = {}; }
  [[nodiscard]] std::string describe() const { return m_stream->describe(); }
  ClientOptions& options() { return m_options; }

 private:
  core::Result<protocol::Bytes> attempt(std::uint8_t unit, std::span<const std::uint8_t> pdu);
  core::Result<protocol::Bytes> exchange_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                             Deadline deadline);
  core::Result<protocol::Bytes> exchange_mbap(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                              Deadline deadline);
  void tally(const core::Error& error);

  std::unique_ptr<ByteStream> m_stream;
  Framing m_framing;
  ClientOptions m_options;
  ClientCounters m_counters;
  std::uint16_t m_transaction = 0;
  Clock::time_point m_idle_since{};
};

// A client for a port: RTU on serial and rtu+tcp, MBAP on tcp.
std::unique_ptr<ModbusClient> make_client(const PortSpec& port, const SerialSettings& serial,
                                          const ClientOptions& options);

}  // namespace tracermon::transport
