// `tracermon scan`: which controllers answer on a port, with model, firmware and rating.

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "app/probe.hpp"
#include "device/field_reader.hpp"
#include "protocol/decode.hpp"
#include "protocol/device_identity.hpp"

namespace tracermon::app {

namespace {

using protocol::RegisterMap;

struct ScanArgs {
  LinkOptions link;
  std::string ids = "1-16";
  bool json = false;
};

nlohmann::ordered_json to_json(const RegisterMap& map, const ProbedController& f) {
  nlohmann::ordered_json out;
  out["id"] = f.id;
  auto text = [](const std::string& s) -> nlohmann::ordered_json {
    if (s.empty()) return nullptr;
    return s;
  };
  out["vendor"] = f.identity ? text(f.identity->vendor) : nullptr;
  out["model"] = f.identity ? text(f.identity->product_code) : nullptr;
  out["firmware"] = f.identity ? text(f.identity->revision) : nullptr;
  out["serial"] = f.identity ? text(f.identity->serial) : nullptr;
  for (const auto* name : k_rated_fields) {
    const auto& field = *map.find(name);
    out[name] = nullptr;
    for (const auto& v : f.rated.values) {
      if (v.id != field.id) continue;
      if (field.scale == 1) {
        out[name] = v.raw;
      } else {
        out[name] = protocol::scaled_value(field, v.raw);
      }
    }
  }
  return out;
}

int run_scan(const ScanArgs& args) {
  const auto& map = RegisterMap::builtin();
  auto ids = parse_ids(args.ids);
  auto port = args.link.port_spec();
  args.link.check_no_daemon(port);
  auto client = transport::make_client(port, args.link.serial(), args.link.client());
  // Most ids of a scan are absent: a sync before each would double the time it takes.
  client->options().sync_first = false;
  if (auto opened = client->open(); !opened) {
    std::cerr << fmt::format("tracermon: cannot open {}: {}\n", port.to_string(),
                             opened.error().describe());
    return k_exit_comm;
  }
  bool header_shown = false;
  auto show = [&](const ProbedController& f) {
    if (args.json) {
      std::cout << to_json(map, f).dump() << std::endl;
      return;
    }
    if (!header_shown) {
      std::cout << fmt::format("{:>3}  {:<16} {:<18} {:>8} {:>8} {:>8}  {}\n", "ID", "MODEL",
                               "FIRMWARE", "BATT V", "BATT A", "PV V", "SERIAL");
      header_shown = true;
    }
    auto firmware = f.identity && !f.identity->revision.empty() ? f.identity->revision
                                                                : std::string("(unknown)");
    std::cout << fmt::format(
        "{:>3}  {:<16} {:<18} {:>8} {:>8} {:>8}  {}\n", f.id, model_text(f), firmware,
        rated_text(map, f, "battery_rated_voltage"), rated_text(map, f, "battery_rated_current"),
        rated_text(map, f, "pv_rated_voltage"), f.identity ? f.identity->serial : "");
  };
  auto found = probe_controllers(map, *client, args.link.max_registers, ids, show);
  if (found.empty()) {
    std::cerr << fmt::format(
        "tracermon: no controller answered on {} (ids {}); check wiring "
        "(swap A/B), baud rate and ids\n",
        port.to_string(), args.ids);
    return k_exit_comm;
  }
  if (!args.json) std::cout << fmt::format("{} controller(s) found\n", found.size());
  return k_exit_ok;
}

}  // namespace

Command add_scan_command(CLI::App& app) {
  auto args = std::make_shared<ScanArgs>();
  args->link.timeout_ms = 300;  // a scan waits briefly for each absent id
  args->link.retries = 0;
  auto* cmd = app.add_subcommand("scan", "List the controllers that answer on a port");
  args->link.add_to(*cmd);
  cmd->add_option("--ids", args->ids, "Ids to probe: 1-16, 1-247, 1,3,5")->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON object per controller found, one per line");
  return [args] { return run_scan(*args); };
}

}  // namespace tracermon::app
