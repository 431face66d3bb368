#include "sim/bus.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "protocol/rtu.hpp"

namespace tracermon::sim {

using protocol::Bytes;

namespace {

constexpr double k_max_chunk_seconds = 30;  // statistics and load logic see at least this often

}  // namespace

ClockSeconds host_local_clock() {
  return from_calendar(protocol::local_calendar(std::chrono::system_clock::now()));
}

SimulatedBus::SimulatedBus(BusOptions options)
    : m_options(std::move(options)), m_dice(m_options.seed ^ 0x5eed'fa17ULL) {
  auto& o = m_options;
  if (o.ids.empty()) throw std::invalid_argument("a simulated bus needs at least one controller");
  std::set<std::uint8_t> seen;
  for (auto id : o.ids) {
    if (id < 1 || id > 247) throw std::invalid_argument(fmt::format("slave id {}: use 1-247", id));
    if (!seen.insert(id).second) throw std::invalid_argument(fmt::format("slave id {} twice", id));
  }
  if (o.profiles.empty()) o.profiles.push_back(find_profile("tracer-an"));
  if (o.profiles.size() != 1 && o.profiles.size() != o.ids.size()) {
    throw std::invalid_argument(fmt::format("{} profiles for {} controllers: give one, or one each",
                                            o.profiles.size(), o.ids.size()));
  }
  if (!(o.speed > 0 && o.speed <= 1e6)) throw std::invalid_argument("speed must be in (0, 1e6]");
  ClockSeconds start = o.start.value_or(host_local_clock());
  auto calendar = to_calendar(start);
  int day_of_year =
      static_cast<int>((start - from_calendar({calendar.year, 1, 1, 0, 0, 0})) / 86400.0) + 1;
  double second_of_day = std::fmod(start, 86400.0);

  auto profile_of = [&](std::size_t i) -> const Profile& {
    return o.profiles.size() == 1 ? o.profiles[0] : o.profiles[i];
  };
  auto site_for = [&](std::size_t first) {
    Site site;
    site.battery_nominal_voltage = profile_of(first).battery_rated_voltage;
    // The capacity follows the controllers' battery_capacity settings (sync_locked).
    site.latitude = o.latitude;
    site.day_of_year = day_of_year;
    site.cloudiness = o.cloudiness;
    return site;
  };
  auto setup_of = [&](std::size_t i) {
    ControllerSetup s;
    s.rating = profile_of(i).rating;
    s.panels = profile_of(i).panels;
    s.load_watts = profile_of(i).load_watts;
    return s;
  };
  if (o.shared_battery) {
    for (std::size_t i = 1; i < o.ids.size(); ++i) {
      if (profile_of(i).battery_rated_voltage != profile_of(0).battery_rated_voltage) {
        throw std::invalid_argument(fmt::format(
            "{} ({} V) and {} ({} V) cannot share one battery: give profiles of one system "
            "voltage, or separate batteries",
            profile_of(0).key, profile_of(0).battery_rated_voltage, profile_of(i).key,
            profile_of(i).battery_rated_voltage));
      }
    }
  }
  std::size_t groups = o.shared_battery ? 1 : o.ids.size();
  for (std::size_t g = 0; g < groups; ++g) {
    std::size_t first = o.shared_battery ? 0 : g;
    std::size_t count = o.shared_battery ? o.ids.size() : 1;
    std::vector<ControllerSetup> setups;
    for (std::size_t i = first; i < first + count; ++i)
      setups.push_back(setup_of(i));
    m_plants.push_back(std::make_unique<Plant>(site_for(first), setups, o.seed + g, second_of_day));
  }
  for (std::size_t i = 0; i < o.ids.size(); ++i) {
    Member m;
    m.controller = std::make_unique<SimulatedController>(profile_of(i), o.ids[i], start);
    if (auto d = o.drift_ppm.find(o.ids[i]); d != o.drift_ppm.end()) {
      m.controller->set_clock_drift(d->second);
    }
    m.plant = o.shared_battery ? 0 : i;
    m.member = o.shared_battery ? i : 0;
    m_members.push_back(std::move(m));
  }
  // Settle: the registers hold live values before the first request.
  sync_locked();
  for (auto& p : m_plants)
    p->step(1.0);
  for (auto& m : m_members)
    m.controller->update(m_plants[m.plant]->readings(m.member), 0);
  m_last_advance = std::chrono::steady_clock::now();
  if (!o.journal.empty()) m_journal = std::make_unique<ReplyJournal>(o.journal);
}

void SimulatedBus::journal(std::uint8_t unit, std::span<const std::uint8_t> request,
                           std::span<const std::uint8_t> reply) {
  if (m_journal) m_journal->record(unit, request, reply);
}

SimulatedBus::Member* SimulatedBus::find(std::uint8_t unit) {
  for (auto& m : m_members) {
    if (m.controller->unit() == unit) return &m;
  }
  return nullptr;
}

void SimulatedBus::advance() {
  std::lock_guard lock(m_mutex);
  advance_locked();
}

void SimulatedBus::run_for(double seconds) {
  std::lock_guard lock(m_mutex);
  advance_locked();
  step_locked(seconds);
}

std::optional<Bytes> SimulatedBus::request(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  std::lock_guard lock(m_mutex);
  Member* m = find(unit);
  if (m == nullptr) return std::nullopt;
  return m->controller->handle(pdu, m_options.max_registers);
}

void SimulatedBus::advance_locked() {
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - m_last_advance).count() * m_options.speed;
  m_last_advance = now;
  step_locked(seconds);
}

