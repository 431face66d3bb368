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

constexpr std::size_t k_max_outstanding = 32;
constexpr std::uint8_t k_max_sync_unanswered = 2;  // then the slave is not sent syncs any more
// How long a late reply is remembered as what to expect of the line.
constexpr auto k_lateness_memory = std::chrono::minutes(10);
// A Wi-Fi bridge may hand over one frame in several packets, far apart.
constexpr auto k_bridge_quiet = std::chrono::milliseconds(300);

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
  // On RTU links echoes, bad CRCs and other ids are counted frame by frame as they are seen
  // (count()), whether or not the attempt then succeeds.
  bool rtu = m_framing == Framing::Rtu;
  switch (error.kind) {
    case ErrorKind::Timeout:
      ++m_counters.timeouts;
      break;
    case ErrorKind::Crc:
      if (!rtu) ++m_counters.crc_errors;
      break;
    case ErrorKind::BadReply:
      ++m_counters.bad_replies;
      break;
    case ErrorKind::WrongUnit:
      if (!rtu) ++m_counters.wrong_unit;
      break;
    case ErrorKind::Echo:
      if (!rtu) ++m_counters.echoes;
      break;
    case ErrorKind::Exception:
      ++m_counters.exceptions;
      break;
    default:
      ++m_counters.link_errors;
      break;
  }
}

void ModbusClient::count(const protocol::LineCensus& census) {
  m_counters.echoes += census.echoes;
  m_counters.noise_bytes += census.noise_bytes;
  m_counters.late_replies += census.late_replies;
  m_counters.other_master += census.other_master;
  m_counters.wrong_unit += census.other_ids;
  m_counters.crc_errors += census.bad_frames;
}

core::Result<Bytes> ModbusClient::transact(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  return transact(unit, pdu, m_options.retries);
}

core::Result<Bytes> ModbusClient::transact(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                           int retries) {
  if (unit < 1 || unit > 247) {
    return Error{ErrorKind::InvalidArgument, fmt::format("slave id {} is not 1-247", unit)};
  }
  for (int attempt_no = 0;; ++attempt_no) {
    auto result = attempt(unit, pdu);
    if (result) return result;
    const Error& error = result.error();
    tally(error);
    if (link_broken(error.kind)) m_stream->close();
    if (!worth_retrying(error.kind) || attempt_no >= retries) return result;
    ++m_counters.retries;
  }
}

