#include "sim/sim_stream.hpp"

#include <charconv>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "slave/request_framer.hpp"

namespace tracermon::sim {

namespace {

using Clock = std::chrono::steady_clock;

Clock::duration ms(double v) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(v));
}

double number(std::string_view text, std::string_view key, double min, double max) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) {
    throw std::invalid_argument(
        fmt::format("sim option {}='{}': a number from {} to {}", key, text, min, max));
  }
  return v;
}

std::vector<std::uint8_t> parse_id_list(std::string_view text) {
  std::vector<std::uint8_t> ids;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto dash = item.find('-');
    auto first = number(item.substr(0, dash), "ids", 1, 247);
    auto last =
        dash == std::string_view::npos ? first : number(item.substr(dash + 1), "ids", 1, 247);
    if (first != static_cast<int>(first) || last != static_cast<int>(last) || last < first) {
      throw std::invalid_argument(fmt::format("sim option ids: '{}' is not an id or range", item));
    }
    for (int id = static_cast<int>(first); id <= static_cast<int>(last); ++id)
      ids.push_back(static_cast<std::uint8_t>(id));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (ids.empty()) throw std::invalid_argument("sim option ids: no id given");
  return ids;
}

// A byte stream to a simulated bus: replies arrive byte by byte at the times the wire would
// deliver them.
class SimStream : public transport::ByteStream {
 public:
  SimStream(std::shared_ptr<SimulatedBus> bus, std::string name)
      : m_bus(std::move(bus)), m_name(std::move(name)), m_framer(20.0) {}

  core::Status open(transport::Deadline) override {
    std::lock_guard lock(unplug_mutex());
    auto& until = unplugged_until()[m_bus.get()];
    if (Clock::now() < until) {
      return core::Error{
          core::ErrorKind::NoSuchPort,
          fmt::format("{} does not exist (the simulated adapter is unplugged)", m_name)};
    }
    m_open = true;
    return core::Ok{};
  }
  void close() override {
    m_open = false;
    m_pending.clear();
    m_framer.clear();
  }
  [[nodiscard]] bool is_open() const override { return m_open; }

  core::Status write_all(std::span<const std::uint8_t> bytes, transport::Deadline) override {
    if (!m_open) return gone();
    auto now = Clock::now();
    m_framer.feed(bytes, now);
    while (auto frame = m_framer.next(now)) {
      auto t = m_bus->on_rtu_frame(*frame);
      if (t.unplug) {
        std::lock_guard lock(unplug_mutex());
        unplugged_until()[m_bus.get()] = now + ms(t.unplug_ms);
        close();
        return gone();
      }
      double byte_ms = m_bus->wire_ms(1);
      auto start = now + ms(m_bus->wire_ms(frame->size()) + t.delay_ms);
      for (std::size_t i = 0; i < t.bytes.size(); ++i)
        m_pending.push_back({start + ms(static_cast<double>(i + 1) * byte_ms), t.bytes[i]});
    }
    return core::Ok{};
  }

  core::Status read_some(transport::Bytes& out, transport::Deadline deadline) override {
    if (!m_open) return gone();
    if (m_pending.empty() || m_pending.front().at > deadline) {
      std::this_thread::sleep_until(deadline);
      return core::Error{core::ErrorKind::Timeout, "no reply"};
    }
    std::this_thread::sleep_until(m_pending.front().at);
    auto now = Clock::now();
    while (!m_pending.empty() && m_pending.front().at <= now) {
      out.push_back(m_pending.front().byte);
      m_pending.pop_front();
    }
    return core::Ok{};
  }

  void discard_input() override {
    auto now = Clock::now();
    while (!m_pending.empty() && m_pending.front().at <= now)
      m_pending.pop_front();
  }

  [[nodiscard]] std::string describe() const override { return m_name; }

 private:
  struct Timed {
    Clock::time_point at;
    std::uint8_t byte;
  };
  core::Error gone() const {
    return core::Error{core::ErrorKind::Io,
                       fmt::format("{}: the simulated adapter vanished", m_name)};
  }
  static std::mutex& unplug_mutex() {
    static std::mutex m;
    return m;
  }
  static std::map<const SimulatedBus*, Clock::time_point>& unplugged_until() {
    static std::map<const SimulatedBus*, Clock::time_point> m;
    return m;
  }

  std::shared_ptr<SimulatedBus> m_bus;
  std::string m_name;
  slave::RtuRequestFramer m_framer;
  std::deque<Timed> m_pending;
  bool m_open = false;
};

