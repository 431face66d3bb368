#include "app/daemon.hpp"

#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <set>
#include <sys/file.h>
#include <systemd/sd-daemon.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli_common.hpp"
#include "app/logging.hpp"
#include "core/atomic_file.hpp"
#include "core/build_info.hpp"
#include "format/snapshot_json.hpp"
#include "format/status_json.hpp"
#include "poller/site_totals.hpp"

namespace tracermon::app {

using model::SnapshotPtr;
using std::chrono::steady_clock;

namespace {

poller::BusSetup bus_setup(const BusConfig& bus, const PollConfig& poll) {
  poller::BusSetup setup;
  setup.name = bus.name;
  setup.port = bus.port;
  setup.serial = bus.serial;
  setup.client = bus.client;
  setup.max_registers = bus.max_registers;
  setup.intervals = poll.intervals();
  for (const auto& d : bus.devices)
    setup.devices.push_back({d.id, d.name, d.site, d.model});
  return setup;
}

core::UniqueFd lock_runtime_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("runtime_dir {}: cannot create it: {}", dir.string(), ec.message()));
  }
  auto path = dir / "daemon.lock";
  core::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) {
    throw std::runtime_error(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    throw std::runtime_error(
        fmt::format("another tracermon daemon is running with runtime_dir {} (see {}/daemon.json)",
                    dir.string(), dir.string()));
  }
  return fd;
}

}  // namespace

Daemon::Daemon(DaemonConfig config, int demo_history_days)
    : m_config(std::move(config)), m_map(protocol::RegisterMap::builtin()) {
  m_started = steady_clock::now();
  m_last_commit = m_started;
  m_last_maintain = m_started;
  m_lock = lock_runtime_dir(m_config.runtime_dir);
  if (m_config.store.enabled) {
    store::StoreOptions options;
    options.path = m_config.store.path;
    options.raw_days = m_config.store.raw_days;
    options.minute_days = m_config.store.minute_days;
    options.hour_days = m_config.store.hour_days;
    options.day_days = m_config.store.day_days;
    // A store that cannot be opened now (full disk, I/O error, read-only file system) must not
    // cost live monitoring: the daemon starts with it closed and commits try again.
    // --demo-history needs it at once.
    auto when = demo_history_days > 0 ? store::SnapshotStore::Open::Now
                                      : store::SnapshotStore::Open::OrLater;
    m_store = std::make_unique<store::SnapshotStore>(options, when);
    if (!m_store->is_open()) {
      log_store_error("commit",
                      "cannot open the history; running without it (live values and outputs go "
                      "on) and trying again",
                      m_store->last_error());
    }
  }
  std::map<std::string, Site> sites;
  for (const auto& bus : m_config.buses) {
    for (const auto& device : bus.devices) {
      if (!device.site.empty()) {
        sites[device.site].name = device.site;
        sites[device.site].members.push_back(device.name);
      }
    }
  }
  for (auto& [name, site] : sites)
    m_sites.push_back(std::move(site));
  for (const auto& site : m_sites)
    m_site_of_last_member[site.members.back()] = &site;
  setup_control();  // before the sinks: MQTT takes commands
  build_sinks();
  // Until a closed store opens, energy is not counted: a fresh ledger would later overwrite
  // the saved one. The counters are totals, so the energy of the wait is counted then.
  if (m_energy && m_store->is_open()) m_energy->restore();
  if (demo_history_days > 0) fill_demo_history(demo_history_days);

  for (const auto& bus : m_config.buses) {
    m_workers.push_back(std::make_unique<poller::BusWorker>(
        bus_setup(bus, m_config.poll), m_map, m_clock,
        [this](const SnapshotPtr& cycle) { on_snapshot(cycle); }));
  }
}

Daemon::~Daemon() {
  stop();
}

void Daemon::start() {
  if (m_config.http.enabled) {
    web::DaemonView view;
    view.map = &m_map;
    view.live = &m_live;
    view.buses = [this] { return bus_statuses(); };
    view.store = m_store.get();
    view.intervals = m_config.poll.intervals();
    view.daemon_status = [this] { return daemon_status(); };
    view.outputs = [this] { return output_statuses(); };
    if (m_config.control.enabled) {
      view.control = m_control.get();
      view.control_token = m_control_token;
    }
    m_http = std::make_unique<web::HttpServer>(std::move(view));
    m_http->start(m_config.http.host, m_config.http.port);
  }
  // Said before the sinks and workers run: they log from their own threads from then on.
  spdlog::info("tracermon {} polling {} bus(es){}", build_info::k_description, m_workers.size(),
               m_http ? fmt::format("; http://{}:{}/", m_config.http.host, m_http->port()) : "");
  m_sinks.start();
  for (auto& worker : m_workers)
    worker->start();
  m_control_socket = std::make_unique<ControlSocket>(
      m_config.runtime_dir / "control.sock", [this](const nlohmann::json& request) {
        auto result = m_control->handle_json(request, control::Source::Cli);
        auto out = control::to_json(m_control->catalog(), result);
        out["status"] = result.status;
        return out;
      });
  try {
    m_control_socket->start();
  } catch (const std::exception& e) {
    // Monitoring goes on; only the CLI's writes through the daemon are unavailable.
    spdlog::error("control: {}; `tracermon set/load/clock` cannot reach this daemon", e.what());
    m_control_socket.reset();
  }
  write_runtime_file();
}

