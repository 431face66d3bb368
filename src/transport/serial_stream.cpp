// Serial RTU port. libmodbus opens and configures the line (termios for baud, parity and stop
// bits, the TIOCSRS485 ioctl for RS-485 mode) and restores it on close; the bytes themselves
// go through our framer, because libmodbus 3.1.6 takes an echoed request for the reply and
// cannot frame 0x2B/0x0E replies (docs/architecture.md).

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <modbus.h>

#include "transport/fd_stream.hpp"

namespace tracermon::transport {

namespace {

using core::Error;
using core::ErrorKind;

struct ModbusContextDeleter {
  void operator()(modbus_t* ctx) const {
    modbus_close(ctx);
    modbus_free(ctx);
  }
};

class SerialStream final : public FdStream {
 public:
  SerialStream(std::string path, SerialSettings settings)
      : m_path(std::move(path)), m_settings(settings) {}
  ~SerialStream() override { SerialStream::close(); }

  core::Status open(Deadline /*deadline*/) override {
    if (is_open()) return core::Ok{};
    char parity = m_settings.parity == Parity::Even  ? 'E'
                  : m_settings.parity == Parity::Odd ? 'O'
                                                     : 'N';
    std::unique_ptr<modbus_t, ModbusContextDeleter> ctx(
        modbus_new_rtu(m_path.c_str(), m_settings.baud, parity, 8, m_settings.stop_bits));
    if (!ctx)
      return Error{ErrorKind::InvalidArgument, fmt::format("{}: bad serial settings", m_path)};
    if (modbus_connect(ctx.get()) != 0) return open_error(errno);
    int fd = modbus_get_socket(ctx.get());
    // One master per bus: refuse a port another tracermon (or any program using TIOCEXCL or
    // flock) holds, and keep others out while we hold it.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      return Error{ErrorKind::PortBusy,
                   fmt::format("{} is in use by another program (is the tracermon daemon "
                               "running? see `fuser {}`)",
                               m_path, m_path)};
    }
    ::ioctl(fd, TIOCEXCL);
    if (m_settings.rs485 && modbus_rtu_set_serial_mode(ctx.get(), MODBUS_RTU_RS485) != 0) {
      return Error{ErrorKind::Io, fmt::format("{}: the driver refused RS-485 mode (TIOCSRS485): {}",
                                              m_path, std::strerror(errno))};
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    m_ctx = std::move(ctx);
    m_fd = fd;
    return core::Ok{};
  }

  void close() override {
    if (m_ctx) ::ioctl(m_fd, TIOCNXCL);
    m_ctx.reset();
    m_fd = -1;
  }

  void discard_input() override {
    if (m_ctx) modbus_flush(m_ctx.get());
    FdStream::discard_input();  // a pty ignores tcflush of the far side's bytes in flight
  }

  [[nodiscard]] std::string describe() const override { return m_path; }

  // A pty (Unix98 slaves have majors 136-143) has no line behind it, whatever its baud.
  [[nodiscard]] bool paced_by_wire() const override {
    struct stat st {};
    if (!is_open() || ::fstat(m_fd, &st) != 0 || !S_ISCHR(st.st_mode)) return false;
    auto major_number = major(st.st_rdev);
    return major_number < 136 || major_number > 143;
  }

 private:
  Error open_error(int error_number) const {
    switch (error_number) {
      case ENOENT:
      case ENODEV:
      case ENXIO:
        return Error{ErrorKind::NoSuchPort,
                     fmt::format("{} does not exist (is the adapter plugged in? see "
                                 "ls /dev/serial/by-id/)",
                                 m_path)};
      case EACCES:
      case EPERM:
        return Error{ErrorKind::PermissionDenied,
                     fmt::format("no permission to open {} (add your user to the dialout group: "
                                 "sudo usermod -aG dialout $USER, then log in again)",
                                 m_path)};
      case EBUSY:
        return Error{ErrorKind::PortBusy,
                     fmt::format("{} is held exclusively by another program", m_path)};
      case ENOTTY:
      case EINVAL:
        return Error{ErrorKind::NoSuchPort, fmt::format("{} is not a serial port", m_path)};
      default:
        return os_error(error_number, m_path);
    }
  }

  std::string m_path;
  SerialSettings m_settings;
  std::unique_ptr<modbus_t, ModbusContextDeleter> m_ctx;
};

}  // namespace

std::unique_ptr<ByteStream> make_serial_stream(const std::string& path,
                                               const SerialSettings& settings) {
  return std::make_unique<SerialStream>(path, settings);
}

}  // namespace tracermon::transport
