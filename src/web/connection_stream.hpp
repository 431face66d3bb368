#pragma once
// The httplib::Stream that cpp-httplib's request processing reads and writes through: it reads
// only the request the listener already received and checked, its head and (a control POST)
// its body, then end of stream; and writes to the socket with deadlines, so no client can hold a
// worker longer than the limits allow.

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <optional>
#include <string_view>

namespace tracermon::web {

class ConnectionStream final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  // `head` must outlive the stream. `stopping` set: every write fails at once. A write waits at
  // most `write_timeout` for the client to take bytes, and with `response_timeout` nothing is
  // written later than that after the first write.
  ConnectionStream(int fd, std::string_view head, const std::atomic<bool>& stopping,
                   std::chrono::milliseconds write_timeout,
                   std::optional<std::chrono::milliseconds> response_timeout);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return m_fd; }

  // A write failed or timed out: the connection must be closed.
  [[nodiscard]] bool failed() const { return m_failed; }

 private:
  // Waits until the socket takes bytes; false on timeout, error or stop.
  bool wait_writable() const;

  int m_fd;
  std::string_view m_head;
  std::size_t m_read = 0;
  const std::atomic<bool>& m_stopping;
  std::chrono::milliseconds m_write_timeout;
  std::optional<std::chrono::milliseconds> m_response_timeout;
  std::optional<Clock::time_point> m_deadline;  // set by the first write
  bool m_failed = false;
};

}  // namespace tracermon::web
