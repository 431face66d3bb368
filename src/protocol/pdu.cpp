#include "protocol/pdu.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tracermon::protocol {

using core::Error;
using core::ErrorKind;

std::uint8_t read_function(Table table) {
  switch (table) {
    case Table::Coil:
      return fc::k_read_coils;
    case Table::Discrete:
      return fc::k_read_discrete_inputs;
    case Table::Holding:
      return fc::k_read_holding_registers;
    case Table::Input:
      return fc::k_read_input_registers;
  }
  return fc::k_read_input_registers;
}

const char* exception_meaning(std::uint8_t code) {
  switch (code) {
    case 1:
      return "illegal function";
    case 2:
      return "illegal data address (the device does not have this register)";
    case 3:
      return "illegal data value";
    case 4:
      return "slave device failure";
    case 5:
      return "acknowledge";
    case 6:
      return "slave device busy";
    case 8:
      return "memory parity error";
    case 10:
      return "gateway path unavailable";
    case 11:
      return "gateway target device failed to respond";
    default:
      return "unknown exception";
  }
}

Bytes make_read_request(Table table, std::uint16_t start, std::uint16_t count) {
  return {read_function(table), static_cast<std::uint8_t>(start >> 8),
          static_cast<std::uint8_t>(start & 0xFF), static_cast<std::uint8_t>(count >> 8),
          static_cast<std::uint8_t>(count & 0xFF)};
}

Bytes make_write_registers_request(std::uint16_t start, std::span<const std::uint16_t> words) {
  auto count = static_cast<std::uint16_t>(words.size());
  Bytes out{fc::k_write_multiple_registers,          static_cast<std::uint8_t>(start >> 8),
            static_cast<std::uint8_t>(start & 0xFF), static_cast<std::uint8_t>(count >> 8),
            static_cast<std::uint8_t>(count & 0xFF), static_cast<std::uint8_t>(count * 2)};
  for (auto w : words) {
    out.push_back(static_cast<std::uint8_t>(w >> 8));
    out.push_back(static_cast<std::uint8_t>(w & 0xFF));
  }
  return out;
}

Bytes make_write_coil_request(std::uint16_t address, bool on) {
  return {fc::k_write_single_coil, static_cast<std::uint8_t>(address >> 8),
          static_cast<std::uint8_t>(address & 0xFF), static_cast<std::uint8_t>(on ? 0xFF : 0x00),
          0x00};
}

core::Status check_write_reply(std::span<const std::uint8_t> request,
                               std::span<const std::uint8_t> reply) {
  if (request.empty()) return Error{ErrorKind::InvalidArgument, "empty request"};
  if (auto e = exception_of(request[0], reply)) return *e;
  // Both echo the function, the address and the second word (count or coil value).
  if (reply.size() != 5 || !std::equal(reply.begin(), reply.end(), request.begin())) {
    return Error{ErrorKind::BadReply,
                 fmt::format("the reply to FC 0x{:02X} at 0x{:04X} does not echo the request",
                             request[0], request.size() >= 3 ? be16(request, 1) : 0)};
  }
  return core::Ok{};
}

std::size_t expected_reply_size(std::span<const std::uint8_t> request) {
  if (request.empty()) return 0;
  switch (request[0]) {
    case fc::k_read_coils:
    case fc::k_read_discrete_inputs:
      return 2 + (be16(request, 3) + 7U) / 8U;
    case fc::k_read_holding_registers:
    case fc::k_read_input_registers:
      return 2 + 2U * be16(request, 3);
    case fc::k_write_single_coil:
    case fc::k_write_single_register:
    case fc::k_write_multiple_coils:
    case fc::k_write_multiple_registers:
      return 5;
    default:
      return 0;
  }
}

std::optional<Error> exception_of(std::uint8_t request_function,
                                  std::span<const std::uint8_t> reply) {
  if (reply.size() == 2 && reply[0] == (request_function | fc::k_exception_flag)) {
    return Error{ErrorKind::Exception,
                 fmt::format("exception {} ({})", reply[1], exception_meaning(reply[1])), reply[1]};
  }
  return std::nullopt;
}

core::Result<std::vector<std::uint16_t>> parse_read_reply(std::span<const std::uint8_t> request,
                                                          std::span<const std::uint8_t> reply) {
  if (request.size() != 5) return Error{ErrorKind::InvalidArgument, "not a read request"};
  std::uint8_t function = request[0];
  if (auto e = exception_of(function, reply)) return *e;
  std::uint16_t count = be16(request, 3);
  if (reply.empty() || reply[0] != function) {
    return Error{ErrorKind::BadReply, fmt::format("function 0x{:02X} in reply to 0x{:02X}",
                                                  reply.empty() ? 0 : reply[0], function)};
  }
  std::size_t expected = expected_reply_size(request);
  if (reply.size() != expected || reply[1] != expected - 2) {
    return Error{
        ErrorKind::BadReply,
        fmt::format("{} data bytes for {} {}, expected {}", reply.size() < 2 ? 0 : reply[1], count,
                    function <= fc::k_read_discrete_inputs ? "bits" : "registers", expected - 2)};
  }
  std::vector<std::uint16_t> words;
  words.reserve(count);
  if (function == fc::k_read_coils || function == fc::k_read_discrete_inputs) {
    for (std::uint16_t i = 0; i < count; ++i) {
      words.push_back(static_cast<std::uint16_t>((reply[2 + i / 8] >> (i % 8)) & 1U));
    }
  } else {
    for (std::uint16_t i = 0; i < count; ++i)
      words.push_back(be16(reply, 2 + 2U * i));
  }
  return words;
}

Bytes make_device_id_request(std::uint8_t category, std::uint8_t first_object) {
  return {fc::k_encapsulated_interface, fc::k_mei_read_device_id, category, first_object};
}

core::Result<DeviceIdReply> parse_device_id_reply(std::span<const std::uint8_t> reply) {
  if (auto e = exception_of(fc::k_encapsulated_interface, reply)) return *e;
  // 2B 0E code conformity more next count {id len value...}
  if (reply.size() < 7 || reply[0] != fc::k_encapsulated_interface ||
      reply[1] != fc::k_mei_read_device_id) {
    return Error{ErrorKind::BadReply, "not a device identification reply"};
  }
  DeviceIdReply out;
  out.conformity = reply[3];
  out.more_follows = reply[4] == 0xFF;
  out.next_object = reply[5];
  std::size_t count = reply[6];
  std::size_t at = 7;
  for (std::size_t i = 0; i < count; ++i) {
    if (at + 2 > reply.size() || at + 2 + reply[at + 1] > reply.size()) {
      return Error{ErrorKind::BadReply, "device identification object runs past the reply"};
    }
    std::uint8_t id = reply[at];
    std::size_t len = reply[at + 1];
    out.objects[id] = std::string(reply.begin() + static_cast<std::ptrdiff_t>(at + 2),
                                  reply.begin() + static_cast<std::ptrdiff_t>(at + 2 + len));
    at += 2 + len;
  }
  if (at != reply.size()) return Error{ErrorKind::BadReply, "trailing bytes after objects"};
  return out;
}

}  // namespace tracermon::protocol
