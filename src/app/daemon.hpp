#pragma once
// `tracermon run`: the long-running service. It wires the layers together (bus workers ->
// snapshots -> live state, files, store, energy ledger, site totals -> HTTP) and owns their
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
#include "core/log_limiter.hpp"
#include "core/unique_fd.hpp"
#include "poller/bus_worker.hpp"
#include "poller/clock_watch.hpp"
#include "poller/energy_ledger.hpp"
#include "sinks/filesnap_sink.hpp"
#include "sinks/influx_sink.hpp"
#include "sinks/live_state.hpp"
#include "sinks/mqtt_sink.hpp"
#include "sinks/state_file_sink.hpp"
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

  void start();
  // Stops polling, saves the energy ledgers and commits the store, then stops the outputs and
  // HTTP (which never waits for a client).
  void stop();
  // Periodic work on the main thread: store commits and retention, ledger saves.
  void tick();

  [[nodiscard]] const DaemonConfig& config() const { return m_config; }
  [[nodiscard]] int http_port() const { return m_http ? m_http->port() : 0; }
  [[nodiscard]] std::vector<model::BusStatus> bus_statuses() const;
  // Before start(): the counters of a daemon this one replaces (SIGHUP), for the devices both
  // have on the same bus and port, so a reload does not reset them.
  void carry_over(const std::vector<model::BusStatus>& previous);

 private:
  struct Site {
    std::string name;
    std::vector<std::string> members;  // device names, in config order
  };

  void on_snapshot(const model::SnapshotPtr& cycle);
  void open_outputs();  // daemon_outputs.cpp
  void publish(const model::SnapshotPtr& cycle, const model::SnapshotPtr& latest);
  void publish_legacy();
  [[nodiscard]] std::optional<model::DeviceStatus> device_status(
      const model::DeviceSnapshot& cycle) const;
  [[nodiscard]] std::vector<sinks::OutputStatus> output_statuses() const;
  [[nodiscard]] std::chrono::milliseconds site_max_age() const;
  void fill_demo_history(int days);  // demo_history.cpp
  void update_site(const Site& site);
  void observe_energy(const model::DeviceSnapshot& cycle);
  // The ledgers from the store (fresh ones for devices it has none of); until then, while a
  // closed store has not opened, there are none and energy is not counted.
  void restore_ledgers();
  void save_energy();
  void log_store_error(const std::string& key, std::string_view what, const std::string& error);
  void write_runtime_file();
  [[nodiscard]] nlohmann::ordered_json daemon_status() const;

  DaemonConfig m_config;
  const protocol::RegisterMap& m_map;
  poller::ClockWatch m_clock;
  sinks::LiveState m_live;
  std::unique_ptr<store::SnapshotStore> m_store;
  std::unique_ptr<sinks::StateFileSink> m_state_files;
  std::unique_ptr<sinks::FilesnapSink> m_filesnap;
  std::vector<std::unique_ptr<poller::BusWorker>> m_workers;
  std::unique_ptr<sinks::MqttSink> m_mqtt;
  std::unique_ptr<sinks::InfluxSink> m_influx;
  std::vector<std::string> m_legacy_devices;  // the old `solar` point's devices, first first
  std::unique_ptr<web::HttpServer> m_http;
  core::UniqueFd m_lock;  // flock on <runtime_dir>/daemon.lock: one daemon per runtime dir
  std::vector<Site> m_sites;
  std::map<std::string, const Site*> m_site_of_last_member;

  std::mutex m_energy_mutex;  // ledgers are fed from every bus worker
  std::map<std::string, poller::EnergyLedger> m_ledgers;
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
