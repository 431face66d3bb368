#include "store/snapshot_store.hpp"

#include <atomic>
#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "store/history_reader.hpp"
#include "store/history_writer.hpp"
#include "store/store_error.hpp"

namespace tracermon::store {

struct SnapshotStore::Impl {
  explicit Impl(const StoreOptions& store_options)
      : options(store_options),
        max_buffered(std::max<std::size_t>(store_options.max_buffered_records, 1)) {}

  // Drops the oldest records beyond the bound; the caller holds buffer_mutex.
  void trim() {
    while (buffer.size() > max_buffered) {
      buffer.pop_front();
      ++dropped;
    }
  }

  // Opens the writer, then the reader; throws what they throw. The caller holds write_mutex.
  void open_or_throw();
  // An open that failed: remember why and when to try again. The caller holds write_mutex.
  void open_failed(const std::string& why);
  // Opens a closed store when its back-off has passed (or `force`); false when still closed.
  // The caller holds write_mutex.
  bool ensure_open(bool force);
  core::Error not_open() const;
  void set_error(std::string error) {
    std::lock_guard lock(error_mutex);
    last_error = std::move(error);
  }

  core::Status commit(bool flush_open, bool force_open);

  const StoreOptions options;
  const std::size_t max_buffered;

  mutable std::mutex buffer_mutex;  // buffer, dropped
  std::deque<Record> buffer;
  std::uint64_t dropped = 0;
  bool written_to = false;  // add() was called: a reader (`tracermon export`) never commits

  std::mutex write_mutex;  // writer and the reopen schedule; before buffer_mutex when both
  std::unique_ptr<HistoryWriter> writer;  // null while the store is closed
  std::chrono::steady_clock::time_point next_open;
  std::chrono::milliseconds open_delay{0};

  mutable std::mutex read_mutex;
  std::unique_ptr<HistoryReader> reader;  // null while the store is closed

  std::atomic<bool> open{false};

