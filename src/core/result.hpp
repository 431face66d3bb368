#pragma once
// Result<T>: the value or the error of an operation that can fail at run time (a read, a
// connect). GCC 12 has no std::expected; this is the small subset we need.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace tracermon::core {

// What went wrong, coarse enough to count and to choose a reaction (retry, split, give up).
enum class ErrorKind : std::uint8_t {
  Timeout,           // no (complete) reply within the timeout
  Crc,               // a frame for us arrived with a bad checksum
  BadReply,          // a reply that does not fit the request (length, function, count)
  WrongUnit,         // a valid frame from another slave id (a second master, a stale reply)
  Echo,              // only our own request came back: adapter echo, no device reply
  Exception,         // the device answered with a Modbus exception (see Error::exception_code)
  NoSuchPort,        // the serial device or host does not exist
  PortBusy,          // another program holds the port
  PermissionDenied,  // no access to the tty
  ConnectFailed,     // TCP connect refused or timed out
  Io,                // any other operating system error
  InvalidArgument,   // the caller asked for something impossible
  Rejected,          // a far end refused the data itself (HTTP 4xx): sending it again cannot help
  Cancelled,         // given up before it ran: whoever was to run it stopped
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind;
  std::string message;
  std::uint8_t exception_code = 0;  // valid when kind == Exception

  [[nodiscard]] std::string describe() const;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_state(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : m_state(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(m_state); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(m_state); }
  const T& value() const& { return std::get<T>(m_state); }
  T&& value() && { return std::get<T>(std::move(m_state)); }
  const Error& error() const { return std::get<Error>(m_state); }

 private:
  std::variant<T, Error> m_state;
};

// For operations that return nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace tracermon::core
