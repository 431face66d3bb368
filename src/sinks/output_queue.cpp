#include "sinks/output_queue.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tracermon::sinks {

// Everything the delivery thread touches, so that a thread stuck in a hanging delivery can be
// left behind by stop() without dangling. One mutex guards all of it; it is never held while
// the delivery function runs.
//
// Order invariant: every item in the outbox is older than every item in memory. A batch is
// taken from the queue only while the outbox is empty; if the queue must be spilled while that
// batch is out, the batch is written first, so it is the outbox's head (and acknowledged there
// if its delivery succeeds after all).
struct OutputRunner::Shared {
  using Clock = std::chrono::steady_clock;

  DeliverFunction deliver;
  std::unique_ptr<Outbox> outbox;
  OutputRunnerOptions options;

  mutable std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> queue;
  std::vector<std::string> in_flight;  // read without the lock only by the delivery
  bool in_flight_in_outbox = false;
  std::uint64_t in_flight_end = 0;  // outbox position just after the in-flight batch
  bool stopping = false;
  bool closed = false;  // stop() saved what was left; the thread may no longer touch anything
  bool thread_done = false;
  bool retry_requested = false;
  Clock::time_point stop_deadline;
  OutputCounters counters;  // dropped: ours only (the outbox counts its own)

  [[nodiscard]] bool outbox_pending() const { return outbox && !outbox->empty(); }

  void record_error(const std::string& message) {
    ++counters.errors;
    counters.last_error = message;
    counters.last_error_time = std::chrono::system_clock::now();
  }

  // Moves the in-flight batch (unless already there) and the queue to the outbox, in order.
  // False when there is no outbox or it failed (then the queue is left as it was).
  bool spill() {
    if (!outbox) return false;
    if (!in_flight.empty() && !in_flight_in_outbox) {
      auto taken = outbox->append_all(in_flight);
      if (!taken) {
        record_error(taken.error().describe());
        return false;
      }
      in_flight_in_outbox = true;
      in_flight_end = outbox->tail_position();
    }
    while (!queue.empty()) {
      auto appended = outbox->append(queue.front());
      if (!appended) {
        record_error(appended.error().describe());
        return false;
      }
      queue.pop_front();
    }
    return true;
  }

  void offer(std::string item) {
    std::lock_guard lock(mutex);
    if (closed) {
      ++counters.dropped;
      return;
    }
    if (queue.size() >= options.queue_capacity) spill();
    if (queue.size() >= options.queue_capacity) {
      queue.pop_front();
      ++counters.dropped;
    }
    queue.push_back(std::move(item));
    cv.notify_all();
  }

