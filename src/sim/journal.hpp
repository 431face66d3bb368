#pragma once
// The simulator's record of every register value it put on the wire: one JSON line per read
// reply ({"t": wall-clock ms, "unit", "fc", "start", "words": [...]}, one word 0/1 per bit).
// Tests hold what a master stored against it: a value that was never served at that register
// is a value taken from the wrong reply.

#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>

namespace tracermon::sim {

class ReplyJournal {
 public:
  // Throws std::invalid_argument naming the path when it cannot be written.
  explicit ReplyJournal(const std::filesystem::path& path);
  // `request` and `reply` are PDUs; anything but a normal read reply is left out.
  void record(std::uint8_t unit, std::span<const std::uint8_t> request,
              std::span<const std::uint8_t> reply);

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> m_file;
};

}  // namespace tracermon::sim
