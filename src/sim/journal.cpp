#include "sim/journal.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/wall_time.hpp"
#include "protocol/pdu.hpp"

namespace tracermon::sim {

ReplyJournal::ReplyJournal(const std::filesystem::path& path)
    : m_file(std::fopen(path.c_str(), "ae")) {
  if (!m_file) {
    throw std::invalid_argument(
        fmt::format("journal {}: cannot write it: {}", path.string(), std::strerror(errno)));
  }
}

void ReplyJournal::record(std::uint8_t unit, std::span<const std::uint8_t> request,
                          std::span<const std::uint8_t> reply) {
  if (request.size() != 5 || request[0] < protocol::fc::k_read_coils ||
      request[0] > protocol::fc::k_read_input_registers) {
    return;
  }
  auto words = protocol::parse_read_reply(request, reply);
  if (!words) return;  // an exception
  auto ms = core::wall_now_ms();
  auto start = protocol::be16(request, 1);
  // Flushed line by line: a test reads it while the simulator runs.
  fmt::print(m_file.get(), "{{\"t\":{},\"unit\":{},\"fc\":{},\"start\":{},\"words\":[{}]}}\n", ms,
             unit, request[0], start, fmt::join(words.value(), ","));
  std::fflush(m_file.get());
}

}  // namespace tracermon::sim