  // Fills in_flight: from the outbox while it holds anything (older), else from the queue.
  core::Status take_batch() {
    if (outbox_pending()) {
      auto items = outbox->peek(options.batch_items, options.batch_bytes);
      if (!items) return items.error();
      in_flight = std::move(items.value());
      in_flight_in_outbox = true;
      in_flight_end = outbox->head_position() + in_flight.size();
      return core::Ok{};
    }
    std::size_t bytes = 0;
    while (!queue.empty() && in_flight.size() < options.batch_items &&
           (in_flight.empty() || bytes + queue.front().size() <= options.batch_bytes)) {
      bytes += queue.front().size();
      in_flight.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    in_flight_in_outbox = false;
    return core::Ok{};
  }

  void delivered() {
    counters.sent += in_flight.size();
    if (in_flight_in_outbox) {
      // Items the bounds dropped meanwhile are gone already: acknowledge only the rest.
      auto head = outbox->head_position();
      if (in_flight_end > head) {
        auto acked = outbox->ack(static_cast<std::size_t>(in_flight_end - head));
        if (!acked) record_error(acked.error().describe());
      }
    }
    in_flight.clear();
    in_flight_in_outbox = false;
    if (counters.state == OutputState::Retrying) {
      spdlog::info("{}: delivering again", options.name);
    }
    counters.state = OutputState::Connected;
    counters.retry_delay = std::chrono::milliseconds(0);
  }

  // The far end refused this batch: sending it again cannot help, so it is dropped.
  void rejected(const std::string& message) {
    record_error(message);
    counters.rejected += in_flight.size();
    spdlog::error("{}: {}; dropped {} item(s)", options.name, message, in_flight.size());
    auto sent = counters.sent;
    delivered();  // acknowledges the batch in the outbox and leaves the retry state
    counters.sent = sent;
  }

  void failed(const std::string& message) {
    record_error(message);
    if (counters.state != OutputState::Retrying) {
      spdlog::warn("{}: {}; keeping the items and retrying", options.name, message);
    }
    counters.state = OutputState::Retrying;
    if (!in_flight_in_outbox && !spill()) {
      // No outbox (or it failed): the batch goes back in front, the oldest beyond the bound go.
      for (auto it = in_flight.rbegin(); it != in_flight.rend(); ++it) {
        queue.push_front(std::move(*it));
      }
      while (queue.size() > options.queue_capacity) {
        queue.pop_front();
        ++counters.dropped;
      }
    }
    in_flight.clear();
    in_flight_in_outbox = false;
  }

  // While the far end is away, new items go to disk as they come, so a crash loses nothing.
  void wait_backoff(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds delay) {
    if (options.backoff_wait) {
      lock.unlock();
      options.backoff_wait(delay);
      lock.lock();
      return;
    }
    auto deadline = Clock::now() + delay;
    bool spill_failed = false;
    while (!stopping && !retry_requested) {
      bool woke = cv.wait_until(lock, deadline, [&] {
        return stopping || retry_requested || (outbox && !spill_failed && !queue.empty());
      });
      if (!woke || stopping || retry_requested) break;
      spill_failed = !spill();
    }
    retry_requested = false;
  }

  // On stop, what is queued is still delivered while the far end accepts and nothing older
  // waits on disk: a restart then writes nothing to the card.
  [[nodiscard]] bool drain_before_stop() const {
    return counters.state == OutputState::Connected && !outbox_pending() && !queue.empty() &&
           Clock::now() < stop_deadline;
  }

  // No exception may end the thread: one thrown by the output counts as a failed delivery.
  core::Status deliver_guarded() {
    try {
      return deliver(std::span<const std::string>(in_flight));
    } catch (const std::exception& error) {
      return core::Error{core::ErrorKind::Io, fmt::format("delivery threw: {}", error.what())};
    } catch (...) {
      return core::Error{core::ErrorKind::Io, "delivery threw"};
    }
  }

  void run() {
    std::unique_lock lock(mutex);
    std::chrono::milliseconds delay{0};
    while (true) {
      cv.wait(lock, [&] { return stopping || !queue.empty() || outbox_pending(); });
      if (stopping && !drain_before_stop()) break;
      if (auto taken = take_batch(); !taken) {
        failed(taken.error().describe());
      } else {
        if (in_flight.empty()) continue;  // the outbox's batch had all expired
        lock.unlock();
        auto status = deliver_guarded();
        lock.lock();
        if (closed) break;
        if (status) {
          delivered();
          delay = std::chrono::milliseconds(0);
          continue;
        }
        if (status.error().kind == core::ErrorKind::Rejected) {
          rejected(status.error().message);
          continue;
        }
        failed(status.error().describe());
      }
      if (stopping) break;
      delay =
          delay.count() == 0 ? options.backoff_initial : std::min(delay * 2, options.backoff_max);
      counters.retry_delay = delay;
      wait_backoff(lock, delay);
      if (closed) break;
    }
    thread_done = true;
    cv.notify_all();
  }

  // Returns whether the thread finished (else it is stuck in the delivery function).
  bool stop() {
    std::unique_lock lock(mutex);
    if (closed) return true;
    stopping = true;
    stop_deadline = Clock::now() + options.stop_timeout;
    cv.notify_all();
    bool finished = cv.wait_until(lock, stop_deadline, [&] { return thread_done; });
    auto lost = queue.size();
    if (outbox) {
      if (spill()) lost = 0;
      auto closed_outbox = outbox->close();
      if (!closed_outbox) record_error(closed_outbox.error().describe());
    }
    counters.dropped += lost;
    queue.clear();
    closed = true;
    counters.state = OutputState::Stopped;
    counters.retry_delay = std::chrono::milliseconds(0);
    return finished;
  }
};

OutputRunner::OutputRunner(DeliverFunction deliver, std::unique_ptr<Outbox> outbox,
                           OutputRunnerOptions options)
    : m_shared(std::make_shared<Shared>()) {
  m_shared->deliver = std::move(deliver);
  m_shared->outbox = std::move(outbox);
  m_shared->options = std::move(options);
  m_shared->options.queue_capacity = std::max<std::size_t>(m_shared->options.queue_capacity, 1);
  m_shared->options.batch_items = std::max<std::size_t>(m_shared->options.batch_items, 1);
  m_thread = std::thread([shared = m_shared] { shared->run(); });
}

OutputRunner::~OutputRunner() {
  stop();
}

void OutputRunner::offer(std::string item) {
  m_shared->offer(std::move(item));
}

void OutputRunner::retry_now() {
  std::lock_guard lock(m_shared->mutex);
  m_shared->retry_requested = true;
  m_shared->cv.notify_all();
}

void OutputRunner::stop() {
  bool finished = m_shared->stop();
  if (!m_thread.joinable()) return;
  if (finished) {
    m_thread.join();
  } else {
    spdlog::warn("{}: delivery still running after {} ms; left behind", m_shared->options.name,
                 m_shared->options.stop_timeout.count());
    m_thread.detach();
  }
}

OutputCounters OutputRunner::counters() const {
  std::lock_guard lock(m_shared->mutex);
  auto counters = m_shared->counters;
  const auto& shared = *m_shared;
  counters.queued =
      shared.queue.size() + (shared.in_flight_in_outbox ? 0 : shared.in_flight.size());
  if (shared.outbox) {
    counters.in_outbox = shared.outbox->size();
    counters.dropped += shared.outbox->dropped();
  }
  return counters;
}

}  // namespace tracermon::sinks
