#pragma once
// The part of serial and TCP streams that is the same: poll()-driven reads and writes on a
// non-blocking file descriptor with a deadline.

#include "transport/byte_stream.hpp"

namespace tracermon::transport {

class FdStream : public ByteStream {
 public:
  [[nodiscard]] bool is_open() const override { return m_fd >= 0; }
  core::Status write_all(std::span<const std::uint8_t> bytes, Deadline deadline) override;
  core::Status read_some(Bytes& out, Deadline deadline) override;
  void discard_input() override;

 protected:
  // Waits until the fd is readable (POLLIN) or writable (POLLOUT); Timeout at the deadline.
  core::Status wait(short events, Deadline deadline) const;
  int m_fd = -1;
};

std::unique_ptr<ByteStream> make_serial_stream(const std::string& path,
                                               const SerialSettings& settings);
std::unique_ptr<ByteStream> make_tcp_stream(const PortSpec& port);

// The error for errno after a failed system call on the stream, with the call's name.
core::Error os_error(int error_number, std::string_view what);

}  // namespace tracermon::transport
