#include "web/event_hub.hpp"

#include <algorithm>

namespace tracermon::web {

EventHub::EventHub(std::size_t max_streams, std::size_t queue_per_stream)
    : m_max_streams(max_streams), m_queue_per_stream(std::max<std::size_t>(queue_per_stream, 1)) {}

void EventHub::publish(const Event& event) {
  std::lock_guard lock(m_mutex);
  for (auto* stream : m_streams)
    stream->push(event);
}

std::shared_ptr<EventHub::Stream> EventHub::open() {
  std::lock_guard lock(m_mutex);
  if (m_closed || m_streams.size() >= m_max_streams) return nullptr;
  auto stream = std::make_shared<Stream>(*this, m_queue_per_stream);
  m_streams.push_back(stream.get());
  return stream;
}

void EventHub::close() {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  for (auto* stream : m_streams)
    stream->close();
}

std::size_t EventHub::open_streams() const {
  std::lock_guard lock(m_mutex);
  return m_streams.size();
}

void EventHub::release(const Stream* stream) {
  std::lock_guard lock(m_mutex);
  std::erase(m_streams, stream);
}

EventHub::Stream::~Stream() {
  m_hub.release(this);
}

void EventHub::Stream::push(const Event& event) {
  std::lock_guard lock(m_mutex);
  if (m_closed) return;
  if (m_queue.size() >= m_capacity) {
    m_queue.pop_front();
    ++m_dropped;
  }
  m_queue.push_back(event);
  m_cv.notify_all();
}

void EventHub::Stream::close() {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  m_cv.notify_all();
}

std::optional<Event> EventHub::Stream::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  m_cv.wait_for(lock, timeout, [&] { return m_closed || !m_queue.empty(); });
  if (m_closed || m_queue.empty()) return std::nullopt;
  auto event = std::move(m_queue.front());
  m_queue.pop_front();
  return event;
}

bool EventHub::Stream::closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

std::size_t EventHub::Stream::dropped() const {
  std::lock_guard lock(m_mutex);
  return m_dropped;
}

}  // namespace tracermon::web