void SimulatedBus::sync_locked() {
  // Every member of a PAL-ADP group is set up for the bank they all charge, so the bank's
  // capacity is the mean of the members' battery_capacity (0x9001): when they agree it is that
  // value, and a write to any one member moves it. A separate battery is its controller's own.
  std::vector<double> capacity(m_plants.size(), 0.0);
  std::vector<int> members(m_plants.size(), 0);
  for (auto& m : m_members) {
    auto& plant = *m_plants[m.plant];
    plant.set_settings(m.member, m.controller->charge_settings());
    plant.set_inputs(m.member, m.controller->inputs());
    capacity[m.plant] += m.controller->battery_capacity();
    ++members[m.plant];
  }
  for (std::size_t i = 0; i < m_plants.size(); ++i) {
    if (members[i] > 0) m_plants[i]->set_battery_capacity(capacity[i] / members[i]);
  }
}

void SimulatedBus::step_locked(double seconds) {
  while (seconds > 0) {
    double chunk = std::min(seconds, k_max_chunk_seconds);
    seconds -= chunk;
    sync_locked();
    for (auto& p : m_plants)
      p->step(chunk);
    for (auto& m : m_members)
      m.controller->update(m_plants[m.plant]->readings(m.member), chunk);
  }
}

double SimulatedBus::turnaround(std::span<const std::uint8_t> pdu) const {
  double registers = 0;
  if (pdu.size() == 5 && pdu[0] >= 0x01 && pdu[0] <= 0x04) {
    registers = protocol::be16(pdu, 3);
    if (pdu[0] <= 0x02) registers /= 16;
  }
  return m_options.turnaround_ms + 0.5 * std::min(registers, 125.0);
}

double SimulatedBus::wire_ms(std::size_t bytes) const {
  return static_cast<double>(bytes) * 10.0 * 1000.0 / m_options.baud;
}

std::optional<Bytes> SimulatedBus::answer(Member& m, std::span<const std::uint8_t> pdu,
                                          std::optional<Fault> fault) {
  ++m.requests;
  if (m.stuck) return std::nullopt;
  if (fault == Fault::Stuck) {
    m.stuck = true;
    return std::nullopt;
  }
  if (fault == Fault::NoReply || fault == Fault::Unplug) return std::nullopt;
  if (fault == Fault::Exception4 || fault == Fault::Exception6) {
    return Bytes{static_cast<std::uint8_t>(pdu[0] | protocol::fc::k_exception_flag),
                 static_cast<std::uint8_t>(fault == Fault::Exception4 ? 4 : 6)};
  }
  return m.controller->handle(pdu, m_options.max_registers);
}

slave::Transmission SimulatedBus::on_rtu_frame(std::span<const std::uint8_t> frame) {
  std::lock_guard lock(m_mutex);
  advance_locked();
  ++m_requests;
  slave::Transmission out;
  if (frame.size() < 4) return out;
  std::uint8_t unit = frame[0];
  auto pdu = frame.subspan(1, frame.size() - 3);
  if (unit == 0) {  // broadcast: every controller acts, none answers
    for (auto& m : m_members)
      if (!m.stuck) m.controller->handle(pdu, m_options.max_registers);
    return out;
  }
  Member* m = find(unit);
  if (m == nullptr) return out;  // nobody there: silence
  auto fault = m_dice.roll(m_options.faults, unit);
  if (fault) ++m_fault_counts[static_cast<std::size_t>(*fault)];
  if (fault == Fault::Unplug) {
    out.unplug = true;
    out.unplug_ms = m_options.faults.unplug_ms;
  }
  auto reply = answer(*m, pdu, fault);
  if (!reply) return out;
  journal(unit, pdu, *reply);
  out.bytes = protocol::encode_rtu(unit, *reply);
  out.delay_ms = turnaround(pdu);
  if (!fault) return out;
  auto& b = out.bytes;
  switch (*fault) {
    case Fault::BadCrc:
      b.back() ^= static_cast<std::uint8_t>(m_dice.between(1, 255));
      break;
    case Fault::Truncated:
      b.resize(static_cast<std::size_t>(m_dice.between(1, static_cast<int>(b.size()) - 1)));
      break;
    case Fault::Late:
      out.delay_ms += m_options.faults.late_ms;
      break;
    case Fault::Garbage: {
      Bytes noise(static_cast<std::size_t>(m_dice.between(1, 8)));
      for (auto& n : noise)
        n = static_cast<std::uint8_t>(m_dice.between(0, 255));
      b.insert(b.begin(), noise.begin(), noise.end());
      break;
    }
    case Fault::WrongId: {
      auto other = static_cast<std::uint8_t>(unit % 247 + 1);
      b = protocol::encode_rtu(other, *reply);
      break;
    }
    case Fault::Echo:
      b.insert(b.begin(), frame.begin(), frame.end());
      break;
    case Fault::SecondMaster: {
      // An MT50 reads the live block of the same controller. Half the time its exchange
      // slips in before our reply; otherwise the two replies overlap on the wire and the
      // bytes that collide are garbled (RS-485 has no arbitration).
      auto request = protocol::make_read_request(protocol::Table::Input, 0x3100, 4);
      Bytes theirs = protocol::encode_rtu(unit, request);
      auto their_reply = m->controller->handle(request, m_options.max_registers);
      journal(unit, request, their_reply);
      auto their_frame = protocol::encode_rtu(unit, their_reply);
      theirs.insert(theirs.end(), their_frame.begin(), their_frame.end());
      if (m_dice.uniform() < 0.5) {
        b.insert(b.begin(), theirs.begin(), theirs.end());
      } else {
        std::size_t offset = static_cast<std::size_t>(m_dice.between(0, 3));
        for (std::size_t i = 0; i + offset < b.size() && i < theirs.size(); ++i)
          b[i + offset] &= theirs[i];  // the dominant state wins where both drive the line
      }
      break;
    }
    default:
      break;
  }
  return out;
}

