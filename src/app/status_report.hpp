#pragma once
// `tracermon status` without I/O: from the daemon's /api/v1/status answer, what is wrong, the
// lines a person reads (problems first) and the summary a script parses, and the exit status.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tracermon::app {

// Exit statuses of `tracermon status`: 0 all well, 1 a problem found (a device offline or
// degraded, a port down, an output retrying, the store closed, an untrusted host clock, a
// controller clock past the drift limit), 3 the daemon not running or not answering (as
// cli_common.hpp's k_exit_comm); 2 is a usage error as everywhere.
constexpr int k_exit_problem = 1;

// What is known of the daemon besides its status answer (from <runtime_dir>/daemon.json).
struct DaemonFacts {
  int pid = 0;
  std::string config;
  std::string http;  // base URL; empty when HTTP is off
};

struct StatusLine {
  bool problem = false;
  std::string text;
};

struct StatusReport {
  int exit_code = 0;
  std::string summary;            // first line: "OK: ..." or "PROBLEM: ..."
  std::vector<StatusLine> lines;  // problems first, then in the daemon's order
  nlohmann::ordered_json json;    // what --json prints
};

// `status`: the /api/v1/status body, or one made from the state files when HTTP is off
// ("source": "state_files", devices only). Missing keys count as unknown, never as well.
StatusReport assess_status(const nlohmann::json& status, const DaemonFacts& daemon);

// The summary, then one line per item, a problem marked with "!".
std::string render_status(const StatusReport& report);

// "0.4 s", "42 s", "5 min", "3 h", "2 d".
std::string format_age(double seconds);

}  // namespace tracermon::app
