#pragma once
// Live events for the dashboard (Server-Sent Events): the daemon publishes one after every
// poll cycle; every open stream has its own small queue, so a slow browser never holds up the
// bus workers (its oldest events are dropped instead: the next one carries the whole state).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tracermon::web {

struct Event {
  std::string type;  // "device", "site"
  std::string data;  // JSON, one line
};

class EventHub {
 public:
  class Stream;

  explicit EventHub(std::size_t max_streams = 8, std::size_t queue_per_stream = 64);

  // Never blocks on a stream.
  void publish(const Event& event);
  // A new stream, or null when `max_streams` are open (the caller answers 503).
  std::shared_ptr<Stream> open();
  // Ends every stream now and refuses new ones (shutdown): their waits return at once.
  void close();

  [[nodiscard]] std::size_t open_streams() const;

 private:
  friend class Stream;
  void release(const Stream* stream);

  mutable std::mutex m_mutex;
  std::vector<Stream*> m_streams;
  std::size_t m_max_streams;
  std::size_t m_queue_per_stream;
  bool m_closed = false;
};

class EventHub::Stream {
 public:
  Stream(EventHub& hub, std::size_t capacity) : m_hub(hub), m_capacity(capacity) {}
  ~Stream();  // leaves the hub
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The next event; nullopt after `timeout` without one (send a keep-alive) or when closed.
  std::optional<Event> next(std::chrono::milliseconds timeout);
  [[nodiscard]] bool closed() const;
  [[nodiscard]] std::size_t dropped() const;

 private:
  friend class EventHub;
  void push(const Event& event);  // with the hub's lock held
  void close();

  EventHub& m_hub;
  std::size_t m_capacity;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Event> m_queue;
  std::size_t m_dropped = 0;
  bool m_closed = false;
};

}  // namespace tracermon::web