core::Result<Bytes> ModbusClient::attempt(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  auto opened = m_stream->open(Clock::now() + m_options.timeout);
  if (!opened) return opened.error();
  // Leave the bus idle between transactions: slow controllers skip requests that come
  // too fast, and a shared bus needs room for the other master.
  auto pause = std::max<Clock::duration>(m_options.gap, m_options.min_silence);
  if (Clock::now() < m_idle_since + pause) std::this_thread::sleep_until(m_idle_since + pause);
  if (m_framing == Framing::Rtu) {
    auto settled = settle_line();
    if (!settled) return settled.error();
    bool first = m_options.sync_first && !m_contacted[unit];
    if (first || needs_sync(protocol::encode_rtu(unit, pdu))) {
      sync(unit);
      std::this_thread::sleep_until(m_idle_since + pause);
    }
    m_contacted[unit] = true;
  } else {
    m_stream->discard_input();
  }
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

std::vector<protocol::EarlierRequest> ModbusClient::earlier_requests() {
  auto now = Clock::now();
  while (!m_outstanding.empty() && (now - m_outstanding.front().sent_at > m_options.late_window ||
                                    m_outstanding.size() > k_max_outstanding)) {
    m_outstanding.pop_front();
  }
  std::vector<protocol::EarlierRequest> out;
  out.reserve(m_outstanding.size());
  for (const auto& o : m_outstanding)
    out.push_back(o.request);
  return out;
}

void ModbusClient::note_answered(const protocol::RtuReplyMatcher& matcher) {
  // A slave answers in order: once a reply to a request has come, every older request to the
  // same slave has been answered or lost.
  std::vector<bool> gone(m_outstanding.size(), false);
  for (auto index : matcher.answered()) {
    auto unit = m_outstanding[index].request.frame[0];
    for (std::size_t i = 0; i <= index; ++i) {
      if (m_outstanding[i].request.frame[0] == unit) gone[i] = true;
    }
  }
  std::deque<Outstanding> kept;
  for (std::size_t i = 0; i < m_outstanding.size(); ++i) {
    if (!gone[i]) kept.push_back(std::move(m_outstanding[i]));
  }
  m_outstanding = std::move(kept);
  count(matcher.census());
}

void ModbusClient::forget_unit(std::uint8_t unit) {
  std::erase_if(m_outstanding, [unit](const Outstanding& o) { return o.request.frame[0] == unit; });
}

core::Status ModbusClient::settle_line() {
  // What arrived since the last exchange (late replies, another master) is looked at, so late
  // replies settle the requests they answer, then thrown away. Where replies have come late
  // lately (a bridge with a backlog), the requests still due get that long to be answered
  // first: sending more only makes the backlog grow. If the line is busy, wait until it has
  // been quiet for a moment, so our request does not collide with a frame.
  Bytes received = std::move(m_leftover);
  m_leftover.clear();
  protocol::RtuReplyMatcher matcher({}, 0, earlier_requests());
  auto patience = expected_lateness();
  auto quiet = std::max<Clock::duration>(m_options.min_silence, m_options.settle_quiet);
  auto start = Clock::now();
  auto last_byte = start;
  bool heard = !received.empty();
  std::size_t claims = 0;
  if (heard) {
    (void)matcher.feed(received);
    note_lateness(matcher, claims);
  }
  for (bool first = true;; first = false) {
    auto now = Clock::now();
    Deadline until = now;  // at first just a look at what is there
    if (heard && now - start < m_options.timeout) until = last_byte + quiet;
    until = std::max(until, std::min(due_until(matcher, patience), start + m_options.late_window));
    if (!first && until <= now) break;
    auto got = m_stream->read_some(received, until);
    if (!got) {
      if (got.error().kind != ErrorKind::Timeout) return got.error();
      if (Clock::now() >= until) break;
      continue;
    }
    last_byte = Clock::now();
    heard = true;
    (void)matcher.feed(received);
    note_lateness(matcher, claims);
  }
  if (heard) note_answered(matcher);
  return core::Ok{};
}

void ModbusClient::note_lateness(const protocol::RtuReplyMatcher& matcher, std::size_t& seen) {
  // How late replies come on this line, measured as they arrive: the time to give requests
  // still due before sending more (settle_line).
  auto now = Clock::now();
  const auto& answered = matcher.answered();
  for (; seen < answered.size(); ++seen) {
    const auto& request = m_outstanding[answered[seen]];
    m_heard_at[request.request.frame[0]] = now;  // it talks, if late
    auto lateness = now - request.sent_at;
    if (now - m_lateness_seen > k_lateness_memory) m_lateness = Clock::duration::zero();
    m_lateness = std::max(m_lateness, std::min<Clock::duration>(lateness, m_options.late_window));
    m_lateness_seen = now;
  }
}

Clock::duration ModbusClient::expected_lateness() const {
  if (Clock::now() - m_lateness_seen > k_lateness_memory) return Clock::duration::zero();
  return m_lateness + m_lateness / 4;
}

Deadline ModbusClient::due_until(const protocol::RtuReplyMatcher& matcher,
                                 Clock::duration patience) const {
  Deadline latest{};
  if (patience == Clock::duration::zero()) return latest;
  const auto& answered = matcher.answered();
  for (std::size_t i = 0; i < m_outstanding.size(); ++i) {
    auto unit = m_outstanding[i].request.frame[0];
    // Only a request that met silence from a slave that does answer may be answered late.
    if (!m_outstanding[i].silent || !answers(unit)) continue;
    // Settled: answered, or older than an answered request to the same slave.
    bool settled = std::any_of(answered.begin(), answered.end(), [&](std::size_t j) {
      return j >= i && m_outstanding[j].request.frame[0] == unit;
    });
    if (!settled) latest = std::max(latest, m_outstanding[i].sent_at + patience);
  }
  return latest;
}

bool ModbusClient::answers(std::uint8_t unit) const {
  return m_heard_at[unit] != Clock::time_point{} &&
         Clock::now() - m_heard_at[unit] < m_options.late_window;
}

bool ModbusClient::needs_sync(std::span<const std::uint8_t> frame) const {
  // Only a slave that answers is worth a sync; one that is silent costs a timeout either way.
  if (!answers(frame[0]) || m_sync_unanswered[frame[0]] >= k_max_sync_unanswered) return false;
  return std::any_of(m_outstanding.begin(), m_outstanding.end(), [&](const Outstanding& o) {
    const auto& other = o.request.frame;
    return other[0] == frame[0] && other[1] == frame[1] &&
           !std::equal(other.begin(), other.end(), frame.begin(), frame.end());
  });
}

void ModbusClient::sync(std::uint8_t unit) {
  // An earlier request to this slave may still be answered, and its reply would look like the
  // reply to the next one (same function and size). Read Device Identification first: its
  // reply (or exception) cannot be taken for anything else, and once it is back every earlier
  // request to the slave has been answered or lost. Costs one short exchange instead of a
  // timeout on a reply that went to the wrong request.
  auto request = protocol::make_device_id_request(1, 0);
  ++m_counters.requests;
  auto start = Clock::now();
  auto reply = exchange_rtu(unit, request, start + m_options.timeout);
  m_idle_since = Clock::now();
  if (reply) {
    ++m_counters.replies;
    m_sync_unanswered[unit] = 0;
    return;
  }
  tally(reply.error());
  if (reply.error().kind == ErrorKind::Timeout) ++m_sync_unanswered[unit];
}

core::Result<Bytes> ModbusClient::exchange_rtu(std::uint8_t unit, std::span<const std::uint8_t> pdu,
                                               Deadline deadline) {
  auto frame = protocol::encode_rtu(unit, pdu);
  auto expected = protocol::expected_reply_size(pdu);
  protocol::RtuReplyMatcher matcher(frame, expected, earlier_requests());
  auto sent_at = Clock::now();
  auto written = m_stream->write_all(frame, deadline);
  if (!written) return written.error();
  // No reply of ours can be complete before the request and the shortest reply (5 bytes) have
  // crossed the wire; whatever was complete earlier answers something else.
  auto earliest = m_stream->paced_by_wire()
                      ? sent_at + m_options.char_time * static_cast<long>(frame.size() + 5)
                      : sent_at;
  Bytes received;
  std::size_t too_early = 0;
  auto last_byte = sent_at;
  std::optional<protocol::RtuReplyMatcher::Match> match;
  std::optional<Error> link_error;
  std::size_t claims = 0;
  for (;;) {
    auto until = matcher.broken_frame_seen() ? std::min(deadline, last_byte + m_options.line_quiet)
                                             : deadline;
    auto got = m_stream->read_some(received, until);
    if (!got) {
      if (got.error().kind != ErrorKind::Timeout) link_error = got.error();
      break;  // the timeout, or the line went quiet after a broken frame
    }
    last_byte = Clock::now();
    if (last_byte < earliest) too_early = received.size();
    match = matcher.feed(received, too_early);
    note_lateness(matcher, claims);
    if (match) break;
  }
  // Late replies from this slave show it talks, even when nothing was ours.
  bool late_from_unit =
      std::any_of(matcher.answered().begin(), matcher.answered().end(),
                  [&](std::size_t i) { return m_outstanding[i].request.frame[0] == unit; });
  note_answered(matcher);
  if (match) {
    m_heard_at[unit] = Clock::now();
    m_leftover.assign(received.begin() + static_cast<std::ptrdiff_t>(match->end), received.end());
    if (match->maybe_earlier) {
      // It may have been the reply to an identical earlier request: ours may still come.
      m_outstanding.push_back({{frame, expected}, sent_at, false});
    } else {
      forget_unit(unit);
    }
    return std::move(match->pdu);
  }
  if (matcher.answered_badly() || late_from_unit) m_heard_at[unit] = Clock::now();
  if (matcher.answered_badly()) {
    forget_unit(unit);  // it answered this request (badly): nothing more will come
  } else {
    auto failure = matcher.failure(received.size());
    bool silent = (failure.kind == ErrorKind::Timeout && !matcher.broken_frame_seen()) ||
                  failure.kind == ErrorKind::Echo;
    m_outstanding.push_back({{frame, expected}, sent_at, silent});
    if (!link_error) return failure;
  }
  if (link_error) return *link_error;
  return matcher.failure(received.size());
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

core::Status ModbusClient::write_once(std::uint8_t unit, const protocol::Bytes& request) {
  auto reply = transact(unit, request, 0);
  if (!reply) return reply.error();
  auto checked = protocol::check_write_reply(request, reply.value());
  if (!checked) tally(checked.error());
  return checked;
}

core::Status ModbusClient::write_registers(std::uint8_t unit, std::uint16_t start,
                                           std::span<const std::uint16_t> words) {
  if (words.empty() || words.size() > 123) {
    return Error{ErrorKind::InvalidArgument,
                 fmt::format("FC 0x10 writes 1-123 registers, not {}", words.size())};
  }
  return write_once(unit, protocol::make_write_registers_request(start, words));
}

core::Status ModbusClient::write_coil(std::uint8_t unit, std::uint16_t address, bool on) {
  return write_once(unit, protocol::make_write_coil_request(address, on));
}

core::Result<protocol::DeviceIdentity> ModbusClient::identify(std::uint8_t unit) {
  protocol::DeviceIdentity identity;
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
    if (port.kind == LinkKind::Serial) {
      with_silence.char_time = std::chrono::microseconds(10'000'000 / serial.baud);
    } else {
      with_silence.line_quiet = std::max(with_silence.line_quiet, k_bridge_quiet);
    }
    with_silence.sync_first = true;
  }
  return std::make_unique<ModbusClient>(make_stream(port, serial), framing, with_silence);
}

}  // namespace tracermon::transport
