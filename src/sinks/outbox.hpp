#pragma once
// A persistent FIFO of opaque payloads in one directory: what a network output could not
// deliver waits here across outages and restarts, oldest first.
//
// On disk: append-only segment files `<seq>.seg` (rolled at `segment_bytes`), each a run of
// records [u32 length][u32 crc32][i64 time_ms][payload] (little endian; the CRC covers length,
// time and payload). Nothing is written until the first append, so an output whose far end
// accepts everything never touches the card. A segment is deleted once every record in it is
// acknowledged; the read position inside the oldest segment is kept in a small `cursor` file
// written only every `cursor_interval_bytes` acknowledged and on close().
//
// Crash safety: after kill -9 (or a power cut losing the last page-cache writes) a torn or
// corrupt last record is detected by length + CRC, cut off and never delivered; the records
// before it stay. Delivery is at-least-once across a crash: items acknowledged after the last
// cursor write (at most `cursor_interval_bytes` of them) are delivered again. Within one
// process every item is handed out until acknowledged and never after.
//
// Bounds: bytes() (records with their headers) stays at most `max_bytes` and no record is kept
// longer than `max_age` (by the wall time of its append); the oldest go first and are counted
// in dropped(). The directory holds at most one partly acknowledged segment more than bytes().
//
// Not thread-safe: one owner (OutputRunner guards it with its lock).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace tracermon::sinks {

struct OutboxOptions {
  std::uint64_t max_bytes = 64ULL << 20;
  std::chrono::milliseconds max_age = std::chrono::hours(24 * 7);
  std::uint64_t segment_bytes = 1ULL << 20;
  std::uint64_t cursor_interval_bytes = 64ULL << 10;
  // Wall clock in ms since the epoch (records outlive the process, so not the steady clock).
  std::function<std::int64_t()> now_ms;
};

class Outbox {
 public:
  // Opens (creating the directory if needed) and checks every record; continues where the
  // last process stopped. Fails only when the directory cannot be used.
  static core::Result<std::unique_ptr<Outbox>> open(std::filesystem::path dir,
                                                    OutboxOptions options = {});
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  core::Status append(std::string_view payload);
  // Appends in order; returns how many were taken (all, unless a write failed).
  core::Result<std::size_t> append_all(std::span<const std::string> payloads);

  // The oldest items, up to `max_items` and `max_payload_bytes` (at least one when not empty),
  // without removing them. Drops expired items first.
  core::Result<std::vector<std::string>> peek(std::size_t max_items, std::size_t max_payload_bytes);
  // Removes the `count` oldest items (delivered). Fails if fewer are queued.
  core::Status ack(std::size_t count);

  // Syncs the segment being written and saves the read position. Called by the destructor;
  // later calls do nothing.
  core::Status close();

  [[nodiscard]] std::size_t size() const { return m_count; }
  [[nodiscard]] bool empty() const { return m_count == 0; }
  [[nodiscard]] std::uint64_t bytes() const { return m_bytes; }
  [[nodiscard]] std::uint64_t dropped() const { return m_dropped; }
  // Bytes found corrupt or torn on open and cut off.
  [[nodiscard]] std::uint64_t discarded_bytes() const { return m_discarded_bytes; }
  // Logical positions: items removed (acknowledged or dropped) since open, and that plus
  // size(). An item keeps its position while queued, so a caller can tell what a peeked batch
  // lost to the bounds before it acknowledges it.
  [[nodiscard]] std::uint64_t head_position() const { return m_head_position; }
  [[nodiscard]] std::uint64_t tail_position() const { return m_head_position + m_count; }
  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

 private:
  struct Segment {
    std::uint64_t seq = 0;
    std::uint64_t end = 0;           // bytes of valid records in the file
    std::uint64_t records = 0;       // not yet removed
    std::uint64_t record_bytes = 0;  // of those, with headers
  };
  struct RecordHeader {
    std::uint32_t length = 0;
    std::uint32_t crc = 0;
    std::int64_t time_ms = 0;
  };

  Outbox(std::filesystem::path dir, OutboxOptions options);
  core::Status load();
  core::Status scan_segment(Segment& segment, std::uint64_t skip_to);

  std::filesystem::path segment_path(std::uint64_t seq) const;
  core::Result<int> read_fd(std::uint64_t seq);
  core::Result<RecordHeader> read_header(std::uint64_t seq, std::uint64_t offset);
  core::Status append_one(std::string_view payload, std::int64_t now);
  core::Status write_record(std::string_view record);

  // Removes the head item; `dropped` says whether it is counted as dropped.
  core::Status remove_head(bool dropped);
  void remove_head_segment();
  void drop_head_segment_rest();
  core::Status drop_expired(std::int64_t now);
  core::Status make_room(std::uint64_t record_bytes);
  core::Status save_cursor();
  std::int64_t now_ms() const;

  std::filesystem::path m_dir;
  OutboxOptions m_options;
  std::vector<Segment> m_segments;  // oldest first; the last one is appended to
  std::uint64_t m_head_offset = 0;  // read position in m_segments.front()
  std::uint64_t m_next_seq = 1;
  core::UniqueFd m_write_fd;  // for m_segments.back() when valid
  core::UniqueFd m_read_fd;
  std::uint64_t m_read_seq = 0;
  std::size_t m_count = 0;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_dropped = 0;
  std::uint64_t m_discarded_bytes = 0;
  std::uint64_t m_head_position = 0;
  std::uint64_t m_removed_since_cursor = 0;  // bytes
  bool m_cursor_file = false;                // a cursor file exists
  bool m_closed = false;
};

}  // namespace tracermon::sinks
