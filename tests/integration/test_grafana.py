"""The Grafana dashboard (deploy/grafana/dashboards/tracermon.json) against a real InfluxDB 1.x.

Two controllers and their site are written for the last two days in tracermon's InfluxDB schema
(src/format/influx_lines.hpp; names from data/registers.csv, the status-word layouts of
src/protocol/decode.cpp and the site fields of src/model/site_totals.cpp), then every query of
every panel is run with Grafana's macros filled in: each must return data in every column, so a
misspelt field, measurement or tag shows up here rather than as an empty panel.
"""

import csv
import math
import random
import re
import time
import unittest
from datetime import datetime, timezone

from peers import DATA, ROOT
from tsdb import (InfluxError, InfluxServer, dashboard_panels, dashboard_queries,
                  load_dashboard, null_columns, variable_queries)

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "tracermon.json"
DATASOURCE = {"type": "influxdb", "uid": "tracermon-influxdb"}
DB = "tracermon"
PREFIX = "tracer"
SITE = "home"
DEVICES = (("east", 1, "bus1"), ("west-2", 2, "bus1"))  # (name, Modbus id, bus)
STEP_S = 300  # one cycle every 5 minutes over two days
SPAN_S = 2 * 86400
NUMERIC_PANELS = ("timeseries", "stat", "gauge", "bargauge", "barchart")
GRAFANA_UNITS = {"V": "volt", "A": "amp", "W": "watt", "kWh": "kwatth", "%": "percent",
                 "degC": "celsius"}
COMM_COUNTERS = ("requests", "replies", "timeouts", "crc_errors", "bad_replies", "wrong_unit",
                 "echoes", "noise_bytes", "late_replies", "other_master", "retries",
                 "link_errors", "rejected_values", "counter_resets")


# --- What tracermon writes, taken from the project's own definitions -----------------------

def registers():
    with open(DATA / "registers.csv", newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["group"] not in ("rtc", "coils")]


