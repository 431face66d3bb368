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
using transport::ClientCounters;

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

// The client's counters that add up (every count and the total latency), a - b and a + b.
ClientCounters minus(const ClientCounters& a, const ClientCounters& b) {
  ClientCounters r;
  r.add_since(b, a);
  r.exceptions = a.exceptions - b.exceptions;
  r.total_latency = a.total_latency - b.total_latency;
  return r;
}
ClientCounters plus(const ClientCounters& a, const ClientCounters& b) {
  ClientCounters r = a;
  r.add_since({}, b);
  r.exceptions += b.exceptions;
  r.total_latency += b.total_latency;
  return r;
}

// Traffic with one device into its counters; the mean latency over all its replies.
void add_traffic(model::DeviceCounters& c, const ClientCounters& t) {
  c.add_since({}, t);
  if (t.replies > 0) {
    auto batch = to_ms(t.total_latency);
    c.latency_ms_mean += (batch - c.latency_ms_mean * static_cast<double>(t.replies)) /
                         static_cast<double>(c.replies);
  }
}

}  // namespace

BusWorker::BusWorker(BusSetup setup, const protocol::RegisterMap& map, ClockWatch& watch,
                     SnapshotCallback on_snapshot, const core::Clock& clock,
                     std::unique_ptr<transport::ModbusClient> client)
    : m_setup(std::move(setup)),
      m_map(map),
      m_watch(watch),
      m_clock(clock),
      m_on_snapshot(std::move(on_snapshot)),
      m_client(std::move(client)) {
  if (!m_client) m_client = transport::make_client(m_setup.port, m_setup.serial, m_setup.client);
  auto start = m_clock.steady_now();
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
  std::deque<Queued> dropped;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    dropped.swap(m_queue);
  }
  m_wake.notify_all();
  // Answered before the join: the request on the wire may take a timeout or two.
  for (auto& command : dropped)
    command.refuse(stopped());
  if (m_thread.joinable()) m_thread.join();
}

void BusWorker::enqueue(Queued command) {
  command.submitted = m_clock.steady_now();
  {
    std::lock_guard lock(m_mutex);
    if (!m_stop) {
      m_queue.push_back(std::move(command));
      m_wake.notify_all();
      return;
    }
  }
  command.refuse(stopped());
}

ReadFuture BusWorker::submit(ReadCommand command) {
  auto promise = std::make_shared<std::promise<ReadResult>>();
  auto future = promise->get_future();
  Queued queued;
  queued.unit = command.unit;
  queued.deadline = m_clock.steady_now() + command.timeout;
  queued.refuse = [promise](core::Error error) { promise->set_value(std::move(error)); };
  queued.run = [this, command = std::move(command), promise](transport::ModbusClient& client) {
    device::FieldReader reader(m_map, client, {m_setup.max_registers}, m_clock);
    auto* device = find(command.unit);
    protocol::DeviceSupport scratch;  // what an unconfigured id lacks is not remembered
    auto reading = reader.read(command.unit, command.fields, device ? device->support : scratch);
    promise->set_value(read_result(std::move(reading)));
  };
  enqueue(std::move(queued));
  return future;
}

ReadFuture BusWorker::read(std::uint8_t unit, std::vector<protocol::FieldId> fields) {
  return submit({unit, std::move(fields)});
}

std::future<core::Status> BusWorker::run_command(std::uint8_t unit,
                                                 std::chrono::milliseconds timeout, BusJob job) {
  auto promise = std::make_shared<std::promise<core::Status>>();
  auto future = promise->get_future();
  Queued queued;
  queued.unit = unit;
  queued.deadline = m_clock.steady_now() + timeout;
  queued.refuse = [promise](core::Error error) { promise->set_value(std::move(error)); };
  queued.run = [this, unit, job = std::move(job), promise](transport::ModbusClient& client) {
    try {
      job(client);
    } catch (const std::exception& e) {  // a job's bug must not leave its caller waiting
      promise->set_value(core::Error{ErrorKind::InvalidArgument, e.what()});
      return;
    }
    if (auto* device = find(unit)) {
      device->schedule.refresh(protocol::PollClass::Settings, m_clock.steady_now());
      device->schedule.refresh(protocol::PollClass::Slow, m_clock.steady_now());
    }
    promise->set_value(core::Ok{});
  };
  enqueue(std::move(queued));
  return future;
}

void BusWorker::post(BusJob job) {
  Queued queued;
  queued.run = std::move(job);
  queued.refuse = [](const core::Error&) {};  // nobody waits for a job
  enqueue(std::move(queued));
}

core::Error BusWorker::stopped() const {
  return core::Error{ErrorKind::Cancelled, fmt::format("bus {} stopped", m_setup.name)};
}

