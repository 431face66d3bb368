#include "poller/bus_worker.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "poller/sample.hpp"
#include "protocol/decode.hpp"

namespace tracermon::poller {

using core::ErrorKind;
using protocol::PollClass;
using std::chrono::duration;
using std::chrono::milliseconds;

namespace {

bool is_link_error(ErrorKind kind) {
  return kind == ErrorKind::NoSuchPort || kind == ErrorKind::PortBusy ||
         kind == ErrorKind::PermissionDenied || kind == ErrorKind::ConnectFailed ||
         kind == ErrorKind::Io;
}

bool is_silence(ErrorKind kind) {
  return kind == ErrorKind::Timeout || kind == ErrorKind::Echo;
}

// Waiting for a port that is gone: 1 s, 2 s, 4 s ... 30 s.
milliseconds link_backoff(int failures) {
  auto seconds = 1 << std::min(failures - 1, 5);
  return std::chrono::seconds(std::min(seconds, 30));
}

double to_ms(std::chrono::microseconds us) {
  return static_cast<double>(us.count()) / 1000.0;
}

}  // namespace

BusWorker::BusWorker(BusSetup setup, const protocol::RegisterMap& map, ClockWatch& clock,
                     SnapshotCallback on_snapshot)
    : m_setup(std::move(setup)), m_map(map), m_clock(clock), m_on_snapshot(std::move(on_snapshot)) {
  m_client = transport::make_client(m_setup.port, m_setup.serial, m_setup.client);
  auto start = std::chrono::steady_clock::now();
  m_status.name = m_setup.name;
  m_status.port = m_setup.port.to_string();
  for (const auto& d : m_setup.devices) {
    m_devices.push_back(Device{d, PollSchedule(m_setup.intervals, start), {}, Validator()});
    model::DeviceStatus status;
    status.name = d.name;
    status.site = d.site;
    status.unit = d.unit;
    status.model = d.model;
    m_status.devices.push_back(std::move(status));
  }
}

BusWorker::~BusWorker() {
  stop();
}

void BusWorker::start() {
  m_thread = std::thread([this] { run(); });
}

void BusWorker::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_jobs.clear();
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
}

void BusWorker::post(BusJob job) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stop) return;
    m_jobs.push_back(std::move(job));
  }
  m_wake.notify_all();
}

std::future<device::Reading> BusWorker::read(std::uint8_t unit,
                                             std::vector<protocol::FieldId> fields) {
  auto promise = std::make_shared<std::promise<device::Reading>>();
  auto future = promise->get_future();
  post([this, unit, fields = std::move(fields), promise](transport::ModbusClient& client) {
    device::FieldReader reader(m_map, client, {m_setup.max_registers});
    auto it = std::find_if(m_devices.begin(), m_devices.end(),
                           [&](const Device& d) { return d.setup.unit == unit; });
    protocol::DeviceSupport scratch;
    promise->set_value(reader.read(unit, fields, it != m_devices.end() ? it->support : scratch));
  });
  return future;
}

model::BusStatus BusWorker::status() const {
  std::lock_guard lock(m_mutex);
  return m_status;
}

void BusWorker::carry_over(const model::BusStatus& previous) {
  std::lock_guard lock(m_mutex);
  for (auto& device : m_status.devices) {
    for (const auto& old : previous.devices) {
      if (old.name == device.name && old.unit == device.unit) device.counters = old.counters;
    }
  }
}

void BusWorker::run_jobs(std::unique_lock<std::mutex>& lock) {
  while (!m_jobs.empty() && !m_stop) {
    auto job = std::move(m_jobs.front());
    m_jobs.pop_front();
    lock.unlock();
    job(*m_client);
    lock.lock();
  }
}

bool BusWorker::link_down() const {
  return m_link_failures > 0 && std::chrono::steady_clock::now() < m_link_retry_at;
}

void BusWorker::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stop) {
    run_jobs(lock);
    if (m_stop) break;
    lock.unlock();
    if (!link_down()) {
      for (auto& device : m_devices) {
        auto classes = device.schedule.due(std::chrono::steady_clock::now());
        if (!classes.empty()) poll(device, classes);
        if (link_down()) break;
        std::lock_guard peek(m_mutex);
        if (m_stop) break;
      }
      std::lock_guard count(m_mutex);
      ++m_status.rounds;
    }
    auto next = core::SteadyTime::max();
    for (const auto& device : m_devices)
      next = std::min(next, device.schedule.next_due());
    if (link_down()) next = std::max(next, m_link_retry_at);
    lock.lock();
    m_wake.wait_until(lock, next, [this] { return m_stop || !m_jobs.empty(); });
  }
}

std::vector<protocol::FieldId> BusWorker::wanted(const Device& device,
                                                 const std::vector<PollClass>& classes) const {
  std::vector<protocol::FieldId> ids;
  for (const auto& field : m_map.fields()) {
    if (!field.readable() || device.support.unsupported(field.id)) continue;
    if (std::find(classes.begin(), classes.end(), field.poll) != classes.end()) {
      ids.push_back(field.id);
    }
  }
  return ids;
}

