// `tracermon simulate`: virtual Tracer controllers on a virtual RS-485 bus, reachable over a
// pty, Modbus TCP and RTU over TCP, with faults on demand and a control socket.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <toml++/toml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "sim/control.hpp"
#include "sim/sim_stream.hpp"
#include "slave/links.hpp"

namespace tracermon::app {

namespace {

struct SimulateArgs {
  std::string ids = "1";
  std::string profiles = "tracer-an";
  std::string profile_file;
  std::uint64_t seed = 1;
  double speed = 1;
  std::vector<std::string> pty, tcp, rtu_tcp;
  int baud = 115200;
  double turnaround_ms = 4;
  int max_registers = 125;
  std::vector<std::string> faults;
  std::string faults_file;
  std::string control;
  std::string start;
  bool separate_batteries = false;
  double cloudiness = 0.3;
  std::vector<std::string> drift;
  std::string journal;
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto at = text.find(sep, start);
    out.push_back(text.substr(start, at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::pair<std::string, std::uint16_t> host_port(const std::string& text, const char* option) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw UsageError(fmt::format(
        "{} '{}': use HOST:PORT, e.g. 127.0.0.1:5020 (port 0: any free port)", option, text));
  }
  auto host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto digits = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || port > 65535) {
    throw UsageError(fmt::format("{} '{}': '{}' is not a TCP port 0-65535", option, text, digits));
  }
  return {host, static_cast<std::uint16_t>(port)};
}

void load_faults_file(const std::string& path, sim::FaultSettings& faults) {
  toml::table doc;
  try {
    doc = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw UsageError(fmt::format("{} line {}: {}", path, e.source().begin.line, e.description()));
  }
  const auto* table = doc["faults"].as_table();
  if (table == nullptr) throw UsageError(fmt::format("{}: no [faults] table", path));
  for (const auto& [key, node] : *table) {
    auto value = node.value<double>();
    auto line = node.source().begin.line;
    if (!value) {
      throw UsageError(
          fmt::format("{} line {}: faults.{} must be a number", path, line, key.str()));
    }
    try {
      sim::apply_fault_option(faults, fmt::format("{}={}", key.str(), *value));
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("{} line {}: {}", path, line, e.what()));
    }
  }
}

sim::BusOptions bus_options(const SimulateArgs& a) {
  sim::BusOptions o;
  try {
    o.ids.clear();
    for (auto id : parse_ids(a.ids))
      o.ids.push_back(id);
    std::vector<sim::Profile> extra;
    if (!a.profile_file.empty()) {
      try {
        extra = sim::load_profiles(a.profile_file);
      } catch (const std::runtime_error& e) {
        throw UsageError(e.what());
      }
    }
    for (const auto& name : split(a.profiles, ',')) {
      auto found = std::find_if(extra.begin(), extra.end(), [&](auto& p) { return p.key == name; });
      o.profiles.push_back(found != extra.end() ? *found : sim::find_profile(name));
    }
    o.seed = a.seed;
    o.speed = a.speed;
    if (!(a.speed > 0 && a.speed <= 1e6)) throw UsageError("--speed must be above 0, at most 1e6");
    transport::check_baud(a.baud);
    o.baud = a.baud;
    if (a.turnaround_ms < 0 || a.turnaround_ms > 1000) {
      throw UsageError("--turnaround must be 0-1000 ms");
    }
    o.turnaround_ms = a.turnaround_ms;
    if (a.max_registers < 1 || a.max_registers > 125) {
      throw UsageError("--max-registers must be 1-125");
    }
    o.max_registers = static_cast<std::uint16_t>(a.max_registers);
    o.shared_battery = !a.separate_batteries;
    if (a.cloudiness < 0 || a.cloudiness > 1) throw UsageError("--cloudiness must be 0-1");
    o.cloudiness = a.cloudiness;
    if (!a.start.empty()) o.start = sim::parse_start_time(a.start);
    o.journal = a.journal;
    if (!a.faults_file.empty()) load_faults_file(a.faults_file, o.faults);
    for (const auto& f : a.faults)
      sim::apply_fault_option(o.faults, f);
    for (const auto& d : a.drift) {
      auto eq = d.find('=');
      if (eq == std::string::npos) throw UsageError(fmt::format("--drift '{}': use ID=PPM", d));
      auto ids = parse_ids(d.substr(0, eq));
      double ppm = 0;
      auto text = d.substr(eq + 1);
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ppm);
      if (ec != std::errc{} || end != text.data() + text.size() || std::abs(ppm) > 1e6) {
        throw UsageError(fmt::format("--drift '{}': PPM must be a number", d));
      }
      for (auto id : ids)
        o.drift_ppm[id] = ppm;
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (o.profiles.size() != 1 && o.profiles.size() != o.ids.size()) {
    throw UsageError(
        fmt::format("--profile names {} profiles for {} controllers: give one, or one each",
                    o.profiles.size(), o.ids.size()));
  }
  return o;
}

int run_simulate(const SimulateArgs& args) {
  auto options = bus_options(args);
  if (args.pty.empty() && args.tcp.empty() && args.rtu_tcp.empty()) {
    throw UsageError("give at least one link: --pty PATH, --tcp HOST:PORT or --rtu-tcp HOST:PORT");
  }
  std::vector<std::pair<std::string, std::uint16_t>> tcp, rtu_tcp;
  for (const auto& t : args.tcp)
    tcp.push_back(host_port(t, "--tcp"));
  for (const auto& t : args.rtu_tcp)
    rtu_tcp.push_back(host_port(t, "--rtu-tcp"));

  // Signals go to this thread's sigwait, not to the link threads started below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<sim::SimulatedBus> owned;
  try {
    owned = std::make_unique<sim::SimulatedBus>(options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  auto& bus = *owned;
  std::vector<std::unique_ptr<slave::PtyLink>> ptys;
  std::vector<std::unique_ptr<slave::TcpLink>> sockets;
  std::unique_ptr<sim::ControlServer> control;
  try {
    for (const auto& path : args.pty) {
      ptys.push_back(std::make_unique<slave::PtyLink>(bus, path, "simulate"));
      std::cout << "pty " << path << '\n';
    }
    for (const auto& [host, port] : tcp) {
      sockets.push_back(std::make_unique<slave::TcpLink>(
          bus, host, port, slave::TcpLink::Framing::ModbusTcp, "simulate"));
      std::cout << fmt::format("tcp {}:{}\n", host, sockets.back()->port());
    }
    for (const auto& [host, port] : rtu_tcp) {
      sockets.push_back(std::make_unique<slave::TcpLink>(bus, host, port,
                                                         slave::TcpLink::Framing::Rtu, "simulate"));
      std::cout << fmt::format("rtu-tcp {}:{}\n", host, sockets.back()->port());
    }
    if (!args.control.empty()) {
      std::function<void(double)> unplug;
      if (!ptys.empty()) {
        unplug = [&ptys](double ms) {
          for (auto& p : ptys)
            p->unplug(ms);
        };
      }
      control = std::make_unique<sim::ControlServer>(bus, args.control, unplug);
      std::cout << "control " << args.control << '\n';
    }
  } catch (const std::runtime_error& e) {
    std::cerr << "tracermon: " << e.what() << '\n';
    return 1;
  }
  std::vector<int> ids(options.ids.begin(), options.ids.end());
  std::cerr << fmt::format("tracermon: simulating {} controller(s), ids {}, at {}x speed\n",
                           ids.size(), fmt::join(ids, ","), options.speed);
  std::cout << "ready" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cerr << "tracermon: simulator stopping\n";
  return 0;
}

}  // namespace

Command add_simulate_command(CLI::App& app) {
  auto a = std::make_shared<SimulateArgs>();
  auto* cmd =
      app.add_subcommand("simulate", "Simulated Tracer controllers on a virtual RS-485 bus");
  cmd->add_option("--ids", a->ids, "Slave ids: 1 or 1,2,3 or 1-3")->capture_default_str();
  cmd->add_option("--profile", a->profiles,
                  "Model profile(s): tracer-an, tracer-2206an, tracer-bn, ls-b or one from "
                  "--profile-file; one for all, or one per id separated by commas")
      ->capture_default_str();
  cmd->add_option("--profile-file", a->profile_file, "TOML file with [profile.NAME] tables");
  cmd->add_option("--seed", a->seed, "Seed of the weather and the faults")->capture_default_str();
  cmd->add_option("--speed", a->speed, "Simulated seconds per real second")->capture_default_str();
  cmd->add_option("--pty", a->pty, "Create a pseudo-terminal with a symlink at PATH (serial RTU)");
  cmd->add_option("--tcp", a->tcp, "Serve Modbus TCP on HOST:PORT (port 0: any free port)");
  cmd->add_option("--rtu-tcp", a->rtu_tcp, "Serve RTU over TCP on HOST:PORT, like a Wi-Fi bridge");
  cmd->add_option("-b,--baud", a->baud, "Line speed the replies leave at")->capture_default_str();
  cmd->add_option("--turnaround", a->turnaround_ms,
                  "Milliseconds before a reply starts (plus 0.5 ms per register read)")
      ->capture_default_str();
  cmd->add_option("--max-registers", a->max_registers,
                  "Registers a read may ask for; more gets exception 3")
      ->capture_default_str();
  cmd->add_option("--fault", a->faults,
                  fmt::format("NAME=RATE (chance per request; {}), late-ms=MS, unplug-ms=MS or "
                              "unit=ID",
                              sim::fault_names()));
  cmd->add_option("--faults", a->faults_file, "TOML file with a [faults] table of the same keys");
  cmd->add_option("--control", a->control,
                  "Unix socket for run-time commands (see docs/simulator.md)");
  cmd->add_option("--start", a->start,
                  "Controller clock at start, YYYY-MM-DDTHH:MM:SS (default: now)");
  cmd->add_flag("--separate-batteries", a->separate_batteries,
                "Every controller has its own battery (default: one PAL-ADP group)");
  cmd->add_option("--cloudiness", a->cloudiness, "0 clear sky .. 1 overcast")
      ->capture_default_str();
  cmd->add_option("--drift", a->drift, "ID=PPM: that controller's clock runs fast (or slow)");
  cmd->add_option("--journal", a->journal,
                  "Append every register value served to FILE, one JSON line per reply (for "
                  "checking what a master stored)");
  return [a] { return run_simulate(*a); };
}

}  // namespace tracermon::app
