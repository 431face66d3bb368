#include "sinks/outbox.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

#include <fmt/format.h>

#include "core/atomic_file.hpp"
#include "core/wall_time.hpp"

namespace tracermon::sinks {
namespace {

using core::Error;
using core::ErrorKind;
using core::Ok;
using core::Status;

constexpr std::size_t k_header_bytes = 16;
constexpr std::string_view k_segment_suffix = ".seg";
constexpr std::size_t k_seq_digits = 20;
constexpr const char* k_cursor_name = "cursor";

// CRC-32 (IEEE 802.3, reflected 0xEDB88320), as zlib's crc32().
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto k_crc_table = make_crc_table();

std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) {
  crc = ~crc;
  for (unsigned char byte : bytes)
    crc = k_crc_table[(crc ^ byte) & 0xFFU] ^ (crc >> 8);
  return ~crc;
}

void put_le(char* out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i)
    out[i] = static_cast<char>((value >> (8 * i)) & 0xFFU);
}

std::uint64_t get_le(const char* in, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

// The CRC covers length, time and payload, so a torn header is caught as well as a torn body.
std::uint32_t record_crc(const char* header, std::string_view payload) {
  auto crc = crc32_update(0, std::string_view(header, 4));
  crc = crc32_update(crc, std::string_view(header + 8, 8));
  return crc32_update(crc, payload);
}

Error io_error(const std::string& what, const std::filesystem::path& path) {
  return Error{ErrorKind::Io,
               fmt::format("outbox: {} {}: {}", what, path.string(), std::strerror(errno))};
}

Error closed_error() {
  return Error{ErrorKind::InvalidArgument, "outbox: used after close"};
}

bool parse_u64(std::string_view text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::optional<std::uint64_t> segment_seq(const std::string& name) {
  if (name.size() != k_seq_digits + k_segment_suffix.size() || !name.ends_with(k_segment_suffix)) {
    return std::nullopt;
  }
  std::uint64_t seq = 0;
  if (!parse_u64(std::string_view(name).substr(0, k_seq_digits), seq)) return std::nullopt;
  return seq;
}

struct Cursor {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;
};

// "seq offset\n"; anything else is ignored (everything is then delivered again).
std::optional<Cursor> read_cursor(const std::filesystem::path& path) {
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::array<char, 64> buffer{};
  auto n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n <= 0) return std::nullopt;
  std::string_view text(buffer.data(), static_cast<std::size_t>(n));
  while (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  auto space = text.find(' ');
  Cursor cursor;
  if (space == std::string_view::npos || !parse_u64(text.substr(0, space), cursor.seq) ||
      !parse_u64(text.substr(space + 1), cursor.offset)) {
    return std::nullopt;
  }
  return cursor;
}

Status pread_all(int fd, char* out, std::size_t size, std::uint64_t offset,
                 const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < size) {
    auto n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read", path);
    if (n == 0) return Error{ErrorKind::Io, fmt::format("outbox: {} ends early", path.string())};
    done += static_cast<std::size_t>(n);
  }
  return Ok{};
}

}  // namespace

Outbox::Outbox(std::filesystem::path dir, OutboxOptions options)
    : m_dir(std::move(dir)), m_options(std::move(options)) {}

Outbox::~Outbox() {
  (void)close();
}

core::Result<std::unique_ptr<Outbox>> Outbox::open(std::filesystem::path dir,
                                                   OutboxOptions options) {
  std::unique_ptr<Outbox> outbox(new Outbox(std::move(dir), std::move(options)));
  auto loaded = outbox->load();
  if (!loaded) return loaded.error();
  return outbox;
}

std::filesystem::path Outbox::segment_path(std::uint64_t seq) const {
  return m_dir / fmt::format("{:0{}}{}", seq, k_seq_digits, k_segment_suffix);
}

std::int64_t Outbox::now_ms() const {
  if (m_options.now_ms) return m_options.now_ms();
  return core::wall_now_ms();
}

