#pragma once
// Frames from the vendor documents and the bus capture of a Tracer2215BN (NOTES.md), as bytes.

#include <sstream>
#include <string>

#include "protocol/pdu.hpp"

namespace tracermon::test {

// "01 04 02 04 CE 3A 64" -> bytes
inline protocol::Bytes hex(const std::string& text) {
  protocol::Bytes out;
  std::istringstream in(text);
  std::string byte;
  while (in >> byte)
    out.push_back(static_cast<std::uint8_t>(std::stoul(byte, nullptr, 16)));
  return out;
}

// Register words of a read reply frame: unit, function, byte count, data, CRC.
inline std::vector<std::uint16_t> reply_words(const protocol::Bytes& frame) {
  std::vector<std::uint16_t> words;
  for (std::size_t i = 3; i + 1 < frame.size() - 2; i += 2) {
    words.push_back(static_cast<std::uint16_t>((frame[i] << 8) | frame[i + 1]));
  }
  return words;
}

}  // namespace tracermon::test
