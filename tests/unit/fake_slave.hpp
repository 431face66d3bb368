#pragma once
// A scripted Modbus RTU slave behind the ByteStream interface: it answers read requests from
// a table of values, with exception 2 for any address it lacks (and exception 1 for Read
// Device Identification), and can be told to stay silent, to ignore some requests or to answer
// some late. No threads, no sleeps: a reply is ready as soon as the request is written, and a
// late one comes out just before the reply to the next request, as a slave that answers in
// order behind a slow link would send it.

#include <map>
#include <set>
#include <utility>

#include "protocol/pdu.hpp"
#include "protocol/rtu.hpp"
#include "transport/byte_stream.hpp"

namespace tracermon::test {

class FakeSlave final : public transport::ByteStream {
 public:
  std::map<std::pair<protocol::Table, std::uint16_t>, std::uint16_t> values;
  std::uint8_t unit = 1;
  bool silent = false;
  bool echo = false;       // send our request back before the reply, like a bad adapter
  protocol::Bytes prefix;  // noise to put before every reply
  int requests = 0;
  std::vector<protocol::Bytes> frames;  // every request frame received
  std::set<int> ignored;                // requests (1 = the first) that get no reply at all
  std::set<int> late;                   // requests whose reply comes after the next request
  std::set<int> corrupt;                // requests whose reply has a bad CRC
  std::set<int> mute;              // requests that are carried out (a write takes) but get no reply
  std::uint8_t refuse_writes = 0;  // an exception code for every write; 0: writes take
  bool forget_writes = false;      // writes are answered but change nothing
  std::vector<transport::Deadline> read_deadlines;  // what each read_some was given
  bool wire = false;  // claims to be a real line, where bytes take their wire time

  core::Status open(transport::Deadline) override { return core::Ok{}; }
  void close() override {}
  [[nodiscard]] bool is_open() const override { return true; }
  void discard_input() override { m_pending.clear(); }
  [[nodiscard]] std::string describe() const override { return "fake"; }
  [[nodiscard]] bool paced_by_wire() const override { return wire; }

  core::Status write_all(std::span<const std::uint8_t> bytes, transport::Deadline) override {
    ++requests;
    frames.emplace_back(bytes.begin(), bytes.end());
    if (echo) m_pending.insert(m_pending.end(), bytes.begin(), bytes.end());
    if (silent || bytes[0] != unit || ignored.contains(requests)) return core::Ok{};
    m_pending.insert(m_pending.end(), m_late.begin(), m_late.end());
    m_late.clear();
    if (mute.contains(requests)) {
      (void)answer(bytes.subspan(1, bytes.size() - 3));
      return core::Ok{};
    }
    auto& out = late.contains(requests) ? m_late : m_pending;
    out.insert(out.end(), prefix.begin(), prefix.end());
    auto reply = protocol::encode_rtu(unit, answer(bytes.subspan(1, bytes.size() - 3)));
    if (corrupt.contains(requests)) reply.back() ^= 0x5A;
    out.insert(out.end(), reply.begin(), reply.end());
    return core::Ok{};
  }

  core::Status read_some(protocol::Bytes& out, transport::Deadline deadline) override {
    read_deadlines.push_back(deadline);
    if (m_pending.empty()) return core::Error{core::ErrorKind::Timeout, ""};
    out.insert(out.end(), m_pending.begin(), m_pending.end());
    m_pending.clear();
    return core::Ok{};
  }

 private:
  protocol::Bytes answer(std::span<const std::uint8_t> pdu) {
    std::uint8_t function = pdu[0];
    if (function == protocol::fc::k_encapsulated_interface) return {0xAB, 1};
    if (function == protocol::fc::k_write_multiple_registers ||
        function == protocol::fc::k_write_single_coil) {
      return write(pdu);
    }
    protocol::Table table = protocol::Table::Input;
    for (auto t : {protocol::Table::Coil, protocol::Table::Discrete, protocol::Table::Holding,
                   protocol::Table::Input}) {
      if (protocol::read_function(t) == function) table = t;
    }
    auto start = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
    auto count = static_cast<std::uint16_t>((pdu[3] << 8) | pdu[4]);
    std::vector<std::uint16_t> words;
    for (std::uint16_t i = 0; i < count; ++i) {
      auto it = values.find({table, static_cast<std::uint16_t>(start + i)});
      if (it == values.end()) {
        return {static_cast<std::uint8_t>(function | 0x80), 2};
      }
      words.push_back(it->second);
    }
    protocol::Bytes reply{function};
    if (table == protocol::Table::Coil || table == protocol::Table::Discrete) {
      reply.push_back(static_cast<std::uint8_t>((count + 7) / 8));
      for (std::uint16_t i = 0; i < count; i += 8) {
        std::uint8_t byte = 0;
        for (std::uint16_t b = 0; b < 8 && i + b < count; ++b) {
          if (words[i + b] != 0) byte = static_cast<std::uint8_t>(byte | (1U << b));
        }
        reply.push_back(byte);
      }
    } else {
      reply.push_back(static_cast<std::uint8_t>(2 * count));
      for (auto w : words) {
        reply.push_back(static_cast<std::uint8_t>(w >> 8));
        reply.push_back(static_cast<std::uint8_t>(w & 0xFF));
      }
    }
    return reply;
  }

  // FC 0x10 and FC 0x05 on the table of values (an address it lacks: exception 2).
  protocol::Bytes write(std::span<const std::uint8_t> pdu) {
    std::uint8_t function = pdu[0];
    if (refuse_writes != 0) return {static_cast<std::uint8_t>(function | 0x80), refuse_writes};
    auto start = static_cast<std::uint16_t>((pdu[1] << 8) | pdu[2]);
    if (function == protocol::fc::k_write_single_coil) {
      auto key = std::pair{protocol::Table::Coil, start};
      if (!values.contains(key)) return {static_cast<std::uint8_t>(function | 0x80), 2};
      values[key] = pdu[3] == 0xFF ? 1 : 0;
      return {pdu.begin(), pdu.end()};
    }
    auto count = static_cast<std::uint16_t>((pdu[3] << 8) | pdu[4]);
    if (forget_writes) return {pdu.begin(), pdu.begin() + 5};
    for (std::uint16_t i = 0; i < count; ++i) {
      if (!values.contains({protocol::Table::Holding, static_cast<std::uint16_t>(start + i)})) {
        return {static_cast<std::uint8_t>(function | 0x80), 2};
      }
    }
    for (std::uint16_t i = 0; i < count; ++i) {
      values[{protocol::Table::Holding, static_cast<std::uint16_t>(start + i)}] =
          static_cast<std::uint16_t>((pdu[6 + 2 * i] << 8) | pdu[7 + 2 * i]);
    }
    return {pdu.begin(), pdu.begin() + 5};
  }

  protocol::Bytes m_pending;
  protocol::Bytes m_late;  // held back until the next request
};

}  // namespace tracermon::test