Status Outbox::load() {
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  if (ec) {
    return Error{ErrorKind::Io,
                 fmt::format("outbox: cannot create {}: {}", m_dir.string(), ec.message())};
  }
  std::vector<std::uint64_t> seqs;
  for (const auto& entry : std::filesystem::directory_iterator(m_dir, ec)) {
    auto name = entry.path().filename().string();
    if (auto seq = segment_seq(name)) {
      seqs.push_back(*seq);
    } else if (name.starts_with(std::string(k_cursor_name) + ".tmp")) {
      ::unlink(entry.path().c_str());  // left by a crash while the cursor was replaced
    }
  }
  if (ec) {
    return Error{ErrorKind::Io,
                 fmt::format("outbox: cannot list {}: {}", m_dir.string(), ec.message())};
  }
  std::sort(seqs.begin(), seqs.end());
  auto cursor = read_cursor(m_dir / k_cursor_name);
  m_cursor_file = std::filesystem::exists(m_dir / k_cursor_name, ec);
  // A new segment must sort after every old one and after the cursor, or a stale cursor could
  // skip records of a segment that reuses its number.
  m_next_seq = std::max(seqs.empty() ? 0 : seqs.back(), cursor ? cursor->seq : 0) + 1;

  for (auto seq : seqs) {
    if (cursor && seq < cursor->seq) {  // acknowledged, deletion interrupted by a crash
      ::unlink(segment_path(seq).c_str());
      continue;
    }
    Segment segment{.seq = seq};
    auto skip_to = (cursor && seq == cursor->seq) ? cursor->offset : 0;
    auto head = scan_segment(segment, skip_to);
    if (!head) return head;
    if (segment.records == 0) {
      ::unlink(segment_path(seq).c_str());
      continue;
    }
    m_count += static_cast<std::size_t>(segment.records);  // a record is at least its header
    m_bytes += segment.record_bytes;
    m_segments.push_back(segment);
  }
  if (m_segments.empty()) {
    m_head_offset = 0;
    if (m_cursor_file) ::unlink((m_dir / k_cursor_name).c_str());
    m_cursor_file = false;
  }
  auto expired = drop_expired(now_ms());
  if (!expired) return expired;
  return make_room(0);
}

// Checks every record of one segment; cuts the file at the first torn or corrupt one, so that
// later appends follow valid data. Records ending at or before `skip_to` were acknowledged.
Status Outbox::scan_segment(Segment& segment, std::uint64_t skip_to) {
  auto path = segment_path(segment.seq);
  core::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return io_error("cannot open", path);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return io_error("cannot stat", path);
  std::string content(static_cast<std::size_t>(info.st_size), '\0');
  auto read = pread_all(fd.get(), content.data(), content.size(), 0, path);
  if (!read) return read;

  std::uint64_t offset = 0;
  std::uint64_t head = 0;
  while (content.size() - offset >= k_header_bytes) {
    const char* header = content.data() + offset;
    auto length = get_le(header, 4);
    if (length > content.size() - offset - k_header_bytes) break;
    std::string_view payload(header + k_header_bytes, static_cast<std::size_t>(length));
    if (record_crc(header, payload) != static_cast<std::uint32_t>(get_le(header + 4, 4))) break;
    auto record_end = offset + k_header_bytes + length;
    if (record_end <= skip_to) {
      head = record_end;
    } else {
      ++segment.records;
      segment.record_bytes += k_header_bytes + length;
    }
    offset = record_end;
  }
  segment.end = offset;
  if (offset < content.size()) {
    m_discarded_bytes += content.size() - offset;
    if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0) {
      return io_error("cannot cut the torn end of", path);
    }
  }
  if (m_segments.empty()) m_head_offset = head;
  return Ok{};
}

core::Result<int> Outbox::read_fd(std::uint64_t seq) {
  if (!m_read_fd || m_read_seq != seq) {
    auto path = segment_path(seq);
    m_read_fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!m_read_fd) return io_error("cannot open", path);
    m_read_seq = seq;
  }
  return m_read_fd.get();
}

core::Result<Outbox::RecordHeader> Outbox::read_header(std::uint64_t seq, std::uint64_t offset) {
  auto fd = read_fd(seq);
  if (!fd) return fd.error();
  std::array<char, k_header_bytes> bytes{};
  auto read = pread_all(fd.value(), bytes.data(), bytes.size(), offset, segment_path(seq));
  if (!read) return read.error();
  return RecordHeader{.length = static_cast<std::uint32_t>(get_le(bytes.data(), 4)),
                      .crc = static_cast<std::uint32_t>(get_le(bytes.data() + 4, 4)),
                      .time_ms = static_cast<std::int64_t>(get_le(bytes.data() + 8, 8))};
}