  mutable std::mutex error_mutex;
  std::string last_error;
};

void SnapshotStore::Impl::open_or_throw() {
  auto opened_writer = std::make_unique<HistoryWriter>(options);
  auto opened_reader = std::make_unique<HistoryReader>(options.path);
  writer = std::move(opened_writer);
  {
    std::lock_guard lock(read_mutex);
    reader = std::move(opened_reader);
  }
  open = true;
}

void SnapshotStore::Impl::open_failed(const std::string& why) {
  open_delay =
      open_delay.count() == 0 ? options.reopen_first : std::min(open_delay * 2, options.reopen_max);
  next_open = std::chrono::steady_clock::now() + open_delay;
  set_error(why);
}

bool SnapshotStore::Impl::ensure_open(bool force) {
  if (writer) return true;
  if (!force && std::chrono::steady_clock::now() < next_open) return false;
  try {
    open_or_throw();
    return true;
  } catch (const std::exception& e) {  // StoreError, or bad_alloc: the store stays closed
    open_failed(e.what());
    return false;
  }
}

core::Error SnapshotStore::Impl::not_open() const {
  std::lock_guard lock(error_mutex);
  return core::Error{core::ErrorKind::Io, fmt::format("history database {} is not open: {}",
                                                      options.path.string(), last_error)};
}

core::Status SnapshotStore::Impl::commit(bool flush_open, bool force_open) {
  std::lock_guard write_lock(write_mutex);
  if (!ensure_open(force_open)) {
    std::lock_guard lock(error_mutex);
    return core::Error{core::ErrorKind::Io, last_error};
  }
  std::deque<Record> batch;
  {
    std::lock_guard lock(buffer_mutex);
    batch.swap(buffer);
  }
  std::vector<Record> records(std::make_move_iterator(batch.begin()),
                              std::make_move_iterator(batch.end()));
  auto written = writer->write(records, flush_open);
  if (!written) {
    // Keep the batch for the next commit, ahead of what arrived meanwhile.
    {
      std::lock_guard lock(buffer_mutex);
      for (auto it = records.rbegin(); it != records.rend(); ++it) {
        buffer.push_front(std::move(*it));
      }
      trim();
    }
    set_error(written.error().describe());
    return written.error();
  }
  {
    std::lock_guard lock(buffer_mutex);
    dropped += written.value();
  }
  set_error({});
  return core::Ok{};
}

SnapshotStore::SnapshotStore(const StoreOptions& options, Open when)
    : m_impl(std::make_unique<Impl>(options)) {
  std::lock_guard lock(m_impl->write_mutex);
  if (when == Open::Now) {
    m_impl->open_or_throw();
    return;
  }
  try {
    m_impl->open_or_throw();
  } catch (const StoreError& e) {
    if (!e.transient()) throw;
    m_impl->open_failed(e.what());
  }
}

SnapshotStore::~SnapshotStore() {
  try {
    {
      // A process that only reads must not write the open buckets (nor clear their marks)
      // of a daemon that has the same file open.
      std::lock_guard lock(m_impl->buffer_mutex);
      if (!m_impl->written_to) return;
    }
    (void)m_impl->commit(true, true);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw (bad_alloc)
  }
}

void SnapshotStore::add(Record record) {
  std::lock_guard lock(m_impl->buffer_mutex);
  m_impl->buffer.push_back(std::move(record));
  m_impl->written_to = true;
  m_impl->trim();
}

core::Status SnapshotStore::commit() {
  return m_impl->commit(false, false);
}

core::Status SnapshotStore::maintain(std::int64_t now_ms) {
  std::lock_guard write_lock(m_impl->write_mutex);
  if (!m_impl->writer) return core::Ok{};
  auto status = m_impl->writer->prune(now_ms);
  if (!status) m_impl->set_error(status.error().describe());
  return status;
}

bool SnapshotStore::is_open() const {
  return m_impl->open;
}

std::size_t SnapshotStore::buffered() const {
  std::lock_guard lock(m_impl->buffer_mutex);
  return m_impl->buffer.size();
}

std::uint64_t SnapshotStore::dropped() const {
  std::lock_guard lock(m_impl->buffer_mutex);
  return m_impl->dropped;
}

std::string SnapshotStore::last_error() const {
  std::lock_guard lock(m_impl->error_mutex);
  return m_impl->last_error;
}

std::vector<std::string> SnapshotStore::sources() const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return {};
  return m_impl->reader->sources();
}

std::vector<std::string> SnapshotStore::fields(std::string_view source) const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return {};
  return m_impl->reader->fields(source);
}

core::Result<History> SnapshotStore::history(const HistoryQuery& query) const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return m_impl->not_open();
  return m_impl->reader->history(query);
}

core::Status SnapshotStore::export_range(std::string_view source, std::int64_t from_ms,
                                         std::int64_t to_ms, ExportFormat format,
                                         std::ostream& out) const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return m_impl->not_open();
  return m_impl->reader->export_range(source, from_ms, to_ms, format, out);
}

core::Status SnapshotStore::put_energy(const std::vector<EnergyRow>& rows) {
  std::lock_guard lock(m_impl->write_mutex);
  if (!m_impl->writer) return m_impl->not_open();
  return m_impl->writer->put_energy(rows);
}

std::vector<EnergyRow> SnapshotStore::energy(std::string_view source, std::string_view kind,
                                             std::string_view from_period,
                                             std::string_view to_period) const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return {};
  return m_impl->reader->energy(source, kind, from_period, to_period);
}

core::Status SnapshotStore::put_state(std::string_view key, std::string_view value) {
  std::lock_guard lock(m_impl->write_mutex);
  if (!m_impl->writer) return m_impl->not_open();
  return m_impl->writer->put_state(key, value);
}

std::optional<std::string> SnapshotStore::get_state(std::string_view key) const {
  std::lock_guard lock(m_impl->read_mutex);
  if (!m_impl->reader) return std::nullopt;
  return m_impl->reader->get_state(key);
}

}  // namespace tracermon::store