slave::TcpReply SimulatedBus::on_tcp_request(std::uint8_t unit, std::span<const std::uint8_t> pdu) {
  std::lock_guard lock(m_mutex);
  advance_locked();
  ++m_requests;
  slave::TcpReply out;
  out.unit = unit;
  Member* m = find(unit);
  if (m == nullptr || pdu.empty()) return out;
  auto fault = m_dice.roll(m_options.faults, unit);
  // Checksums, echoes and line collisions do not exist above a Modbus TCP gateway.
  if (fault == Fault::BadCrc || fault == Fault::Echo || fault == Fault::SecondMaster ||
      fault == Fault::Garbage || fault == Fault::Unplug) {
    fault.reset();
  }
  if (fault) ++m_fault_counts[static_cast<std::size_t>(*fault)];
  auto reply = answer(*m, pdu, fault);
  if (!reply) return out;
  journal(unit, pdu, *reply);
  out.pdu = std::move(*reply);
  out.delay_ms = turnaround(pdu);
  if (fault == Fault::Late) out.delay_ms += m_options.faults.late_ms;
  if (fault == Fault::WrongId) out.unit = static_cast<std::uint8_t>(unit % 247 + 1);
  if (fault == Fault::Truncated && out.pdu.size() > 1) {
    out.pdu.resize(
        static_cast<std::size_t>(m_dice.between(1, static_cast<int>(out.pdu.size()) - 1)));
  }
  return out;
}

void SimulatedBus::set_faults(const FaultSettings& faults) {
  std::lock_guard lock(m_mutex);
  m_options.faults = faults;
}

FaultSettings SimulatedBus::faults() const {
  std::lock_guard lock(m_mutex);
  return m_options.faults;
}

bool SimulatedBus::power_cycle(std::uint8_t unit) {
  std::lock_guard lock(m_mutex);
  auto* m = find(unit);
  if (m == nullptr) return false;
  m->stuck = false;
  m->controller->power_cycle();
  return true;
}

bool SimulatedBus::set_drift(std::uint8_t unit, double ppm) {
  std::lock_guard lock(m_mutex);
  auto* m = find(unit);
  if (m == nullptr) return false;
  m->controller->set_clock_drift(ppm);
  return true;
}

void SimulatedBus::note_undelivered() {
  std::lock_guard lock(m_mutex);
  ++m_undelivered;
}

nlohmann::json SimulatedBus::status() const {
  std::lock_guard lock(m_mutex);
  nlohmann::json out;
  out["requests"] = m_requests;
  out["undelivered"] = m_undelivered;
  out["speed"] = m_options.speed;
  auto faults = nlohmann::json::object();
  for (std::size_t i = 0; i < k_fault_count; ++i)
    faults[std::string(fault_name(static_cast<Fault>(i)))] = m_fault_counts[i];
  out["faults"] = faults;
  auto controllers = nlohmann::json::array();
  for (const auto& m : m_members) {
    const auto& p = m_plants[m.plant]->readings(m.member);
    controllers.push_back({{"id", m.controller->unit()},
                           {"model", m.controller->profile().model},
                           {"requests", m.requests},
                           {"stuck", m.stuck},
                           {"clock", to_calendar(m.controller->clock()).iso8601()},
                           {"pv_power", p.pv_power},
                           {"battery_voltage", p.battery_voltage},
                           {"soc", p.soc}});
  }
  out["controllers"] = controllers;
  return out;
}

}  // namespace tracermon::sim
