#pragma once
// Runs one output (MQTT, InfluxDB, ...) on its own thread behind its own bounded queue, so a
// slow or dead far end never delays polling or another output.
//
// offer() only queues (it never waits for the output). A delivery thread hands batches to the
// output's delivery function. While deliveries succeed and the queue has room nothing touches
// the disk. When a delivery fails, the batch (and everything queued behind it) moves to the
// outbox if the output has one, the error is counted, and the thread retries after 1, 2, 4 ...
// 60 s; items offered meanwhile go to the outbox as they arrive. When the far end is back the
// outbox is drained first, so items arrive in the order offered, each exactly once within a
// process (at-least-once across a crash, see outbox.hpp). A full queue moves to the outbox too;
// without an outbox the oldest item is dropped and counted instead.
//
// A delivery that fails with ErrorKind::Rejected (the far end refused the data itself, such as
// an HTTP 400) is not retried: the batch is dropped, counted in `rejected` and logged.
//
// stop() waits at most `stop_timeout` for the delivery in progress (while the far end accepts
// and the outbox is empty it first delivers what is queued), then writes what is left to the
// outbox. A delivery function that hangs beyond the timeout is left behind on its detached
// thread: it must not reference anything that dies before it returns.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "core/result.hpp"
#include "model/output_status.hpp"
#include "sinks/outbox.hpp"

namespace tracermon::sinks {

// The runner's state and counters are part of the data model (model/output_status.hpp).
using model::OutputCounters;
using model::OutputState;
using model::OutputStatus;
using model::to_string;

struct OutputRunnerOptions {
  std::string name = "output";        // for the log
  std::size_t queue_capacity = 1000;  // items in memory
  std::size_t batch_items = 100;
  std::size_t batch_bytes = 262'144;  // 256 KiB
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds stop_timeout{5000};
  // Waits out one backoff delay instead of the steady clock (tests). Called without the lock
  // held; it must return promptly once stop() was called.
  std::function<void(std::chrono::milliseconds)> backoff_wait;
};

using DeliverFunction = std::function<core::Status(std::span<const std::string> batch)>;

class OutputRunner {
 public:
  // Starts the delivery thread. `outbox` may be null (an output that keeps nothing on disk).
  OutputRunner(DeliverFunction deliver, std::unique_ptr<Outbox> outbox,
               OutputRunnerOptions options = {});
  ~OutputRunner();  // stop()
  OutputRunner(const OutputRunner&) = delete;
  OutputRunner& operator=(const OutputRunner&) = delete;

  // Queues one item; never waits for the output. Items offered after stop() are dropped.
  void offer(std::string item);
  // Ends a backoff wait now (the output knows the far end is back, such as on a reconnect).
  void retry_now();
  // See the class comment. Idempotent.
  void stop();

  [[nodiscard]] OutputCounters counters() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> m_shared;  // shared with the thread, which may outlive us (stop())
  std::thread m_thread;
};

}  // namespace tracermon::sinks
