#include "store/snapshot_store.hpp"

#include <deque>
#include <mutex>

#include "store/history_reader.hpp"
#include "store/history_writer.hpp"

namespace tracermon::store {

struct SnapshotStore::Impl {
  explicit Impl(const StoreOptions& options)
      : max_buffered(std::max<std::size_t>(options.max_buffered_records, 1)),
        writer(options),
        reader(options.path) {}

  // Drops the oldest records beyond the bound; the caller holds buffer_mutex.
  void trim() {
    while (buffer.size() > max_buffered) {
      buffer.pop_front();
      ++dropped;
    }
  }

  core::Status commit(bool flush_open);

  const std::size_t max_buffered;

  mutable std::mutex buffer_mutex;  // buffer, dropped
  std::deque<Record> buffer;
  std::uint64_t dropped = 0;
  bool written_to = false;  // add() was called: a reader (`tracermon export`) never commits

  std::mutex write_mutex;  // writer; taken before buffer_mutex when both are needed
  HistoryWriter writer;

  mutable std::mutex read_mutex;
  HistoryReader reader;

  mutable std::mutex error_mutex;
  std::string last_error;
};

core::Status SnapshotStore::Impl::commit(bool flush_open) {
  std::lock_guard write_lock(write_mutex);
  std::deque<Record> batch;
  {
    std::lock_guard lock(buffer_mutex);
    batch.swap(buffer);
  }
  std::vector<Record> records(std::make_move_iterator(batch.begin()),
                              std::make_move_iterator(batch.end()));
  auto written = writer.write(records, flush_open);
  if (!written) {
    // Keep the batch for the next commit, ahead of what arrived meanwhile.
    {
      std::lock_guard lock(buffer_mutex);
      for (auto it = records.rbegin(); it != records.rend(); ++it) {
        buffer.push_front(std::move(*it));
      }
      trim();
    }
    std::lock_guard lock(error_mutex);
    last_error = written.error().describe();
    return written.error();
  }
  {
    std::lock_guard lock(buffer_mutex);
    dropped += written.value();
  }
  std::lock_guard lock(error_mutex);
  last_error.clear();
  return core::Ok{};
}

SnapshotStore::SnapshotStore(const StoreOptions& options)
    : m_impl(std::make_unique<Impl>(options)) {}

SnapshotStore::~SnapshotStore() {
  try {
    {
      // A process that only reads must not write the open buckets (nor clear their marks)
      // of a daemon that has the same file open.
      std::lock_guard lock(m_impl->buffer_mutex);
      if (!m_impl->written_to) return;
    }
    (void)m_impl->commit(true);
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
  return m_impl->commit(false);
}

core::Status SnapshotStore::maintain(std::int64_t now_ms) {
  std::lock_guard write_lock(m_impl->write_mutex);
  auto status = m_impl->writer.prune(now_ms);
  if (!status) {
    std::lock_guard lock(m_impl->error_mutex);
    m_impl->last_error = status.error().describe();
  }
  return status;
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
  return m_impl->reader.sources();
}

std::vector<std::string> SnapshotStore::fields(std::string_view source) const {
  std::lock_guard lock(m_impl->read_mutex);
  return m_impl->reader.fields(source);
}

core::Result<History> SnapshotStore::history(const HistoryQuery& query) const {
  std::lock_guard lock(m_impl->read_mutex);
  return m_impl->reader.history(query);
}

core::Status SnapshotStore::export_range(std::string_view source, std::int64_t from_ms,
                                         std::int64_t to_ms, ExportFormat format,
                                         std::ostream& out) const {
  std::lock_guard lock(m_impl->read_mutex);
  return m_impl->reader.export_range(source, from_ms, to_ms, format, out);
}

core::Status SnapshotStore::put_energy(const std::vector<EnergyRow>& rows) {
  std::lock_guard lock(m_impl->write_mutex);
  return m_impl->writer.put_energy(rows);
}

std::vector<EnergyRow> SnapshotStore::energy(std::string_view source, std::string_view kind,
                                             std::string_view from_period,
                                             std::string_view to_period) const {
  std::lock_guard lock(m_impl->read_mutex);
  return m_impl->reader.energy(source, kind, from_period, to_period);
}

core::Status SnapshotStore::put_state(std::string_view key, std::string_view value) {
  std::lock_guard lock(m_impl->write_mutex);
  return m_impl->writer.put_state(key, value);
}

std::optional<std::string> SnapshotStore::get_state(std::string_view key) const {
  std::lock_guard lock(m_impl->read_mutex);
  return m_impl->reader.get_state(key);
}

}  // namespace tracermon::store
