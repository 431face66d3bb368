#pragma once
// Modbus PDUs (function code + data, no address or checksum): building requests for the
// function codes a Tracer speaks and checking replies against the request.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "protocol/register_map.hpp"

namespace tracermon::protocol {

using Bytes = std::vector<std::uint8_t>;

namespace fc {
constexpr std::uint8_t k_read_coils = 0x01;
constexpr std::uint8_t k_read_discrete_inputs = 0x02;
constexpr std::uint8_t k_read_holding_registers = 0x03;
constexpr std::uint8_t k_read_input_registers = 0x04;
constexpr std::uint8_t k_write_single_coil = 0x05;
constexpr std::uint8_t k_write_single_register = 0x06;
constexpr std::uint8_t k_write_multiple_coils = 0x0F;
constexpr std::uint8_t k_write_multiple_registers = 0x10;
constexpr std::uint8_t k_encapsulated_interface = 0x2B;  // MEI
constexpr std::uint8_t k_mei_read_device_id = 0x0E;
constexpr std::uint8_t k_exception_flag = 0x80;
}  // namespace fc

// The big-endian 16-bit word at bytes[at], bytes[at + 1] (the caller checks the size).
inline std::uint16_t be16(std::span<const std::uint8_t> bytes, std::size_t at) {
  return static_cast<std::uint16_t>((bytes[at] << 8) | bytes[at + 1]);
}

// The read function code for a table: 0x01 coils, 0x02 discrete, 0x03 holding, 0x04 input.
std::uint8_t read_function(Table table);

// "illegal data address" and so on, for exception codes 1-11.
const char* exception_meaning(std::uint8_t code);

Bytes make_read_request(Table table, std::uint16_t start, std::uint16_t count);

// FC 0x10: `words` (1-123) from `start`.
Bytes make_write_registers_request(std::uint16_t start, std::span<const std::uint16_t> words);
// FC 0x05: one coil on (0xFF00) or off (0x0000).
Bytes make_write_coil_request(std::uint16_t address, bool on);
// Checks the reply to a write: FC 0x05 echoes the request, FC 0x10 echoes start and count.
// An exception reply gives ErrorKind::Exception with its code.
core::Status check_write_reply(std::span<const std::uint8_t> request,
                               std::span<const std::uint8_t> reply);

// The PDU size of a correct reply to `request` (0 when it depends on the reply: 0x2B).
std::size_t expected_reply_size(std::span<const std::uint8_t> request);

// Checks `reply` against `request` (function, byte count, echoed address) and returns the
// register words, or one word 0/1 per bit for coils and discrete inputs. An exception reply
// gives ErrorKind::Exception with its code.
core::Result<std::vector<std::uint16_t>> parse_read_reply(std::span<const std::uint8_t> request,
                                                          std::span<const std::uint8_t> reply);

// Read Device Identification (0x2B/0x0E): category 1 basic (vendor, product code, revision),
// 2 regular (adds URL, product name, model name; an EPEVER puts its serial number at object 3).
Bytes make_device_id_request(std::uint8_t category, std::uint8_t first_object);

struct DeviceIdReply {
  std::uint8_t conformity = 0;
  bool more_follows = false;
  std::uint8_t next_object = 0;
  std::map<std::uint8_t, std::string> objects;
};
core::Result<DeviceIdReply> parse_device_id_reply(std::span<const std::uint8_t> reply);

// A reply PDU that is an exception gives its error; nullopt otherwise.
std::optional<core::Error> exception_of(std::uint8_t request_function,
                                        std::span<const std::uint8_t> reply);

}  // namespace tracermon::protocol
