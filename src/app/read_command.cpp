// `tracermon read`: a one-shot read of some or all fields of one or more controllers, the
// modern form of `logtracer.py <id> <check>`.

#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/cli_common.hpp"
#include "app/commands.hpp"
#include "device/field_reader.hpp"
#include "protocol/decode.hpp"
#include "protocol/legacy_names.hpp"

namespace tracermon::app {

namespace {

using protocol::FieldId;
using protocol::RegisterMap;

struct ReadArgs {
  LinkOptions link;
  std::string ids;
  std::vector<std::string> fields;
  bool json = false;
};

// The old tool's `logtracer.py 1,2 filesnap` and `dbsnap` wrote files and InfluxDB points from
// cron; the daemon does both now, so a cron script calling them gets the way there.
constexpr std::string_view k_migrating_guide =
    "See /usr/share/doc/tracermon/docs/migrating.md (docs/ in the source tree)";

void refuse_old_snapshots(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (name == "filesnap") {
      throw UsageError(
          fmt::format("filesnap files are written by the daemon: set [files] filesnap = "
                      "\"/tmp/ep_tracer_{{id}}.log\" and run it (`tracermon run` or the service); "
                      "get_tracer.sh reads them as before. {}",
                      k_migrating_guide));
    }
    if (name == "dbsnap") {
      throw UsageError(fmt::format(
          "the InfluxDB point is written by the daemon: set influx_db = "
          "\"/etc/tracermon/influx.db\" (the old tool's file; its `solar` point every "
          "influx_legacy_interval, default 1m) and run it (`tracermon run` or the service). {}",
          k_migrating_guide));
    }
  }
}

std::vector<FieldId> resolve_fields(const RegisterMap& map, const std::vector<std::string>& names) {
  if (names.empty()) return protocol::all_readable_fields(map);
  refuse_old_snapshots(names);
  std::vector<FieldId> ids;
  for (const auto& name : names) {
    const auto* field = map.find(protocol::resolve_legacy_name(name));
    if (field == nullptr) {
      throw UsageError(fmt::format(
          "unknown field '{}': use a name from registers.csv (e.g. pv_voltage, battery_soc) or "
          "an old check name (pvvolt, baperc, ...); `tracermon read --help` lists them",
          name));
    }
    if (!field->readable()) {
      throw UsageError(fmt::format("field '{}' is write-only and cannot be read", name));
    }
    ids.push_back(field->id);
  }
  return ids;
}

nlohmann::ordered_json value_json(const protocol::Field& field, std::int64_t raw) {
  if (field.scale == 1) return raw;
  return protocol::scaled_value(field, raw);
}

const device::FieldValue* find_value(const device::Reading& r, FieldId id) {
  for (const auto& v : r.values) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

// The controller clock, when all three words were read and make a real date.
std::optional<protocol::ControllerTime> controller_clock(const RegisterMap& map,
                                                         const device::Reading& r) {
  const device::FieldValue* parts[3] = {};
  const char* names[3] = {"rtc_minute_second", "rtc_day_hour", "rtc_year_month"};
  for (int i = 0; i < 3; ++i) {
    parts[i] = find_value(r, map.find(names[i])->id);
    if (parts[i] == nullptr) return std::nullopt;
  }
  auto time = protocol::decode_rtc(parts[0]->words[0], parts[1]->words[0], parts[2]->words[0]);
  if (!time.valid()) return std::nullopt;
  return time;
}

void print_json(const RegisterMap& map, const std::string& port, const device::Reading& r,
                std::chrono::system_clock::time_point time) {
  nlohmann::ordered_json out;
  out["id"] = r.unit;
  out["port"] = port;
  out["time"] = rfc3339(time);
  auto values = nlohmann::ordered_json::object();
  for (const auto& field : map.fields()) {  // in register map order
    if (const auto* v = find_value(r, field.id)) values[field.name] = value_json(field, v->raw);
  }
  out["values"] = values;
  auto errors = nlohmann::ordered_json::object();
  for (const auto& f : r.failures) {
    errors[map.field(f.id).name] = fmt::format("{} ({})", f.error.describe(), f.block);
  }
  out["errors"] = errors;
  auto unsupported = nlohmann::ordered_json::array();
  for (auto id : r.unsupported)
    unsupported.push_back(map.field(id).name);
  out["unsupported"] = unsupported;
  if (auto clock = controller_clock(map, r)) out["controller_clock"] = clock->iso8601();
  std::cout << out.dump() << '\n';
}

void print_table(const RegisterMap& map, const std::string& port, const device::Reading& r,
                 std::chrono::system_clock::time_point time) {
  std::cout << fmt::format("Controller {} on {} at {}\n", r.unit, port, rfc3339(time));
  std::string group;
  for (const auto& field : map.fields()) {
    const auto* v = find_value(r, field.id);
    auto failure = std::find_if(r.failures.begin(), r.failures.end(),
                                [&](const auto& f) { return f.id == field.id; });
    if (v == nullptr && failure == r.failures.end()) continue;
    if (field.group != group) {
      group = field.group;
      std::cout << fmt::format("  [{}]\n", group);
    }
    std::string text = v != nullptr ? protocol::describe_value(map, field, v->raw)
                                    : fmt::format("-- ({})", failure->error.describe());
    std::cout << fmt::format("    {:<42} {}\n", field.name, text);
  }
  if (auto clock = controller_clock(map, r)) {
    std::cout << fmt::format("    {:<42} {}\n", "controller clock", clock->iso8601());
  }
  for (auto id : r.unsupported) {
    std::cout << fmt::format("    {:<42} not on this model (exception 2)\n", map.field(id).name);
  }
}

// One line per failed request on stderr: which device, which block, which fields and why.
void report_failures(const RegisterMap& map, const device::Reading& r) {
  std::map<std::string, std::vector<std::string>> by_block;
  std::map<std::string, std::string> reason;
  for (const auto& f : r.failures) {
    by_block[f.block].push_back(map.field(f.id).name);
    reason[f.block] = f.error.describe();
  }
  for (const auto& [block, names] : by_block) {
    std::cerr << fmt::format("tracermon: device {}: {} ({}): {}\n", r.unit, block,
                             fmt::join(names, ", "), reason[block]);
  }
}

int run_read(const ReadArgs& args) {
  const auto& map = RegisterMap::builtin();
  auto ids = parse_ids(args.ids);
  auto wanted = resolve_fields(map, args.fields);
  auto port = args.link.port_spec();
  args.link.check_no_daemon(port);
  auto client = transport::make_client(port, args.link.serial(), args.link.client());
  protocol::PlanOptions plan;
  plan.max_registers = static_cast<std::uint16_t>(args.link.max_registers);

  if (auto opened = client->open(); !opened) {
    std::cerr << fmt::format("tracermon: cannot open {}: {}\n", port.to_string(),
                             opened.error().describe());
    return k_exit_comm;
  }
  bool single_value = ids.size() == 1 && wanted.size() == 1 && !args.json;
  int status = k_exit_ok;
  device::FieldReader reader(map, *client, plan);
  for (auto id : ids) {
    protocol::DeviceSupport support;
    auto time = std::chrono::system_clock::now();
    auto reading = reader.read(id, wanted, support);
    report_failures(map, reading);
    if (!reading.failures.empty()) status = k_exit_comm;
    if (single_value) {
      const auto& field = map.field(wanted.front());
      if (const auto* v = find_value(reading, field.id)) {
        std::cout << protocol::format_value(field, v->raw) << '\n';
      } else if (!reading.unsupported.empty()) {
        std::cerr << fmt::format("tracermon: device {} does not have {} (exception 2)\n", id,
                                 field.name);
        status = k_exit_comm;
      }
    } else if (args.json) {
      print_json(map, port.to_string(), reading, time);
    } else {
      print_table(map, port.to_string(), reading, time);
    }
  }
  return status;
}

}  // namespace

Command add_read_command(CLI::App& app) {
  auto args = std::make_shared<ReadArgs>();
  auto* cmd = app.add_subcommand("read", "Read fields of one or more controllers once");
  args->link.add_to(*cmd);
  cmd->add_flag("--json", args->json, "One JSON object per controller, one per line");
  cmd->add_option("ids", args->ids, "Slave ids: 1 or 1,2,3 or 1-3")->required();
  std::string field_help = "Fields (registers.csv names or old check names:";
  for (const auto& n : protocol::legacy_names())
    field_help += fmt::format(" {}", n.legacy);
  field_help += "); none: every readable field";
  cmd->add_option("fields", args->fields, field_help);
  return [args] { return run_read(*args); };
}

}  // namespace tracermon::app