Status Outbox::append(std::string_view payload) {
  if (m_closed) return closed_error();
  auto now = now_ms();
  auto expired = drop_expired(now);
  if (!expired) return expired;
  return append_one(payload, now);
}

core::Result<std::size_t> Outbox::append_all(std::span<const std::string> payloads) {
  if (m_closed) return closed_error();
  auto now = now_ms();
  auto expired = drop_expired(now);
  if (!expired) return expired.error();
  std::size_t taken = 0;
  for (const auto& payload : payloads) {
    auto appended = append_one(payload, now);
    if (!appended) return appended.error();
    ++taken;
  }
  return taken;
}

Status Outbox::append_one(std::string_view payload, std::int64_t now) {
  auto record_bytes = k_header_bytes + payload.size();
  if (payload.size() > 0xFFFFFFFFU || record_bytes > m_options.max_bytes) {
    ++m_dropped;  // could never fit: dropped as the oldest would be
    return Ok{};
  }
  auto room = make_room(record_bytes);
  if (!room) return room;
  std::string record(record_bytes, '\0');
  put_le(record.data(), payload.size(), 4);
  put_le(record.data() + 8, static_cast<std::uint64_t>(now), 8);
  std::memcpy(record.data() + k_header_bytes, payload.data(), payload.size());
  put_le(record.data() + 4, record_crc(record.data(), payload), 4);
  return write_record(record);
}