bool BusWorker::probe(Device& device) {
  // The first fast field alone, without retries: a dead device costs one timeout per try.
  const protocol::Field* first = nullptr;
  for (const auto& field : m_map.fields()) {
    if (field.readable() && field.poll == PollClass::Fast && !field.optional) {
      first = &field;
      break;
    }
  }
  if (first == nullptr) return true;
  auto saved = m_client->options().retries;
  m_client->options().retries = 0;
  m_client->reset_max_latency();
  auto before = m_client->counters();
  auto reply = m_client->read(device.setup.unit, first->table, first->address, first->width());
  m_client->options().retries = saved;
  device::Reading reading;
  reading.unit = device.setup.unit;
  if (!reply) {
    reading.failures.push_back({first->id, reply.error(), "probe"});
  }
  account(device, before, reading);
  if (reply) return true;
  const auto& error = reply.error();
  return !(is_silence(error.kind) || is_link_error(error.kind));
}

void BusWorker::poll(Device& device, const std::vector<PollClass>& classes) {
  auto now = std::chrono::steady_clock::now();
  ++device.cycle;
  if (device.schedule.silent_cycles() > 0 && !probe(device)) {
    device::Reading silent;
    silent.unit = device.setup.unit;
    device.schedule.no_answer(std::chrono::steady_clock::now());
    publish(device, silent, model::Health::Offline);
    return;
  }
  auto fields = wanted(device, classes);
  m_client->reset_max_latency();
  auto before = m_client->counters();
  device::FieldReader reader(m_map, *m_client, {m_setup.max_registers});
  auto reading = reader.read(device.setup.unit, fields, device.support);
  account(device, before, reading);
  now = std::chrono::steady_clock::now();

  bool link_failed =
      !reading.failures.empty() && reading.values.empty() &&
      std::all_of(reading.failures.begin(), reading.failures.end(),
                  [](const device::FieldFailure& f) { return is_link_error(f.error.kind); });
  if (link_failed) {
    ++m_link_failures;
    m_link_retry_at = now + link_backoff(m_link_failures);
    const auto& error = reading.failures.front().error.describe();
    if (auto text = m_log_limiter.admit("link", fmt::format("bus {}: port {} unavailable: {}",
                                                            m_setup.name, m_status.port, error))) {
      spdlog::warn("{}; retrying", *text);
    }
    std::lock_guard lock(m_mutex);
    m_status.link_up = false;
    m_status.link_error = error;
  } else if (m_link_failures > 0 || !reading.values.empty()) {
    if (m_link_failures > 0) {
      m_log_limiter.clear("link");
      spdlog::info("bus {}: port {} is back", m_setup.name, m_status.port);
    }
    m_link_failures = 0;
    std::lock_guard lock(m_mutex);
    m_status.link_up = true;
    m_status.link_error.clear();
  }

  bool answered = !reading.values.empty() ||
                  std::any_of(reading.failures.begin(), reading.failures.end(),
                              [](const device::FieldFailure& f) {
                                return !is_silence(f.error.kind) && !is_link_error(f.error.kind);
                              }) ||
                  (reading.failures.empty() && !fields.empty());
  if (!answered) {
    device.schedule.no_answer(now);
    publish(device, reading, model::Health::Offline);
    return;
  }
  device.schedule.answered(now);
  for (auto poll_class : classes) {
    bool complete = std::none_of(
        reading.failures.begin(), reading.failures.end(),
        [&](const device::FieldFailure& f) { return m_map.field(f.id).poll == poll_class; });
    device.schedule.polled(poll_class, now, complete);
  }
  if (!device.identified) {
    device.identified = true;
    auto identity = m_client->identify(device.setup.unit);
    if (identity) {
      std::lock_guard lock(m_mutex);
      auto& status = m_status.devices[static_cast<std::size_t>(&device - m_devices.data())];
      status.identity = identity.value();
      if (status.model.empty()) status.model = identity.value().product_code;
    }
  }
  publish(device, reading,
          reading.failures.empty() ? model::Health::Online : model::Health::Degraded);
}

void BusWorker::account(Device& device, const transport::ClientCounters& before,
                        const device::Reading& reading) {
  const auto& after = m_client->counters();
  std::lock_guard lock(m_mutex);
  auto& status = m_status.devices[static_cast<std::size_t>(&device - m_devices.data())];
  auto& c = status.counters;
  c.add_since(before, after);
  for (const auto& failure : reading.failures) {
    if (failure.error.kind == ErrorKind::Exception) ++c.exceptions[failure.error.exception_code];
  }
  auto replies = after.replies - before.replies;
  if (replies > 0) {
    c.latency_ms_last = to_ms(after.last_latency);
    // The longest reply of this device's reads, not just the last one.
    c.latency_ms_max = std::max(c.latency_ms_max, to_ms(after.max_latency));
    auto total_replies = static_cast<double>(c.replies);
    auto batch = to_ms(after.total_latency - before.total_latency);
    c.latency_ms_mean = c.latency_ms_mean +
                        (batch - c.latency_ms_mean * static_cast<double>(replies)) / total_replies;
  }
  if (!reading.failures.empty()) {
    const auto& failure = reading.failures.front();
    status.last_error = fmt::format("{}: {}", failure.block, failure.error.describe());
    status.last_error_time = std::chrono::system_clock::now();
  }
}