def enum_meanings():
    """enums.csv: register (with bit range, e.g. '0x3201[D3-D2]') -> {value: meaning}."""
    out = {}
    with open(DATA / "enums.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["register_hex"], {})[int(row["value"])] = row["meaning"]
    return out


def status_layouts():
    """{status field: ([(state key, hi, lo)], [(flag key, bit)])} from decode.cpp's table."""
    text = (ROOT / "src" / "protocol" / "decode.cpp").read_text()
    layouts = {}
    blocks = re.split(r'\{"(\w+_status)",', text)
    for name, block in zip(blocks[1::2], blocks[2::2]):
        states = [(k, int(hi), int(lo)) for k, hi, lo in
                  re.findall(r'\{"(\w+)",\s*(\d+),\s*(\d+)\}', block)]
        flags = [(k, int(bit)) for k, bit in re.findall(r'\{"(\w+)",\s*(\d+),\s*"', block)]
        layouts[name] = (states, flags)
    if sorted(layouts) != ["battery_status", "charging_equipment_status",
                           "discharging_equipment_status"] or not all(
                               f for _, f in layouts.values()):
        raise AssertionError(f"could not read the status layouts of decode.cpp: {layouts}")
    return layouts


def site_field_units():
    """{site field: unit} from the site field table of src/model/site_totals.cpp."""
    text = (ROOT / "src" / "model" / "site_totals.cpp").read_text()
    fields = dict(re.findall(r'^\s*\{+"(\w+)",\s*"([^"]*)"', text, re.M))
    if "pv_power" not in fields:
        raise AssertionError("could not read the site fields of site_totals.cpp")
    return fields


def status_flag_key(field, flag):
    """As sinks::status_flag_key: the status field without "_status", then the flag."""
    return f"{field[:-len('_status')] if field.endswith('_status') else field}_{flag}"


# --- Line protocol --------------------------------------------------------------------------

def escape_key(text):
    return re.sub(r"([,= ])", r"\\\1", text)


def field_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line(measurement, tags, fields, t):
    tag_text = "".join(f",{escape_key(k)}={escape_key(str(v))}" for k, v in tags)
    field_list = ",".join(f"{escape_key(k)}={field_text(v)}" for k, v in fields.items())
    name = re.sub(r"([, ])", r"\\\1", measurement)
    return f"{name}{tag_text} {field_list} {t}"


class History:
    """Two days of two controllers on one battery, the way tracermon would have written them:
    a day/night PV curve, the 'today' counters cleared at midnight (UTC), a fault for an hour,
    cumulative bus counters."""

    def __init__(self, now_s):
        self.rows = registers()
        self.enums = enum_meanings()
        self.layouts = status_layouts()
        self.site_fields = site_field_units()
        self.addresses = {r["name_snake_case"]: r["address_hex"] for r in self.rows}
        self.lines = []
        self.day_max = {}  # (device, UTC day start) -> highest generated_energy_today
        rng = random.Random(7)
        start = now_s - SPAN_S + 600
        times = list(range(start, now_s - 60, STEP_S))
        state = {name: {"gen_today": 0.0, "con_today": 0.0, "gen_total": 100.0 * (i + 1),
                        "con_total": 50.0 * (i + 1), "comm": dict.fromkeys(COMM_COUNTERS, 0)}
                 for i, (name, _, _) in enumerate(DEVICES)}
        previous_day = None
        for n, t in enumerate(times):
            day = t - t % 86400
            if day != previous_day:
                for s in state.values():
                    s["gen_today"] = s["con_today"] = 0.0
                previous_day = day
            hour = (t % 86400) / 3600
            sun = max(0.0, math.sin(math.pi * (hour - 6) / 12))
            site_values = []
            for i, (name, unit_id, bus) in enumerate(DEVICES):
                tags = [("bus", bus), ("device", name), ("device_id", unit_id), ("site", SITE)]
                values = self.device_values(rng, state[name], sun, i, fault=(n // 12 == 20))
                site_values.append(values)
                self.device_lines(tags, values, t, every_hour=(n % 12 == 0))
                self.comm_line(rng, tags, state[name]["comm"], t)
                key = (name, day)
                self.day_max[key] = max(self.day_max.get(key, 0.0),
                                        values["generated_energy_today"])
            self.site_line(site_values, t)

    def device_values(self, rng, s, sun, index, fault):
        v = {}
        v["pv_voltage"] = round(17.5 + 3 * sun + rng.uniform(-0.2, 0.2), 2) if sun else 0.4
        v["pv_current"] = round(8 * sun * (1 - 0.2 * index), 2)
        v["pv_power"] = round(v["pv_voltage"] * v["pv_current"], 2)
        v["battery_voltage"] = round(12.6 + 1.6 * sun, 2)
        v["battery_charging_current"] = round(0.95 * v["pv_power"] / v["battery_voltage"], 2)
        v["battery_charging_power"] = round(v["battery_voltage"] * v["battery_charging_current"], 2)
        v["load_voltage"] = v["battery_voltage"]
        v["load_power"] = round(20 + rng.uniform(0, 10), 2)
        v["load_current"] = round(v["load_power"] / v["load_voltage"], 2)
        v["battery_current_net"] = round(v["battery_charging_current"] - v["load_current"], 2)
        v["battery_soc"] = float(round(55 + 40 * sun))
        v["battery_temperature"] = round(18 + 6 * sun, 2)
        v["device_temperature"] = round(24 + 12 * sun, 2)
        v["power_components_temperature"] = round(27 + 20 * sun, 2)
        v["battery_real_rated_voltage"] = 12.0
        s["gen_today"] += v["pv_power"] * STEP_S / 3.6e6
        s["con_today"] += v["load_power"] * STEP_S / 3.6e6
        s["gen_total"] += v["pv_power"] * STEP_S / 3.6e6
        s["con_total"] += v["load_power"] * STEP_S / 3.6e6
        v["generated_energy_today"] = round(s["gen_today"], 2)
        v["consumed_energy_today"] = round(s["con_today"], 2)
        v["generated_energy_total"] = round(s["gen_total"], 2)
        v["consumed_energy_total"] = round(s["con_total"], 2)
        phase = 0 if not sun else (2 if sun > 0.6 else 1)  # enums.csv 0x3201[D3-D2]
        v["_status"] = {
            "battery_status": ({}, {}),
            "charging_equipment_status": ({"charging_phase": phase},
                                          {"running": bool(sun), "fault": fault}),
            "discharging_equipment_status": ({}, {"running": True, "fault": False}),
        }
        v["_discrete"] = {"day_night": not sun, "over_temperature_inside_device": fault}
        return v

    def device_lines(self, tags, values, t, every_hour):
        groups = {}
        for row in self.rows:
            group, name, kind = row["group"], row["name_snake_case"], row["type"]
            if row["poll"] in ("once", "settings") and not every_hour:
                continue
            if group == "status":
                continue  # below, from the layouts
            if group == "discrete":
                value = values["_discrete"][name]
            elif kind in ("enum", "bitfield"):
                codes = self.enums.get(row["address_hex"], {0: ""})
                value = min(codes)
            else:
                value = float(values.get(name, round(1 + int(row["address_hex"], 16) % 97, 2)))
            groups.setdefault(group, {})[name] = value
        status = {}
        for field, (states, flags) in self.layouts.items():
            state_values, flag_values = values["_status"][field]
            word = 0
            for key, hi, lo in states:
                word |= state_values.get(key, 0) << lo
            for key, bit in flags:
                word |= int(flag_values.get(key, False)) << bit
            status[field] = word
            for key, bit in flags:
                status[status_flag_key(field, key)] = bool(word >> bit & 1)
            # Multi-bit states as their meaning: charging_phase as it is, the others named like
            # a flag with "_state" (battery_voltage_state), as in the MQTT state message.
            for key, hi, lo in states:
                name = key if key == "charging_phase" else status_flag_key(field, key) + "_state"
                meanings = self.enums[f"{self.addresses[field]}[D{hi}-D{lo}]"]
                status[name] = meanings[state_values.get(key, 0)]
        groups["status"] = status
        for group, fields in groups.items():
            self.lines.append(line(f"{PREFIX}_{group}", tags, fields, t))

    def comm_line(self, rng, tags, counters, t):
        counters["requests"] += 34
        timeouts = 1 if rng.random() < 0.1 else 0
        counters["timeouts"] += timeouts
        counters["retries"] += timeouts
        counters["replies"] += 34 - timeouts
        counters["crc_errors"] += 1 if rng.random() < 0.05 else 0
        fields = dict(counters)
        fields["latency_ms_mean"] = round(rng.uniform(20, 40), 2)
        fields["latency_ms_max"] = round(fields["latency_ms_mean"] + rng.uniform(5, 60), 2)
        fields["health"] = "degraded" if timeouts else "online"
        self.lines.append(line(f"{PREFIX}_comm", tags, fields, t))

    def site_line(self, members, t):
        fields = {}
        for name in self.site_fields:
            if name == "battery_voltage":
                fields[name] = round(sum(m[name] for m in members) / len(members), 2)
            elif name == "battery_soc":
                fields[name] = members[0][name]
            else:
                fields[name] = round(sum(m[name] for m in members), 2)
        self.lines.append(line(f"{PREFIX}_site", [("site", SITE)], fields, t))


def query_fields(query):
    """The field names a query reads: the quoted arguments of its functions."""
    return re.findall(r'\w+\("(\w+)"\)', query)


class DashboardJson(unittest.TestCase):
    """The file Grafana provisions: well formed and consistent with the schema."""

    @classmethod
    def setUpClass(cls):
        cls.dashboard = load_dashboard(DASHBOARD)
        cls.panels = dashboard_panels(cls.dashboard)

    def test_identity(self):
        self.assertEqual(self.dashboard["uid"], "tracermon")
        self.assertEqual(self.dashboard["title"], "tracermon")
        self.assertGreaterEqual(self.dashboard["schemaVersion"], 36)

    def test_panel_ids_are_unique_and_panels_do_not_overlap(self):
        ids = [p["id"] for p in self.panels]
        self.assertEqual(len(ids), len(set(ids)), ids)
        cells = {}
        for p in self.panels:
            g = p["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, f"{p['title']} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = p["title"]

    def test_everything_uses_the_provisioned_datasource(self):
        for p in self.panels:
            with self.subTest(panel=p["title"]):
                self.assertEqual(p.get("datasource"), DATASOURCE)
                for t in p.get("targets", []):
                    self.assertEqual(t.get("datasource"), DATASOURCE)
                    self.assertTrue(t.get("rawQuery"))
                    self.assertIn("$timeFilter", t["query"])  # never a scan of all history
                if p["type"] != "row":
                    self.assertTrue(p.get("targets"), "a panel without a query")
        for var in self.dashboard["templating"]["list"]:
            if var["type"] == "query":
                self.assertEqual(var["datasource"], DATASOURCE, var["name"])

    def test_variables(self):
        variables = {v["name"]: v for v in self.dashboard["templating"]["list"]}
        self.assertEqual(variables["device"]["query"],
                         'SHOW TAG VALUES FROM "tracer_realtime" WITH KEY = "device"')
        for name in ("device", "site"):
            self.assertTrue(variables[name]["multi"] and variables[name]["includeAll"], name)

    def test_queries_filter_by_the_variables(self):
        for p in self.panels:
            for t in p.get("targets", []):
                q = t["query"]
                with self.subTest(panel=p["title"], query=q):
                    if f'"{PREFIX}_site"' in q:
                        self.assertIn('"site" =~ /^$site$/', q)
                    else:
                        self.assertIn('"device" =~ /^$device$/', q)

    def test_numeric_panels_have_the_unit_of_their_fields(self):
        units = {r["name_snake_case"]: r["unit"] for r in registers()}
        units.update({f"site:{k}": v for k, v in site_field_units().items()})
        for p in self.panels:
            if p["type"] not in NUMERIC_PANELS:
                continue
            unit = p["fieldConfig"]["defaults"].get("unit")
            with self.subTest(panel=p["title"]):
                self.assertTrue(unit, "no unit")
                known = set()
                for t in p["targets"]:
                    site = f'"{PREFIX}_site"' in t["query"]
                    for field in query_fields(t["query"]):
                        known.add(units.get(f"site:{field}" if site else field))
                if len(known) == 1 and None not in known:
                    self.assertEqual(unit, GRAFANA_UNITS[known.pop()])


class DashboardQueries(unittest.TestCase):
    """Every panel query returns data from what tracermon's schema puts into InfluxDB."""

    @classmethod
    def setUpClass(cls):
        cls.server = InfluxServer()
        cls.addClassCleanup(cls.server.close)
        cls.server.start()
        cls.server.create_database(DB)
        cls.history = History(int(time.time()))
        for i in range(0, len(cls.history.lines), 5000):
            cls.server.write(DB, cls.history.lines[i:i + 5000], precision="s")
        cls.devices = [name for name, _, _ in DEVICES]
        cls.variables = {"device": cls.devices, "site": [SITE]}

    def queries(self):
        return dashboard_queries(DASHBOARD, "now() - 2d", "1m", self.variables)

    def problems(self, query):
        """Why the query would leave its panel (partly) empty, or [] when it shows data."""
        try:
            series = self.server.query(query, db=DB)
        except InfluxError as e:
            return [str(e)]
        out = [c if c == "(no series)" else f"column {c!r} has no value"
               for c in null_columns(series)]
        for tag, wanted in (("device", self.devices), ("site", [SITE])):
            if re.search(rf'GROUP BY .*"{tag}"', query) and series:
                got = sorted({s.get("tags", {}).get(tag) for s in series})
                if got != sorted(wanted):
                    out.append(f"{tag} tags {got}, expected {sorted(wanted)}")
        return out

    def test_every_panel_query_returns_values(self):
        queries = self.queries()
        self.assertGreater(len(queries), 20)
        for title, query in queries:
            with self.subTest(panel=title, query=query):
                self.assertEqual(self.problems(query), [])

    def test_a_field_that_does_not_exist_is_noticed(self):
        # The check above is only worth something if it fails for a misspelt field: rename each
        # field of each query in turn and the query must be reported.
        for title, query in self.queries():
            for field in set(query_fields(query)):
                broken = query.replace(f'("{field}")', f'("{field}_typo")')
                with self.subTest(panel=title, field=field):
                    self.assertNotEqual(self.problems(broken), [], broken)

    def test_variables_list_the_devices_and_the_site(self):
        expected = {"device": self.devices, "site": [SITE]}
        for name, query in variable_queries(DASHBOARD):
            with self.subTest(variable=name):
                series = self.server.query(query, db=DB)
                values = sorted(row[1] for s in series for row in s["values"])
                self.assertEqual(values, sorted(expected[name]))

    def test_energy_per_day_is_the_highest_counter_of_each_day(self):
        [query] = [q for title, q in self.queries() if title == "Generated energy per day"]
        series = self.server.query(query, db=DB, epoch="s")
        got = {(s["tags"]["device"], t): v for s in series for t, v in s["values"]}
        self.assertEqual(got, self.history.day_max)
        days = {datetime.fromtimestamp(d, timezone.utc).date() for _, d in got}
        self.assertGreaterEqual(len(days), 2)


if __name__ == "__main__":
    unittest.main()
