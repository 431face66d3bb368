#pragma once
// `tracermon run`: the long-running service. Bus workers produce snapshots; the daemon merges
// each into the live state, computes site totals and hands both to its sinks (store, energy,
// files, MQTT, InfluxDB, live events: daemon_sinks.cpp), then serves HTTP. It owns their
// lifetimes. Start-up problems throw; once running, failures are reported and recovered.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"
#include "app/control_socket.hpp"
#include "app/daemon_control.hpp"
#include "control/control_service.hpp"
#include "core/log_limiter.hpp"
#include "core/unique_fd.hpp"
#include "model/live_state.hpp"
#include "poller/bus_worker.hpp"
#include "poller/clock_watch.hpp"
#include "sinks/energy_sink.hpp"
#include "sinks/filesnap_sink.hpp"
#include "sinks/influx_sink.hpp"
#include "sinks/live_events_sink.hpp"
#include "sinks/mqtt_sink.hpp"
#include "sinks/sink_fanout.hpp"
#include "sinks/state_file_sink.hpp"
#include "sinks/store_sink.hpp"
#include "store/audit_log.hpp"
#include "store/snapshot_store.hpp"
#include "web/http_server.hpp"

namespace tracermon::app {

class Daemon {
 public:
  // `demo_history_days` > 0: before polling starts, fill an empty store with that many days of
  // history from the simulated buses (`sim:` ports), which then go on from there live.
  explicit Daemon(DaemonConfig config, int demo_history_days = 0);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Before start(): one more consumer of every cycle and site total, after the configured ones
  // (tests; later features such as alerts get a row in the sink table instead).
  void add_sink(std::unique_ptr<sinks::Sink> sink) { m_sinks.add(std::move(sink)); }
  void start();
  // Stops polling, saves the energy ledgers and commits the store, then stops the outputs and
  // HTTP (which never waits for a client).
  void stop();
  // Periodic work on the main thread: store commits and retention, ledger saves.
  void tick();

  [[nodiscard]] const DaemonConfig& config() const { return m_config; }
  [[nodiscard]] int http_port() const { return m_http ? m_http->port() : 0; }
  [[nodiscard]] std::vector<model::BusStatus> bus_statuses() const;
  // Every write to a controller goes through this (CLI socket, HTTP, MQTT, clock sync).
  [[nodiscard]] control::ControlService& control() { return *m_control; }
  [[nodiscard]] std::vector<sinks::SinkCounters> sink_counters() const {
    return m_sinks.counters();
  }
  // Before start(): the counters of a daemon this one replaces (SIGHUP), for the devices both
  // have on the same bus and port, so a reload does not reset them.
  void carry_over(const std::vector<model::BusStatus>& previous);

 private:
  struct Site {
    std::string name;
    std::vector<std::string> members;  // device names, in config order
  };

  struct SinkRow {
    const char* name;
    std::unique_ptr<sinks::Sink> (Daemon::*make)();  // null when the configuration has it off
  };
  static const SinkRow k_sink_table[];  // daemon_sinks.cpp

  void on_snapshot(const model::SnapshotPtr& cycle);
  void build_sinks();
  std::unique_ptr<sinks::Sink> make_store_sink();
  std::unique_ptr<sinks::Sink> make_energy_sink();
  std::unique_ptr<sinks::Sink> make_state_file_sink();
  std::unique_ptr<sinks::Sink> make_filesnap_sink();
  std::unique_ptr<sinks::Sink> make_mqtt_sink();
  std::unique_ptr<sinks::Sink> make_influx_sink();
  std::unique_ptr<sinks::Sink> make_live_events_sink();
  [[nodiscard]] std::optional<model::DeviceStatus> device_status(
      const model::DeviceSnapshot& cycle) const;
  [[nodiscard]] std::vector<sinks::OutputStatus> output_statuses() const;
  [[nodiscard]] std::chrono::milliseconds site_max_age() const;
  void fill_demo_history(int days);  // demo_history.cpp
  // The site's totals from its members' live views, now; also set as its live view.
  model::SiteTotals update_site(const Site& site);
  void save_energy();
  void log_store_error(const std::string& key, std::string_view what, const std::string& error);
  void write_runtime_file();
  void setup_control();
  void sync_clocks();  // [control] clock_sync: daily, or when the drift passes the limit
  [[nodiscard]] nlohmann::ordered_json daemon_status() const;

  DaemonConfig m_config;
  const protocol::RegisterMap& m_map;
  poller::ClockWatch m_clock;
  model::LiveState m_live;
  std::unique_ptr<store::SnapshotStore> m_store;
  std::unique_ptr<web::HttpServer> m_http;
  sinks::SinkFanout m_sinks;  // after the store and HTTP: its threads use them until stopped
  sinks::EnergySink* m_energy = nullptr;  // one of m_sinks, when there is a store
  bool m_wants_status = false;            // a sink uses the device's counters (MQTT, InfluxDB)
  std::vector<std::unique_ptr<poller::BusWorker>> m_workers;
  std::unique_ptr<store::AuditLog> m_audit;  // beside the history; null when it is off
  std::unique_ptr<DaemonDeviceAccess> m_control_access;
  std::unique_ptr<control::ControlService> m_control;
  std::string m_control_token;  // HTTP control: empty when off
  std::unique_ptr<ControlSocket> m_control_socket;
  std::chrono::steady_clock::time_point m_last_clock_check;
  std::map<std::string, std::chrono::steady_clock::time_point> m_clock_checked;  // per device
  core::UniqueFd m_lock;  // flock on <runtime_dir>/daemon.lock: one daemon per runtime dir
  std::vector<Site> m_sites;
  std::map<std::string, const Site*> m_site_of_last_member;

  std::chrono::steady_clock::time_point m_started;
  bool m_stopped = false;
  std::chrono::steady_clock::time_point m_last_commit;
  std::chrono::steady_clock::time_point m_last_maintain;
  core::LogLimiter m_store_log;  // keys "commit" and "energy"
};

// Runs the daemon until SIGTERM/SIGINT; SIGHUP reloads the configuration file (a bad file is
// reported and the running configuration kept). Returns the exit status.
int run_daemon(const std::filesystem::path& config_file, int demo_history_days = 0);

}  // namespace tracermon::app