// Appends one encoded record to the newest segment, starting a new one when it is full.
Status Outbox::write_record(std::string_view record) {
  if (m_write_fd && m_segments.back().end > 0 &&
      m_segments.back().end + record.size() > m_options.segment_bytes) {
    // A finished segment is synced once: the only sync per megabyte written.
    ::fdatasync(m_write_fd.get());
    m_write_fd.reset();
  }
  if (!m_write_fd) {
    if (!m_segments.empty() && m_segments.back().end < m_options.segment_bytes) {
      auto path = segment_path(m_segments.back().seq);
      m_write_fd.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
      if (!m_write_fd) return io_error("cannot open", path);
    } else {
      auto seq = m_next_seq++;
      auto path = segment_path(seq);
      m_write_fd.reset(
          ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
      if (!m_write_fd) return io_error("cannot create", path);
      m_segments.push_back(Segment{.seq = seq});
    }
  }
  auto& segment = m_segments.back();
  std::size_t done = 0;
  while (done < record.size()) {
    auto n = ::write(m_write_fd.get(), record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = io_error("cannot write", segment_path(segment.seq));
      // A half-written record would hide every later one: cut it off again.
      if (::ftruncate(m_write_fd.get(), static_cast<off_t>(segment.end)) != 0) {
        m_write_fd.reset();
      }
      return error;
    }
    done += static_cast<std::size_t>(n);
  }
  segment.end += record.size();
  ++segment.records;
  segment.record_bytes += record.size();
  ++m_count;
  m_bytes += record.size();
  return Ok{};
}

core::Result<std::vector<std::string>> Outbox::peek(std::size_t max_items,
                                                    std::size_t max_payload_bytes) {
  if (m_closed) return closed_error();
  auto expired = drop_expired(now_ms());
  if (!expired) return expired.error();
  std::vector<std::string> items;
  std::size_t payload_bytes = 0;
  for (std::size_t index = 0; index < m_segments.size() && items.size() < max_items; ++index) {
    const auto segment = m_segments[index];
    auto offset = index == 0 ? m_head_offset : 0;
    for (std::uint64_t i = 0; i < segment.records && items.size() < max_items; ++i) {
      auto header = read_header(segment.seq, offset);
      bool valid = header && offset + k_header_bytes + header.value().length <= segment.end;
      std::string payload;
      if (valid) {
        if (!items.empty() && payload_bytes + header.value().length > max_payload_bytes) {
          return items;
        }
        payload.resize(header.value().length);
        valid = pread_all(m_read_fd.get(), payload.data(), payload.size(), offset + k_header_bytes,
                          segment_path(segment.seq))
                    .ok();
        std::array<char, k_header_bytes> raw{};
        put_le(raw.data(), header.value().length, 4);
        put_le(raw.data() + 8, static_cast<std::uint64_t>(header.value().time_ms), 8);
        valid = valid && record_crc(raw.data(), payload) == header.value().crc;
      }
      if (!valid) {
        // Gone bad on the card since it was written: the rest of the segment cannot be
        // trusted. It is dropped once it reaches the head; until then deliver what precedes.
        if (!items.empty() || index != 0) return items;
        drop_head_segment_rest();
        return peek(max_items, max_payload_bytes);
      }
      payload_bytes += payload.size();
      items.push_back(std::move(payload));
      offset += k_header_bytes + header.value().length;
    }
  }
  return items;
}

Status Outbox::ack(std::size_t count) {
  if (m_closed) return closed_error();
  if (count > m_count) {
    return Error{ErrorKind::InvalidArgument,
                 fmt::format("outbox: ack of {} items, {} queued", count, m_count)};
  }
  for (std::size_t i = 0; i < count; ++i) {
    auto removed = remove_head(false);
    if (!removed) return removed;
  }
  return Ok{};
}

Status Outbox::remove_head(bool dropped) {
  auto& segment = m_segments.front();
  auto header = read_header(segment.seq, m_head_offset);
  if (!header || m_head_offset + k_header_bytes + header.value().length > segment.end) {
    drop_head_segment_rest();
    return Ok{};
  }
  auto record_bytes = k_header_bytes + header.value().length;
  m_head_offset += record_bytes;
  --segment.records;
  segment.record_bytes -= record_bytes;
  --m_count;
  m_bytes -= record_bytes;
  ++m_head_position;
  if (dropped) ++m_dropped;
  m_removed_since_cursor += record_bytes;
  if (segment.records == 0) {
    remove_head_segment();
  } else if (m_removed_since_cursor >= m_options.cursor_interval_bytes) {
    return save_cursor();
  }
  return Ok{};
}

// Deleting a fully acknowledged segment moves the persistent read position by itself: a
// cursor naming a segment that no longer exists means "from the start of the oldest".
void Outbox::remove_head_segment() {
  auto seq = m_segments.front().seq;
  if (m_read_fd && m_read_seq == seq) m_read_fd.reset();
  if (m_segments.size() == 1) m_write_fd.reset();
  ::unlink(segment_path(seq).c_str());
  m_segments.erase(m_segments.begin());
  m_head_offset = 0;
  m_removed_since_cursor = 0;
  if (m_segments.empty() && m_cursor_file) {
    ::unlink((m_dir / k_cursor_name).c_str());
    m_cursor_file = false;
  }
}

void Outbox::drop_head_segment_rest() {
  const auto& segment = m_segments.front();
  m_count -= static_cast<std::size_t>(segment.records);
  m_bytes -= segment.record_bytes;
  m_dropped += segment.records;
  m_head_position += segment.records;
  remove_head_segment();
}

Status Outbox::drop_expired(std::int64_t now) {
  auto cutoff = now - m_options.max_age.count();
  while (m_count > 0) {
    auto header = read_header(m_segments.front().seq, m_head_offset);
    if (header && header.value().time_ms >= cutoff) break;
    auto removed = remove_head(true);
    if (!removed) return removed;
  }
  return Ok{};
}

Status Outbox::make_room(std::uint64_t record_bytes) {
  while (m_count > 0 && m_bytes + record_bytes > m_options.max_bytes) {
    auto removed = remove_head(true);
    if (!removed) return removed;
  }
  return Ok{};
}

Status Outbox::save_cursor() {
  m_removed_since_cursor = 0;
  auto path = m_dir / k_cursor_name;
  if (m_segments.empty()) {
    if (m_cursor_file) ::unlink(path.c_str());
    m_cursor_file = false;
    return Ok{};
  }
  auto saved = core::write_file_atomically(
      path, fmt::format("{} {}\n", m_segments.front().seq, m_head_offset));
  if (saved) m_cursor_file = true;
  return saved;
}

Status Outbox::close() {
  if (m_closed) return Ok{};
  m_closed = true;
  Status status = Ok{};
  if (m_write_fd && ::fdatasync(m_write_fd.get()) != 0) {
    status = io_error("cannot sync", segment_path(m_segments.back().seq));
  }
  m_write_fd.reset();
  m_read_fd.reset();
  if (m_removed_since_cursor > 0) {
    auto saved = save_cursor();
    if (!saved && status) status = saved;
  }
  return status;
}

}  // namespace tracermon::sinks
