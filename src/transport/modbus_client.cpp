#include "transport/modbus_client.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "protocol/mbap.hpp"
#include "protocol/rtu.hpp"

namespace tracermon::transport {

using core::Error;
using core::ErrorKind;
using protocol::Bytes;

namespace {

bool worth_retrying(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Timeout:
    case ErrorKind::Crc:
    case ErrorKind::BadReply:
    case ErrorKind::WrongUnit:
    case ErrorKind::Echo:
    case ErrorKind::Io:
      return true;
    default:
      return false;
  }
}

// Errors after which the link is closed and opened again on the next request.
bool link_broken(ErrorKind kind) {
  return kind == ErrorKind::Io || kind == ErrorKind::ConnectFailed ||
         kind == ErrorKind::NoSuchPort || kind == ErrorKind::PortBusy ||
         kind == ErrorKind::PermissionDenied;
}

}  // namespace

ModbusClient::ModbusClient(std::unique_ptr<ByteStream> stream, Framing framing,
                           ClientOptions options)
    : m_stream(std::move(stream)), m_framing(framing), m_options(options) {}

core::Status ModbusClient::open() {
  auto status = m_stream->open(Clock::now() + m_options.timeout);
  if (!status) ++m_counters.link_errors;
  return status;
}

void ModbusClient::tally(const Error& error) {
  switch (error.kind) {
    case ErrorKind::Timeout:
      ++m_counters.timeouts;
      break;
    case ErrorKind::Crc:
      ++m_counters.crc_errors;
      break;
    case ErrorKind::BadReply:
      ++m_counters.bad_replies;
      break;
    case ErrorKind::WrongUnit:
      ++m_counters.wrong_unit;
      break;
    case ErrorKind::Echo:
      ++m_counters.echoes;
      break;
    case ErrorKind::Exception:
      ++m_counters.exceptions;
      break;
    default:
      ++m_counters.link_errors;
      break;
  }
}

core::Result<Bytes> ModbusClient::transact(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  if (unit < 1 || unit > 247) {
    return Error{ErrorKind::InvalidArgument, fmt::format("slave id {} is not 1-247", unit)};
  }
  for (int attempt_no = 0;; ++attempt_no) {
    auto result = attempt(unit, pdu);
    if (result) return result;
    const Error& error = result.error();
    tally(error);
    if (link_broken(error.kind)) m_stream->close();
    if (!worth_retrying(error.kind) || attempt_no >= m_options.retries) return result;
    ++m_counters.retries;
  }
}

core::Result<Bytes> ModbusClient::attempt(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  auto opened = m_stream->open(Clock::now() + m_options.timeout);
  if (!opened) return opened.error();
  // Leave the bus idle between transactions: slow controllers skip requests that come
  // too fast, and a shared bus needs room for the other master.
  auto ready_at = m_idle_since + std::max<Clock::duration>(m_options.gap, m_options.min_silence);
  if (Clock::now() < ready_at) std::this_thread::sleep_until(ready_at);
  m_stream->discard_input();
  auto start = Clock::now();
  ++m_counters.requests;
  auto result = m_framing == Framing::Rtu ? exchange_rtu(unit, pdu, start + m_options.timeout)
                                          : exchange_mbap(unit, pdu, start + m_options.timeout);
  m_idle_since = Clock::now();
  if (result) {
    ++m_counters.replies;
    m_counters.last_latency =
        std::chrono::duration_cast<std::chrono::microseconds>(m_idle_since - start);
    m_counters.total_latency += m_counters.last_latency;
    m_counters.max_latency = std::max(m_counters.max_latency, m_counters.last_latency);
    if (auto e = protocol::exception_of(pdu[0], result.value())) return *e;
  }
  return result;
}

core::Result<Bytes> ModbusClient::exchange_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                               Deadline deadline) {
  auto frame = protocol::encode_rtu(unit, pdu);
  auto written = m_stream->write_all(frame, deadline);
  if (!written) return written.error();
  protocol::RtuReplyMatcher matcher(frame, protocol::expected_reply_size(pdu));
  Bytes received;
  for (;;) {
    auto got = m_stream->read_some(received, deadline);
    if (!got) {
      if (got.error().kind == ErrorKind::Timeout) return matcher.failure(received.size());
      return got.error();
    }
    if (auto match = matcher.feed(received)) return std::move(match->pdu);
  }
}