BusWorker::Device* BusWorker::find(std::uint8_t unit) {
  auto it = std::find_if(m_devices.begin(), m_devices.end(),
                         [&](const Device& d) { return d.setup.unit == unit; });
  return it == m_devices.end() ? nullptr : &*it;
}

bool BusWorker::serve_one() {
  Queued command;
  {
    std::lock_guard lock(m_mutex);
    if (m_stop || m_queue.empty()) return false;
    command = std::move(m_queue.front());
    m_queue.pop_front();
  }
  auto now = m_clock.steady_now();
  if (now >= command.deadline) {
    auto waited = std::chrono::duration_cast<milliseconds>(now - command.submitted);
    command.refuse(core::Error{
        ErrorKind::Timeout,
        fmt::format("bus {}: waited {} ms for the bus, not sent", m_setup.name, waited.count())});
    return true;
  }
  auto before = m_client->counters();
  command.run(*m_client);
  auto traffic = minus(m_client->counters(), before);
  m_command_traffic = plus(m_command_traffic, traffic);
  if (auto* device = command.unit ? find(*command.unit) : nullptr) {
    std::lock_guard lock(m_mutex);
    add_traffic(m_status.devices[static_cast<std::size_t>(device - m_devices.data())].counters,
                traffic);
  }
  return true;
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

bool BusWorker::link_down() const {
  return m_link_failures > 0 && m_clock.steady_now() < m_link_retry_at;
}

bool BusWorker::polls_due() const {
  if (link_down()) return false;
  auto now = m_clock.steady_now();
  return std::any_of(m_devices.begin(), m_devices.end(),
                     [&](const Device& d) { return !d.schedule.due(now).empty(); });
}

void BusWorker::run() {
  auto stopping = [this] {
    std::lock_guard lock(m_mutex);
    return m_stop;
  };
  while (!stopping()) {
    // Nothing to poll: the commands, one after another, until a poll falls due.
    while (!polls_due() && serve_one()) {
    }
    if (!link_down()) {
      for (auto& device : m_devices) {
        serve_one();  // a command waits for one block at most: the one before it
        if (stopping()) break;
        auto classes = device.schedule.due(m_clock.steady_now());
        if (!classes.empty()) poll(device, classes);
        if (link_down()) break;
      }
      std::lock_guard count(m_mutex);
      ++m_status.rounds;
    }
    auto next = core::SteadyTime::max();
    for (const auto& device : m_devices)
      next = std::min(next, device.schedule.next_due());
    if (link_down()) next = std::max(next, m_link_retry_at);
    std::unique_lock lock(m_mutex);
    m_clock.wait_until(lock, m_wake, next, [this] { return m_stop || !m_queue.empty(); });
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

std::optional<core::Error> BusWorker::probe(Device& device) {
  // The first fast field alone, without retries: a dead device costs one timeout per try.
  const protocol::Field* first = nullptr;
  for (const auto& field : m_map.fields()) {
    if (field.readable() && field.poll == PollClass::Fast && !field.optional) {
      first = &field;
      break;
    }
  }
  if (first == nullptr) return std::nullopt;
  auto saved = m_client->options().retries;
  m_client->options().retries = 0;
  m_client->reset_max_latency();
  auto before = mark();
  auto reply = m_client->read(device.setup.unit, first->table, first->address, first->width());
  m_client->options().retries = saved;
  device::Reading reading;
  reading.unit = device.setup.unit;
  if (!reply) {
    reading.failures.push_back({first->id, reply.error(), "probe"});
  }
  account(device, before, reading);
  if (reply) return std::nullopt;
  const auto& error = reply.error();
  if (is_silence(error.kind) || is_link_error(error.kind)) return error;
  return std::nullopt;  // an exception or a broken reply: someone is there
}

void BusWorker::link_failed(const core::Error& error) {
  ++m_link_failures;
  m_link_retry_at = m_clock.steady_now() + link_backoff(m_link_failures);
  auto text = error.describe();
  if (auto logged = m_log_limiter.admit("link", fmt::format("bus {}: port {} unavailable: {}",
                                                            m_setup.name, m_status.port, text))) {
    spdlog::warn("{}; retrying", *logged);
  }
  std::lock_guard lock(m_mutex);
  m_status.link_up = false;
  m_status.link_error = text;
}

void BusWorker::link_works() {
  if (m_link_failures > 0) {
    m_log_limiter.clear("link");
    spdlog::info("bus {}: port {} is back", m_setup.name, m_status.port);
  }
  m_link_failures = 0;
  std::lock_guard lock(m_mutex);
  m_status.link_up = true;
  m_status.link_error.clear();
}

void BusWorker::poll(Device& device, const std::vector<PollClass>& classes) {
  ++device.cycle;
  if (device.schedule.silent_cycles() > 0) {
    if (auto error = probe(device)) {
      // A port that is still gone keeps backing the bus off; one that is back ends that.
      if (is_link_error(error->kind)) {
        link_failed(*error);
      } else if (m_link_failures > 0) {
        link_works();
      }
      device::Reading silent;
      silent.unit = device.setup.unit;
      device.schedule.no_answer(m_clock.steady_now());
      publish(device, silent, model::Health::Offline);
      return;
    }
  }
  auto fields = wanted(device, classes);
  m_client->reset_max_latency();
  auto before = mark();
  device::FieldReader reader(m_map, *m_client, {m_setup.max_registers}, m_clock);
  auto reading = reader.read(device.setup.unit, fields, device.support, [this] { serve_one(); });
  account(device, before, reading);
  auto now = m_clock.steady_now();

  bool port_gone =
      !reading.failures.empty() && reading.values.empty() &&
      std::all_of(reading.failures.begin(), reading.failures.end(),
                  [](const device::FieldFailure& f) { return is_link_error(f.error.kind); });
  if (port_gone) {
    link_failed(reading.failures.front().error);
  } else if (m_link_failures > 0 || !reading.values.empty()) {
    link_works();
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
  device.silence = device.schedule.silent_cycles();  // for the log: answered() resets it
  device.schedule.answered(now);
  for (auto poll_class : classes) {
    bool complete = std::none_of(
        reading.failures.begin(), reading.failures.end(),
        [&](const device::FieldFailure& f) { return m_map.field(f.id).poll == poll_class; });
    device.schedule.polled(poll_class, now, complete);
  }
  if (!device.identified) {
    serve_one();
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

void BusWorker::account(Device& device, const Mark& before, const device::Reading& reading) {
  const auto& after = m_client->counters();
  auto traffic = minus(minus(after, before.client), minus(m_command_traffic, before.commands));
  std::lock_guard lock(m_mutex);
  auto& status = m_status.devices[static_cast<std::size_t>(&device - m_devices.data())];
  auto& c = status.counters;
  add_traffic(c, traffic);
  for (const auto& failure : reading.failures) {
    if (failure.error.kind == ErrorKind::Exception) ++c.exceptions[failure.error.exception_code];
  }
  if (traffic.replies > 0) {
    // Of the last reply of this read and the longest since it began; a command run between
    // its blocks can be that one.
    c.latency_ms_last = to_ms(after.last_latency);
    c.latency_ms_max = std::max(c.latency_ms_max, to_ms(after.max_latency));
  }
  if (!reading.failures.empty()) {
    const auto& failure = reading.failures.front();
    status.last_error = fmt::format("{}: {}", failure.block, failure.error.describe());
    status.last_error_time = m_clock.wall_now();
  }
}

void BusWorker::set_health(Device& device, model::Health health, const std::string& why,
                           std::size_t fields) {
  auto index = static_cast<std::size_t>(&device - m_devices.data());
  model::Health previous;
  std::string model_name;
  std::string firmware;
  {
    std::lock_guard lock(m_mutex);
    auto& status = m_status.devices[index];
    previous = status.health;
    status.health = health;
    model_name = status.model;
    firmware = status.identity.revision;
  }
  if (previous == health) return;
  const auto& name = device.setup.name;
  auto key = "device:" + name;
  bool answers = health == model::Health::Online || health == model::Health::Degraded;
  if (answers && !device.announced) {
    // Once per controller and daemon: what answers on the bus, for the journal.
    device.announced = true;
    spdlog::info(
        "{}: {} {} online, {} fields{}", name,
        model_name.empty() ? "unidentified controller" : model_name,
        firmware.empty() ? "(firmware unknown)" : firmware, fields,
        device.silence > 0 ? fmt::format(" (after {} silent cycles)", device.silence) : "");
  } else if (health == model::Health::Offline) {
    spdlog::warn("{} (id {}) stopped answering{}; retrying with backoff", name, device.setup.unit,
                 why.empty() ? "" : ": " + why);
  } else if (previous == model::Health::Offline) {
    spdlog::info("{} (id {}) answers again after {} silent cycles", name, device.setup.unit,
                 device.silence);
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
  auto clock = m_watch.now();
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
  // Each field carries the host time of its own request: the cycle's wall time less how long
  // ago (monotonic) it was read, so a slow cycle does not date early reads late (clock drift).
  auto steady_now = m_clock.steady_now();
  for (const auto& value : reading.values) {
    const auto& field = m_map.field(value.id);
    auto age = std::max(steady_now - value.read_at, core::SteadyTime::duration::zero());
    auto sample = make_sample(
        field, value, clock.wall - std::chrono::duration_cast<core::WallTime::duration>(age));
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
  set_health(device, health, why, snapshot->fields.size());
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