// A stream that answers at once, with no wire time: for running a simulated bus faster than
// real time (the demo's history). Faults still apply if the bus has any.
class InstantSimStream : public transport::ByteStream {
 public:
  explicit InstantSimStream(std::shared_ptr<SimulatedBus> bus) : m_bus(std::move(bus)) {}
  core::Status open(transport::Deadline) override {
    m_open = true;
    return core::Ok{};
  }
  void close() override {
    m_open = false;
    m_reply.clear();
  }
  [[nodiscard]] bool is_open() const override { return m_open; }
  core::Status write_all(std::span<const std::uint8_t> bytes, transport::Deadline) override {
    auto t = m_bus->on_rtu_frame(bytes);
    m_reply.insert(m_reply.end(), t.bytes.begin(), t.bytes.end());
    return core::Ok{};
  }
  core::Status read_some(transport::Bytes& out, transport::Deadline) override {
    if (m_reply.empty()) return core::Error{core::ErrorKind::Timeout, "no reply"};
    out.insert(out.end(), m_reply.begin(), m_reply.end());
    m_reply.clear();
    return core::Ok{};
  }
  void discard_input() override { m_reply.clear(); }
  [[nodiscard]] std::string describe() const override { return "simulated bus (instant)"; }

 private:
  std::shared_ptr<SimulatedBus> m_bus;
  transport::Bytes m_reply;
  bool m_open = false;
};

}  // namespace

ClockSeconds parse_start_time(std::string_view text) {
  protocol::ControllerTime t;
  char tail = 0;
  std::string copy(text);
  int n = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &t.year, &t.month, &t.day, &t.hour,
                      &t.minute, &t.second, &tail);
  using namespace std::chrono;
  bool real_day = n == 6 && t.valid() &&
                  year_month_day{year{t.year}, month{static_cast<unsigned>(t.month)},
                                 day{static_cast<unsigned>(t.day)}}
                      .ok();
  if (!real_day || t.year < 2000 || t.year > 2099) {
    throw std::invalid_argument(
        fmt::format("start time '{}': use YYYY-MM-DDTHH:MM:SS between 2000 and 2099", text));
  }
  return from_calendar(t);
}

BusOptions parse_sim_options(std::string_view text) {
  BusOptions o;
  std::vector<std::string> profiles;
  while (!text.empty()) {
    auto amp = text.find('&');
    auto item = text.substr(0, amp);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("sim option '{}' must be KEY=VALUE", item));
    }
    auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    if (key == "ids") {
      o.ids = parse_id_list(value);
    } else if (key == "profile") {
      o.profiles.clear();
      std::size_t start = 0;
      while (start <= value.size()) {
        auto plus = value.find('+', start);
        o.profiles.push_back(find_profile(value.substr(start, plus - start)));
        if (plus == std::string_view::npos) break;
        start = plus + 1;
      }
    } else if (key == "seed") {
      o.seed = static_cast<std::uint64_t>(number(value, key, 0, 1e15));
    } else if (key == "speed") {
      o.speed = number(value, key, 0.001, 1e6);
    } else if (key == "max-registers") {
      o.max_registers = static_cast<std::uint16_t>(number(value, key, 1, 125));
    } else if (key == "turnaround-ms") {
      o.turnaround_ms = number(value, key, 0, 1000);
    } else if (key == "shared-battery") {
      o.shared_battery = number(value, key, 0, 1) != 0;
    } else if (key == "cloudiness") {
      o.cloudiness = number(value, key, 0, 1);
    } else if (key == "start") {
      o.start = parse_start_time(value);
    } else if (key == "fault") {
      apply_fault_option(o.faults, value);
    } else if (key == "instant") {
      o.instant = number(value, key, 0, 1) != 0;
    } else if (key == "journal") {
      o.journal = std::string(value);
    } else {
      throw std::invalid_argument(
          fmt::format("unknown sim option '{}' (allowed: ids, profile, seed, speed, max-registers, "
                      "turnaround-ms, shared-battery, cloudiness, start, fault, instant, journal)",
                      key));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return o;
}

namespace {
struct BusRegistry {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<SimulatedBus>, std::less<>> buses;
};
BusRegistry& registry() {
  static BusRegistry instance;
  return instance;
}
}  // namespace

std::unique_ptr<transport::ByteStream> make_instant_stream(std::shared_ptr<SimulatedBus> bus) {
  return std::make_unique<InstantSimStream>(std::move(bus));
}

void install_shared_bus(std::string_view options, std::shared_ptr<SimulatedBus> bus) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.buses.insert_or_assign(std::string(options), std::move(bus));
}

std::shared_ptr<SimulatedBus> shared_bus(std::string_view options) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto& buses = r.buses;
  auto it = buses.find(options);
  if (it != buses.end()) return it->second;
  auto bus = std::make_shared<SimulatedBus>(parse_sim_options(options));
  buses.emplace(std::string(options), bus);
  return bus;
}

void register_sim_ports() {
  transport::set_simulated_stream_factory([](const transport::PortSpec& port) {
    auto bus = shared_bus(port.path);
    if (bus->options().instant) return make_instant_stream(bus);
    return std::unique_ptr<transport::ByteStream>(
        std::make_unique<SimStream>(bus, port.to_string()));
  });
}

}  // namespace tracermon::sim