core::Result<Bytes> ModbusClient::exchange_mbap(std::uint8_t unit,
                                                std::span<const std::uint8_t> pdu,
                                                Deadline deadline) {
  auto transaction = ++m_transaction;
  auto written = m_stream->write_all(protocol::encode_mbap(transaction, unit, pdu), deadline);
  if (!written) return written.error();
  Bytes received;
  for (;;) {
    auto header = protocol::decode_mbap_header(received);
    if (received.size() >= protocol::k_mbap_header_size && !header) {
      // Not Modbus TCP: most likely a transparent bridge that wants rtu+tcp://.
      m_stream->close();
      return Error{ErrorKind::BadReply,
                   "reply is not Modbus TCP (a transparent bridge? try rtu+tcp://)"};
    }
    if (header && received.size() >= protocol::k_mbap_header_size + header->pdu_size()) {
      auto begin = received.begin() + protocol::k_mbap_header_size;
      Bytes reply(begin, begin + static_cast<std::ptrdiff_t>(header->pdu_size()));
      received.erase(received.begin(), begin + static_cast<std::ptrdiff_t>(header->pdu_size()));
      if (header->transaction != transaction) continue;  // a late reply to an earlier request
      if (header->unit != unit) {
        return Error{ErrorKind::WrongUnit, fmt::format("reply from id {}", header->unit)};
      }
      bool function_ok = !reply.empty() && (reply[0] & 0x7F) == pdu[0];
      if (!function_ok) return Error{ErrorKind::BadReply, "reply for another function"};
      auto expected = protocol::expected_reply_size(pdu);
      bool exception = (reply[0] & protocol::fc::k_exception_flag) != 0;
      if (!exception && expected != 0 && reply.size() != expected) {
        return Error{ErrorKind::BadReply,
                     fmt::format("{} bytes of reply, expected {}", reply.size(), expected)};
      }
      return reply;
    }
    auto got = m_stream->read_some(received, deadline);
    if (!got) {
      if (got.error().kind != ErrorKind::Timeout) return got.error();
      return Error{ErrorKind::Timeout,
                   received.empty() ? std::string("no reply")
                                    : fmt::format("truncated reply ({} bytes)", received.size())};
    }
  }
}

core::Result<std::vector<std::uint16_t>> ModbusClient::read(std::uint8_t unit,
                                                            protocol::Table table,
                                                            std::uint16_t start,
                                                            std::uint16_t count) {
  auto request = protocol::make_read_request(table, start, count);
  auto reply = transact(unit, request);
  if (!reply) return reply.error();
  auto words = protocol::parse_read_reply(request, reply.value());
  if (!words) tally(words.error());
  return words;
}

core::Result<DeviceIdentity> ModbusClient::identify(std::uint8_t unit) {
  DeviceIdentity identity;
  auto basic = transact(unit, protocol::make_device_id_request(1, 0));
  if (!basic) return basic.error();
  auto parsed = protocol::parse_device_id_reply(basic.value());
  if (!parsed) return parsed.error();
  auto& objects = parsed.value().objects;
  identity.vendor = objects[0];
  identity.product_code = objects[1];
  identity.revision = objects[2];
  // Object 3 (regular category) holds the serial number on EPEVER units; optional.
  if (auto regular = transact(unit, protocol::make_device_id_request(2, 0))) {
    if (auto more = protocol::parse_device_id_reply(regular.value())) {
      auto it = more.value().objects.find(3);
      if (it != more.value().objects.end()) identity.serial = it->second;
    }
  }
  return identity;
}

std::unique_ptr<ModbusClient> make_client(const PortSpec& port, const SerialSettings& serial,
                                          const ClientOptions& options) {
  auto framing = port.kind == LinkKind::ModbusTcp ? Framing::Mbap : Framing::Rtu;
  auto with_silence = options;
  // The in-process simulator takes whole frames and needs no silence between them.
  if (framing == Framing::Rtu && port.kind != LinkKind::Simulated) {
    // Modbus over serial line, 2.3.1.4: 3.5 characters of 11 bits; a fixed 1750 us above 19200.
    auto us = serial.baud > 19200 ? 1750 : (3'500'000 * 11 + serial.baud - 1) / serial.baud;
    with_silence.min_silence = std::chrono::microseconds(us);
  }
  return std::make_unique<ModbusClient>(make_stream(port, serial), framing, with_silence);
}

}  // namespace tracermon::transport