void BusWorker::set_health(Device& device, model::Health health, const std::string& why) {
  auto index = static_cast<std::size_t>(&device - m_devices.data());
  model::Health previous;
  {
    std::lock_guard lock(m_mutex);
    previous = m_status.devices[index].health;
    m_status.devices[index].health = health;
  }
  if (previous == health) return;
  const auto& name = device.setup.name;
  auto key = "device:" + name;
  if (health == model::Health::Offline) {
    spdlog::warn("{} (id {}) stopped answering{}; retrying with backoff", name, device.setup.unit,
                 why.empty() ? "" : ": " + why);
  } else if (previous == model::Health::Offline) {
    spdlog::info("{} (id {}) answers again after {} silent cycles", name, device.setup.unit,
                 device.schedule.silent_cycles());
  } else if (health == model::Health::Online && previous == model::Health::Degraded) {
    auto suppressed = m_log_limiter.clear(key);
    spdlog::info("{}: reads complete again{}", name,
                 suppressed && *suppressed > 0
                     ? fmt::format(" ({} failed reads not logged)", *suppressed)
                     : "");
  }
}

void BusWorker::note_error(Device& device, const std::string& error) {
  auto key = "device:" + device.setup.name;
  if (auto text = m_log_limiter.admit(key, fmt::format("{}: {}", device.setup.name, error))) {
    spdlog::warn("{}", *text);
  }
}

void BusWorker::publish(Device& device, const device::Reading& reading, model::Health health) {
  auto clock = m_clock.now();
  if (clock.jump) {
    spdlog::warn(
        "the wall clock jumped by {:.3f} s (NTP or a manual change); history and energy "
        "use the new time from now on",
        duration<double>(*clock.jump).count());
  }
  auto snapshot = std::make_shared<model::DeviceSnapshot>();
  snapshot->device = device.setup.name;
  snapshot->bus = m_setup.name;
  snapshot->site = device.setup.site;
  snapshot->unit = device.setup.unit;
  snapshot->cycle = device.cycle;
  snapshot->time = clock.wall;
  snapshot->steady = clock.steady;
  snapshot->clock_trusted = clock.trusted;
  std::uint64_t rejected = 0;
  std::uint64_t resets = 0;
  for (const auto& value : reading.values) {
    const auto& field = m_map.field(value.id);
    auto sample = make_sample(field, value, clock.wall);
    auto verdict = device.validator.check(field, value.raw, sample.value);
    if (!verdict.accepted) {
      ++rejected;
      note_error(device, "rejected " + verdict.reason);
      snapshot->missing.push_back({value.id, model::Missing::Rejected, verdict.reason});
      continue;
    }
    if (verdict.counter_reset) {
      ++resets;
      snapshot->counter_resets.push_back(value.id);
      spdlog::warn(
          "{}: {} restarted from {} (statistics cleared or factory reset); energy "
          "accounting continues from the new value",
          device.setup.name, field.name, sample.value);
    }
    snapshot->fields.push_back(sample);
  }
  for (const auto& failure : reading.failures) {
    snapshot->missing.push_back({failure.id, model::Missing::ReadFailed, failure.error.describe()});
  }
  for (auto id : reading.unsupported) {
    snapshot->missing.push_back({id, model::Missing::Unsupported, "exception 2"});
  }
  sort_by_field(snapshot->fields);
  if (health == model::Health::Online && rejected > 0) health = model::Health::Degraded;
  if (health == model::Health::Degraded && !reading.failures.empty()) {
    note_error(device, fmt::format("{} reads failed, first: {} ({})", reading.failures.size(),
                                   m_map.field(reading.failures.front().id).name,
                                   reading.failures.front().error.describe()));
  }
  std::string why = reading.failures.empty() ? "" : reading.failures.front().error.describe();
  set_health(device, health, why);
  snapshot->health = health;
  {
    std::lock_guard lock(m_mutex);
    auto& status = m_status.devices[static_cast<std::size_t>(&device - m_devices.data())];
    status.counters.rejected_values += rejected;
    status.counters.counter_resets += resets;
    ++status.counters.cycles;
    if (health == model::Health::Offline) {
      ++status.counters.silent_cycles;
    } else {
      status.last_seen = clock.wall;
    }
    if (device.support_seen != device.support.generation()) {
      device.support_seen = device.support.generation();
      status.unsupported.clear();
      for (auto id : device.support.unsupported_fields()) {
        status.unsupported.push_back(m_map.field(id).name);
      }
    }
  }
  if (m_on_snapshot) m_on_snapshot(std::move(snapshot));
}

}  // namespace tracermon::poller