void Daemon::stop() {
  if (m_stopped) return;  // run_daemon stops it, then the destructor would again
  m_stopped = true;
  if (m_control_socket) m_control_socket->stop();  // no new writes; one running finishes first
  for (auto& worker : m_workers)
    worker->stop();
  // What the workers delivered is made safe first, before anything that talks to the network
  // is stopped: systemd's SIGKILL after TimeoutStopSec must not cost samples or energy.
  m_sinks.drain();
  save_energy();
  if (m_store) {
    auto committed = m_store->commit();
    if (!committed) spdlog::error("store: final commit failed: {}", committed.error().message);
  }
  // After the workers: nothing is offered any more; what is undelivered goes to the outboxes.
  m_sinks.stop();
  if (m_http) m_http->stop();  // never waits for a client: their sockets are shut down
}

void Daemon::write_runtime_file() {
  nlohmann::ordered_json info{
      {"pid", ::getpid()},
      {"config", m_config.file.string()},
      {"http", m_http ? fmt::format("http://{}:{}/", m_config.http.host, m_http->port()) : ""}};
  auto ports = nlohmann::ordered_json::array();
  for (const auto& bus : m_config.buses)
    ports.push_back(bus.port.to_string());
  info["ports"] = ports;
  auto written =
      core::write_file_atomically(m_config.runtime_dir / "daemon.json", info.dump(1) + "\n");
  if (!written) spdlog::warn("{}", written.error().message);
}

void Daemon::carry_over(const std::vector<model::BusStatus>& previous) {
  for (auto& worker : m_workers) {
    for (const auto& bus : previous) {
      if (bus.name == worker->setup().name && bus.port == worker->setup().port.to_string()) {
        worker->carry_over(bus);
      }
    }
  }
}

std::vector<model::BusStatus> Daemon::bus_statuses() const {
  std::vector<model::BusStatus> out;
  out.reserve(m_workers.size());
  for (const auto& worker : m_workers)
    out.push_back(worker->status());
  return out;
}

nlohmann::ordered_json Daemon::daemon_status() const {
  nlohmann::ordered_json out;
  out["version"] = TRACERMON_VERSION_STRING;
  out["uptime_s"] = std::chrono::duration<double>(steady_clock::now() - m_started).count();
  out["clock_jumps"] = m_clock.jumps();
  // Whether values are filed now (a wall clock before the release's year is not believed),
  // whether the kernel says NTP keeps it right, and the controllers' drift limit.
  out["clock"] = {
      {"trusted", std::chrono::system_clock::now() >= poller::ClockWatch::trust_floor()},
      {"synchronised", control::host_clock_synchronised()},
      {"max_drift_s", m_config.control.clock_max_drift.count()}};
  auto outputs = nlohmann::ordered_json::array();
  for (const auto& output : output_statuses())
    outputs.push_back(format::output_status_json(output));
  out["outputs"] = std::move(outputs);
  auto sinks = nlohmann::ordered_json::array();
  for (const auto& sink : m_sinks.counters()) {
    sinks.push_back({{"name", sink.name},
                     {"delivered", sink.delivered},
                     {"failed", sink.failed},
                     {"dropped", sink.dropped},
                     {"queued", sink.queued}});
  }
  out["sinks"] = std::move(sinks);
  if (m_store) {
    out["store"] = {{"path", m_config.store.path.string()},
                    {"open", m_store->is_open()},
                    {"buffered", m_store->buffered()},
                    {"dropped", m_store->dropped()},
                    {"last_error", m_store->last_error()}};
  } else {
    out["store"] = nullptr;
  }
  return out;
}

void Daemon::on_snapshot(const SnapshotPtr& cycle) {
  auto latest = m_live.merge(*cycle);
  std::optional<model::DeviceStatus> status;
  if (m_wants_status) status = device_status(*cycle);
  m_sinks.cycle({cycle, latest, std::move(status), &m_live});
  if (auto it = m_site_of_last_member.find(cycle->device); it != m_site_of_last_member.end()) {
    m_sinks.site(update_site(*it->second));
  }
}

