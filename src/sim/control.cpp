#include "sim/control.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <vector>

#include <fmt/format.h>

namespace tracermon::sim {

namespace {

std::vector<std::string> words(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

double number(const std::string& text, const char* what) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    throw std::invalid_argument(fmt::format("{} '{}' is not a number", what, text));
  }
  return v;
}

std::uint8_t unit_id(const std::string& text) {
  double v = number(text, "id");
  if (v < 1 || v > 247 || v != static_cast<int>(v)) {
    throw std::invalid_argument(fmt::format("id '{}' is not 1-247", text));
  }
  return static_cast<std::uint8_t>(v);
}

}  // namespace

std::string run_control_command(SimulatedBus& bus, std::string_view line,
                                const std::function<void(double)>& unplug) {
  auto w = words(line);
  try {
    if (w.empty()) return "error: empty command (status, fault, power-cycle, drift, unplug)";
    const auto& cmd = w[0];
    if (cmd == "status" && w.size() == 1) return bus.status().dump();
    if (cmd == "fault" && w.size() == 2 && w[1] == "clear") {
      bus.set_faults(FaultSettings{});
      return "ok";
    }
    if (cmd == "fault" && w.size() >= 2) {
      auto faults = bus.faults();
      for (std::size_t i = 1; i < w.size(); ++i)
        apply_fault_option(faults, w[i]);
      bus.set_faults(faults);
      return "ok";
    }
    if (cmd == "power-cycle" && w.size() == 2) {
      auto id = unit_id(w[1]);
      return bus.power_cycle(id) ? "ok" : fmt::format("error: no controller {}", id);
    }
    if (cmd == "drift" && w.size() == 3) {
      auto id = unit_id(w[1]);
      double ppm = number(w[2], "ppm");
      return bus.set_drift(id, ppm) ? "ok" : fmt::format("error: no controller {}", id);
    }
    if (cmd == "unplug" && w.size() == 2) {
      double ms = number(w[1], "milliseconds");
      if (ms <= 0 || ms > 600000) return "error: unplug takes 1-600000 milliseconds";
      if (!unplug) return "error: this simulator has no pty link to unplug";
      unplug(ms);
      return "ok";
    }
    return fmt::format(
        "error: unknown command '{}' (status | fault NAME=RATE... | fault clear | power-cycle ID "
        "| drift ID PPM | unplug MS)",
        line);
  } catch (const std::invalid_argument& e) {
    return fmt::format("error: {}", e.what());
  }
}

ControlServer::ControlServer(SimulatedBus& bus, std::filesystem::path socket_path,
                             std::function<void(double)> unplug)
    : m_bus(bus), m_path(std::move(socket_path)), m_unplug(std::move(unplug)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  auto text = m_path.string();
  if (text.size() >= sizeof addr.sun_path) {
    throw std::runtime_error(fmt::format("control socket path too long: {}", text));
  }
  std::memcpy(addr.sun_path, text.c_str(), text.size() + 1);
  std::error_code ec;
  if (std::filesystem::is_socket(m_path, ec)) std::filesystem::remove(m_path, ec);
  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 4) != 0) {
    throw std::runtime_error(
        fmt::format("cannot listen on control socket {}: {}", text, std::strerror(errno)));
  }
  m_listener = std::move(fd);
  m_thread = std::thread([this] { run(); });
}

ControlServer::~ControlServer() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
  std::error_code ec;
  std::filesystem::remove(m_path, ec);
}

void ControlServer::run() {
  while (!m_stop) {
    pollfd p{m_listener.get(), POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    core::UniqueFd client(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    // One client at a time, a line at a time: commands are rare and quick.
    std::string buffer;
    char chunk[256];
    while (!m_stop) {
      pollfd c{client.get(), POLLIN, 0};
      if (::poll(&c, 1, 20) <= 0) continue;
      ssize_t n = ::read(client.get(), chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      if (buffer.size() > 4096) break;  // not a command
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        auto reply = run_control_command(m_bus, std::string_view(buffer).substr(0, nl), m_unplug);
        buffer.erase(0, nl + 1);
        reply += '\n';
        if (::send(client.get(), reply.data(), reply.size(), MSG_NOSIGNAL) < 0) break;
      }
    }
  }
}

}  // namespace tracermon::sim
