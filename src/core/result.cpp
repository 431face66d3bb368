#include "core/result.hpp"

#include <fmt/format.h>

namespace tracermon::core {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Timeout:
      return "timeout";
    case ErrorKind::Crc:
      return "CRC error";
    case ErrorKind::BadReply:
      return "bad reply";
    case ErrorKind::WrongUnit:
      return "reply from wrong id";
    case ErrorKind::Echo:
      return "request echoed";
    case ErrorKind::Exception:
      return "exception";
    case ErrorKind::NoSuchPort:
      return "no such port";
    case ErrorKind::PortBusy:
      return "port busy";
    case ErrorKind::PermissionDenied:
      return "permission denied";
    case ErrorKind::ConnectFailed:
      return "connect failed";
    case ErrorKind::Io:
      return "I/O error";
    case ErrorKind::InvalidArgument:
      return "invalid argument";
    case ErrorKind::Rejected:
      return "rejected";
    case ErrorKind::Cancelled:
      return "cancelled";
  }
  return "unknown error";
}

std::string Error::describe() const {
  if (message.empty()) return to_string(kind);
  return fmt::format("{}: {}", to_string(kind), message);
}

}  // namespace tracermon::core