model::SiteTotals Daemon::update_site(const Site& site) {
  std::vector<SnapshotPtr> members;
  for (const auto& name : site.members) {
    auto snapshot = m_live.device(name);
    if (!snapshot) {
      auto placeholder = std::make_shared<model::DeviceSnapshot>();
      placeholder->device = name;
      snapshot = placeholder;
    }
    members.push_back(snapshot);
  }
  auto totals =
      poller::compute_site_totals(m_map, site.name, members, steady_clock::now(), site_max_age());
  totals.clock_trusted = totals.time >= poller::ClockWatch::trust_floor();
  m_live.set_site(site.name, format::site_totals_json(totals));
  return totals;
}

void Daemon::save_energy() {
  if (m_energy == nullptr) return;
  if (auto error = m_energy->save()) {
    log_store_error("energy", "cannot save energy accounting", *error);
  } else if (m_store_log.clear("energy")) {
    spdlog::info("store: energy accounting saved again");
  }
}

void Daemon::log_store_error(const std::string& key, std::string_view what,
                             const std::string& error) {
  // A full disk fails every commit: the first failure is logged, then one line per quiet
  // period with the count.
  if (auto text = m_store_log.admit(key, fmt::format("store: {}: {}", what, error))) {
    spdlog::error("{}", *text);
  }
}

void Daemon::tick() {
  auto now = steady_clock::now();
  m_control_access->sample();
  if (m_config.control.clock_sync != "off" && now - m_last_clock_check >= std::chrono::minutes(1)) {
    m_last_clock_check = now;
    sync_clocks();
  }
  if (!m_store) return;
  if (now - m_last_commit >= m_config.store.commit_interval) {
    m_last_commit = now;
    bool was_open = m_store->is_open();
    auto buffered = m_store->buffered();
    auto committed = m_store->commit();
    if (!was_open && m_store->is_open()) {
      spdlog::info("store: {} is open{}", m_config.store.path.string(),
                   committed ? fmt::format("; {} records kept in memory filed", buffered) : "");
      (void)m_store_log.clear("commit");  // said; a failure of the first commit is news
      if (m_energy) m_energy->restore();
    }
    if (!committed) {
      log_store_error(
          "commit",
          fmt::format("{}, keeping {} records in memory",
                      m_store->is_open() ? "commit failed" : "not open", m_store->buffered()),
          committed.error().message);
    } else if (m_store_log.clear("commit")) {
      spdlog::info("store: commits succeed again");
    }
    save_energy();
  }
  if (now - m_last_maintain >= std::chrono::hours(1)) {
    m_last_maintain = now;
    auto maintained = m_store->maintain(epoch_ms(std::chrono::system_clock::now()));
    if (!maintained) spdlog::error("store: retention failed: {}", maintained.error().message);
  }
}

namespace {

void configure_logging(const DaemonConfig& config) {
  configure_daemon_logging(config.log.level);
}

}  // namespace

int run_daemon(const std::filesystem::path& config_file, int demo_history_days) {
  // Signals are taken synchronously on this thread; every thread started later inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP})
    sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto config = load_config(config_file);
  configure_logging(config);
  auto daemon = std::make_unique<Daemon>(config, demo_history_days);
  daemon->start();
  sd_notify(0, "READY=1");
  std::uint64_t watchdog_usec = 0;
  bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  timespec wait{0, 500'000'000};
  for (;;) {
    int signal = sigtimedwait(&signals, nullptr, &wait);
    if (signal == SIGTERM || signal == SIGINT) {
      spdlog::info("stopping on {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (signal == SIGHUP) {
      std::optional<DaemonConfig> fresh;
      try {
        fresh = load_config(config_file);
      } catch (const ConfigError& e) {
        spdlog::error("reload refused, keeping the running configuration: {}", e.what());
      }
      if (fresh) {
        sd_notify(0, "RELOADING=1");
        if (watchdog) sd_notify(0, "WATCHDOG=1");
        auto previous = daemon->bus_statuses();
        daemon->stop();
        daemon.reset();
        try {
          configure_logging(*fresh);
          daemon = std::make_unique<Daemon>(*fresh);
          daemon->carry_over(previous);
          daemon->start();
          config = std::move(*fresh);
          spdlog::info("configuration reloaded from {}", config_file.string());
        } catch (const std::exception& e) {
          spdlog::error("reload failed ({}); going back to the previous configuration", e.what());
          daemon.reset();
          configure_logging(config);
          daemon = std::make_unique<Daemon>(config);
          daemon->carry_over(previous);
          daemon->start();
        }
        sd_notify(0, "READY=1");
        if (watchdog) sd_notify(0, "WATCHDOG=1");
      }
    }
    daemon->tick();
    if (watchdog) sd_notify(0, "WATCHDOG=1");
  }
  sd_notify(0, "STOPPING=1");
  daemon->stop();
  return 0;
}

}  // namespace tracermon::app
