#pragma once
// A Modbus master on one link: frames requests (RTU or MBAP), finds and checks the reply,
// keeps the gap between transactions, retries what is worth retrying and counts everything.
// Owned and used by one thread (the bus worker, or a one-shot command).

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "protocol/device_identity.hpp"
#include "protocol/link_counters.hpp"
#include "protocol/pdu.hpp"
#include "protocol/rtu_matcher.hpp"
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
  // One character on the wire (10 bits at the baud); make_client sets it for serial ports.
  // Zero where the wire is out of sight (TCP bridges, the in-process simulator).
  std::chrono::microseconds char_time{0};
  // After a broken frame of ours (bad CRC, truncated), this much silence ends the attempt at
  // once: the slave has finished talking, so waiting out the timeout only costs bus time.
  std::chrono::milliseconds line_quiet{100};
  // Before a request, bytes still arriving are waited out until this much silence (a USB
  // adapter hands over bytes up to 16 ms late), so our request does not collide with a frame.
  std::chrono::milliseconds settle_quiet{20};
  // How late an RTU reply may still arrive: until then, a request that gave up keeps its
  // claim on a matching reply (see RtuReplyMatcher).
  std::chrono::milliseconds late_window{10000};
  // Sync with each slave before the first request to it: a reply to what an earlier program (or
  // the daemon before a reload) left unanswered may still be on its way. make_client turns it
  // on for serial and RTU-over-TCP links.
  bool sync_first = false;
};

// The link's counts (requests, replies, timeouts, ... link_errors), plus exception replies and
// reply latency.
struct ClientCounters : protocol::LinkCounters {
  std::uint64_t exceptions = 0;
  std::chrono::microseconds last_latency{0};
  std::chrono::microseconds total_latency{0};  // over `replies`, for the mean
  std::chrono::microseconds max_latency{0};    // the longest since reset_max_latency()
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

  // Writes, sent once: a write that timed out may have taken, so the caller reads back
  // before it decides to send again (never a blind retry). FC 0x10 and FC 0x05.
  core::Status write_registers(std::uint8_t unit, std::uint16_t start,
                               std::span<const std::uint16_t> words);
  core::Status write_coil(std::uint8_t unit, std::uint16_t address, bool on);

  // Read Device Identification; ErrorKind::Exception when the device does not support it.
  core::Result<protocol::DeviceIdentity> identify(std::uint8_t unit);

  [[nodiscard]] const ClientCounters& counters() const { return m_counters; }
  // Starts a new window for max_latency (one device's reads on a shared bus).
  void reset_max_latency() { m_counters.max_latency = {}; }
  [[nodiscard]] std::string describe() const { return m_stream->describe(); }
  ClientOptions& options() { return m_options; }

 private:
  core::Result<protocol::Bytes> transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                         int retries);
  core::Status write_once(std::uint8_t unit, const protocol::Bytes& request);
  core::Result<protocol::Bytes> attempt(std::uint8_t unit, std::span<const std::uint8_t> pdu);
  core::Result<protocol::Bytes> exchange_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                             Deadline deadline);
  // RTU bookkeeping of requests whose replies may still come (rtu_matcher.hpp).
  core::Status settle_line();
  void sync(std::uint8_t unit);
  [[nodiscard]] bool needs_sync(std::span<const std::uint8_t> frame) const;
  // It answered within the late window: a slave that talks, so worth a sync or a wait.
  [[nodiscard]] bool answers(std::uint8_t unit) const;
  [[nodiscard]] std::vector<protocol::EarlierRequest> earlier_requests();
  void note_answered(const protocol::RtuReplyMatcher& matcher);
  void note_lateness(const protocol::RtuReplyMatcher& matcher, std::size_t& seen);
  [[nodiscard]] Clock::duration expected_lateness() const;
  [[nodiscard]] Deadline due_until(const protocol::RtuReplyMatcher& matcher,
                                   Clock::duration patience) const;
  void forget_unit(std::uint8_t unit);
  void count(const protocol::LineCensus& census);
  core::Result<protocol::Bytes> exchange_mbap(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                              Deadline deadline);
  void tally(const core::Error& error);

  std::unique_ptr<ByteStream> m_stream;
  Framing m_framing;
  ClientOptions m_options;
  ClientCounters m_counters;
  std::uint16_t m_transaction = 0;
  Clock::time_point m_idle_since{};

  struct Outstanding {
    protocol::EarlierRequest request;
    Clock::time_point sent_at;
    bool silent = false;  // nothing at all came back: the reply may just be late
  };
  std::deque<Outstanding> m_outstanding;  // oldest first
  protocol::Bytes m_leftover;             // received after a reply; looked at before the next
  // Per unit: when anything of its last came back (a reply, a late or a broken one).
  std::array<Clock::time_point, 256> m_heard_at{};
  std::array<std::uint8_t, 256> m_sync_unanswered{};  // per unit: syncs it ignored
  std::array<bool, 256> m_contacted{};                // per unit: a request has been sent
  Clock::duration m_lateness{};                       // the latest reply seen lately
  Clock::time_point m_lateness_seen{};
};

// A client for a port: RTU on serial and rtu+tcp, MBAP on tcp.
std::unique_ptr<ModbusClient> make_client(const PortSpec& port, const SerialSettings& serial,
                                          const ClientOptions& options);

}  // namespace tracermon::transport
