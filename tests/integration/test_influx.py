"""tracermon's InfluxDB output (`[influxdb]`, `influx_db`) against real servers.

The daemon polls in-process simulated controllers and writes to Debian's InfluxDB 1.x, to
VictoriaMetrics over the v2 API, or to a scripted v2 endpoint (tsdb.FakeInfluxV2). What it
wrote is compared with what it filed in its own history (`tracermon export`), which is the
reference: every value of every cycle must arrive once, at the cycle's time, in the measurement
and with the tags of the schema (src/format/influx_lines.hpp), through outages, refusals and
bad credentials. The Grafana dashboard's queries must show data on what tracermon wrote, and
mistakes in the settings must stop the daemon at start with FILE:LINE and the key.
"""

import json
import math
import os
import re
import subprocess
import unittest

from daemon import Daemon, DaemonTestCase, assert_config_refused, config_text
from peers import ROOT, TRACERMON, load_registers
from simulator import wait_until
from test_grafana import enum_meanings, query_fields, status_flag_key, status_layouts
from tsdb import (FakeInfluxV2, InfluxError, InfluxServer, VictoriaMetrics,
                  dashboard_queries, null_columns, variable_queries)

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "tracermon.json"
SIM3 = "sim:ids=1,2,3&profile=tracer-an+tracer-bn+tracer-an&seed=11&turnaround-ms=3"
SIM2 = "sim:ids=1,2&profile=tracer-an+tracer-bn&seed=12&turnaround-ms=3"
NAMES3 = ["east", "west", "south"]
SITE = "home"
BUS = "bus1"
DB = "tracermon"
WAIT = 40  # s: the longest any condition below may take on a busy 2-core machine
EXPORT_POLL = 0.3  # s between two `tracermon export` runs while waiting

REGISTERS = {r["name_snake_case"]: r for r in load_registers()}
NOT_WRITTEN_GROUPS = ("rtc", "coils")
DEVICE_MEASUREMENTS = tuple(sorted({f"tracer_{r['group']}" for r in REGISTERS.values()
                                    if r["group"] not in NOT_WRITTEN_GROUPS}))
COMM_COUNTERS = ("requests", "replies", "timeouts", "crc_errors", "bad_replies", "wrong_unit",
                 "echoes", "noise_bytes", "late_replies", "other_master", "retries",
                 "link_errors", "rejected_values", "counter_resets")
HEALTH = {"unknown", "online", "degraded", "offline"}
# The old tool's `solar` point: (field, source, summed over the legacy devices, divisor).
LEGACY = (("PVvolt", "pv_voltage", False, 1), ("PVamps", "pv_current", False, 1),
          ("BAvolt", "battery_voltage", False, 1),
          ("BAamps", "battery_charging_current", False, 1),
          ("BAperc", "battery_soc", False, 100), ("DCvolt", "load_voltage", False, 1),
          ("DCamps", "load_current", False, 1), ("PVwatt", "pv_power", True, 1),
          ("DCwatt", "load_power", True, 1), ("PVkwh", "generated_energy_total", True, 1),
          ("DCkwh", "consumed_energy_total", True, 1),
          ("PVkwh2d", "generated_energy_today", True, 1),
          ("DCkwh2d", "consumed_energy_today", True, 1))
EXACT = 1e-6  # registers and the history both hold hundredths: equal but for binary noise
SUM_TOLERANCE = 0.0051  # a sum filed as llround(sum * 100) against the exact sum


def group_of(field):
    return REGISTERS[field]["group"]


def status_state_key(field, state):
    """A multi-bit state's field, named as in the MQTT state message (docs/outputs.md):
    charging_phase as it is, the others like a flag with "_state" (battery_voltage_state)."""
    return state if state == "charging_phase" else status_flag_key(field, state) + "_state"


def same(a, b, tolerance=EXACT):
    return abs(float(a) - float(b)) <= tolerance


def influx_table(url, **settings):
    """An [influxdb] table: retry_max 1s so that the tests wait seconds, not a minute."""
    settings.setdefault("retry_max", "1s")
    lines = ["[influxdb]", f'url = "{url}"']
    for key, value in settings.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"{key} = [{', '.join(chr(34) + v + chr(34) for v in value)}]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


# --- Line protocol, as a server reads it -----------------------------------------------------

def parse_scalar(text):
    if re.fullmatch(r"-?\d+i", text):
        return int(text[:-1])
    if text in ("t", "T", "true", "True", "TRUE"):
        return True
    if text in ("f", "F", "false", "False", "FALSE"):
        return False
    value = float(text)  # raises on anything else
    if not math.isfinite(value) or not re.fullmatch(r"-?[\d.]+(e[-+]?\d+)?", text):
        raise ValueError(f"not a line-protocol number: {text!r}")
    return value


def parse_line(line):
    """(measurement, {tag: value}, {field: value}, timestamp) of one line; ValueError when the
    line is not valid line protocol with a timestamp."""
    pos = 0

    def until(stops):
        nonlocal pos
        out = []
        while pos < len(line) and line[pos] not in stops:
            if line[pos] == "\\" and pos + 1 < len(line):
                pos += 1
            out.append(line[pos])
            pos += 1
        return "".join(out)

    def expect(char):
        nonlocal pos
        if pos >= len(line) or line[pos] != char:
            raise ValueError(f"expected {char!r} at {pos} in {line!r}")
        pos += 1

    measurement = until(", ")
    tags = {}
    while pos < len(line) and line[pos] == ",":
        pos += 1
        key = until("=")
        expect("=")
        tags[key] = until(", ")
    expect(" ")
    fields = {}
    while True:
        key = until("=")
        expect("=")
        if line[pos:pos + 1] == '"':
            pos += 1
            value = []
            while line[pos] != '"':
                if line[pos] == "\\" and line[pos + 1] in '"\\':
                    pos += 1
                value.append(line[pos])
                pos += 1
            pos += 1
            fields[key] = "".join(value)
        else:
            fields[key] = parse_scalar(until(", "))
        if line[pos:pos + 1] != ",":
            break
        pos += 1
    expect(" ")
    stamp = line[pos:]
    if not measurement or not fields or not re.fullmatch(r"\d+", stamp):
        raise ValueError(f"not a complete line: {line!r}")
    return measurement, tags, fields, int(stamp)


class RecordingInfluxV2(FakeInfluxV2):
    """FakeInfluxV2 that also remembers the status it answered each request with, and answers
    413 to a write whose (decompressed) body is larger than `max_body`, as a server with a
    body size limit does."""

    def __init__(self, max_body=None):
        self.max_body = max_body
        super().__init__()

    def _answer(self, path, command, body):
        write = path == "/api/v2/write" and command == "POST"
        if write and self.max_body is not None and len(body) > self.max_body:
            return 413, b'{"code": "request too large", "message": "too large"}', {}
        return super()._answer(path, command, body)

    def exchanges(self):
        """[(status, [parsed lines])] of every write so far, in order."""
        with self._cond:
            pairs = list(zip(self.answers, self.requests))
        return [(status, [parse_line(x) for x in r.body.decode().splitlines() if x])
                for status, r in pairs if r.path == "/api/v2/write"]

    def accepted(self):
        return [line for status, lines in self.exchanges() if 200 <= status < 300
                for line in lines]


def cycle_keys(lines, measurement="tracer_realtime", divisor=1_000_000):
    """[(device, time_ms)] of the parsed lines of one measurement (timestamps in ns unless
    divisor says otherwise)."""
    return [(tags["device"], t // divisor) for m, tags, _, t in lines if m == measurement]


def log_of(d):
    """The daemon's log so far (also after stop(), which closes the writer)."""
    with open(d.log_path, errors="replace") as f:
        return f.read()


# --- The test base: a temporary folder, daemons stopped at the end ---------------------------

class InfluxTest(DaemonTestCase):
    prefix = "tracermon-influx-"

    def start(self, port, ids, names, extra, prefix=""):
        text = prefix + config_text(self.dir, port, ids, names=names, extra=extra)
        d = Daemon(self.dir, text)
        self.daemons.append(d)
        return d

    @staticmethod
    def rows(d, *args):
        """The export, or [] while the history has nothing yet (export exits 1 then)."""
        out = d.run_cli("export", "--config", d.config, "--format", "jsonl", "--from",
                        "2020-01-01", "--to", "2100-01-01", *args)
        if out.returncode != 0:
            return []
        return [json.loads(x) for x in out.stdout.splitlines() if x.strip()]

    def wait_cycles(self, d, names, count, timeout=WAIT):
        """Until the history holds `count` cycles of every device."""
        def enough():
            rows = self.rows(d)
            return all(sum(r["source"] == n for r in rows) >= count for n in names)
        wait_until(enough, timeout, EXPORT_POLL)

    @staticmethod
    def output(d):
        [out] = [o for o in d.api("/api/v1/status")["outputs"] if o["name"] == "influxdb"]
        return out

    def wait_output(self, d, predicate, timeout=WAIT):
        def check():
            out = self.output(d)
            return out if predicate(out) else None
        try:
            return wait_until(check, timeout, 0.1)
        except AssertionError:
            raise AssertionError(f"influxdb output never got there: {self.output(d)}\n"
                                 + log_of(d)[-3000:]) from None

    def wait_delivered(self, d, timeout=WAIT):
        """Until the output is connected with nothing waiting in memory or on disk."""
        return self.wait_output(d, lambda o: o["state"] == "connected" and o["connected"]
                                and o["queued"] == 0 and o["in_outbox"] == 0, timeout)

    def stop(self, d):
        code = d.stop()
        self.assertEqual(code, 0, log_of(d)[-3000:])
        return self.rows(d)

    @staticmethod
    def export_keys(rows, names):
        return sorted((r["source"], r["time_ms"]) for r in rows if r["source"] in names)


def influx_points(server, db, measurement):
    """{(device or site, time_ms): (tags, fields, time_ns)} of one measurement; raises if two
    points of one series fall into the same millisecond (the export could not tell them apart)."""
    series = server.query(f'SELECT * FROM "{measurement}" GROUP BY *', db=db, epoch="ns")
    out = {}
    for s in series:
        tags = s.get("tags") or {}
        for row in s["values"]:
            fields = {c: v for c, v in zip(s["columns"][1:], row[1:]) if v is not None}
            key = (tags.get("device") or tags.get("site"), row[0] // 1_000_000)
            if key in out:
                raise AssertionError(f"two {measurement} points of {key}")
            out[key] = (tags, fields, row[0])
    return out


def realtime_ms(server, db):
    """{device: sorted time_ms of its tracer_realtime points}."""
    out = {}
    for name, t in influx_points(server, db, "tracer_realtime"):
        out.setdefault(name, []).append(t)
    return {name: sorted(times) for name, times in out.items()}


# --- 1. Values: every value of the history arrives in InfluxDB 1.x ---------------------------

class InfluxV1Values(InfluxTest):
    LEGACY_DEVICES = ["west", "east"]  # first: west's own values; the point at east's cycles
    LEGACY_INTERVAL_S = 2  # twice poll.fast: every other cycle of east

    @classmethod
    def setUpClass(cls):
        cls.server = InfluxServer()
        cls.addClassCleanup(cls.server.close)
        cls.server.start()
        cls.layouts = status_layouts()
        cls.enums = enum_meanings()

    def test_every_value_of_the_history_arrives_with_its_time_and_tags(self):
        extra = influx_table(self.server.url, database=DB, precision="ns", gzip=True,
                             legacy=True, legacy_devices=self.LEGACY_DEVICES,
                             legacy_interval=f"{self.LEGACY_INTERVAL_S}s")
        d = self.start(SIM3, [1, 2, 3], NAMES3, extra)
        self.wait_cycles(d, NAMES3, 4)
        status = self.wait_delivered(d)
        self.assertEqual((status["errors"], status["rejected"], status["dropped"]), (0, 0, 0),
                         status["last_error"])
        self.assertGreater(status["sent"], 0)
        self.assertEqual(status["endpoint"], f"{self.server.url}/write?db={DB}&precision=ns")
        _, metrics = d.get("/metrics")
        self.assertIn('tracermon_output_up{output="influxdb"} 1', metrics)
        self.assertRegex(metrics, r'tracermon_output_sent_total\{output="influxdb"\} [1-9]')
        rows = self.stop(d)  # SIGTERM delivers what is queued
        devices = [r for r in rows if r["source"] in NAMES3]
        self.assertGreaterEqual(len(devices), 12)

        points = {}
        for measurement in DEVICE_MEASUREMENTS:
            for (name, t), point in influx_points(self.server, DB, measurement).items():
                points[(measurement, name, t)] = point
        for unit, name in enumerate(NAMES3, 1):
            tags = {"bus": BUS, "device": name, "device_id": str(unit), "site": SITE}
            cycles = [r for r in devices if r["source"] == name]
            with self.subTest(device=name):
                self.check_cycles(points, tags, cycles)
        self.check_site(rows)
        self.check_comm(rows)
        self.check_legacy(rows)

    def check_cycles(self, points, tags, cycles):
        name = tags["device"]
        # No point without a cycle in the history, and none left out.
        written = sorted(t for (m, n, t) in points if n == name and m == "tracer_realtime")
        self.assertEqual(written, sorted(r["time_ms"] for r in cycles))
        compared = 0
        for row in cycles:
            for field, value in row["values"].items():
                group = group_of(field)
                if group in NOT_WRITTEN_GROUPS:
                    continue
                key = (f"tracer_{group}", name, row["time_ms"])
                self.assertIn(key, points, f"{field} of {name} at {row['time']}")
                point_tags, fields, _ = points[key]
                self.assertEqual(point_tags, tags)
                self.assertIn(field, fields, f"{key} has no {field}")
                got = fields[field]
                if REGISTERS[field]["type"] in ("bitfield", "enum"):
                    self.assertIsInstance(got, (int, bool), (key, field))
                    got = int(got)
                self.assertTrue(same(got, value), f"{key} {field}: {got} != {value}")
                compared += 1
                if field in self.layouts:
                    self.check_status_word(field, int(value), fields, key)
            # Nothing the history does not have: every register field of the point was read.
            for measurement in DEVICE_MEASUREMENTS:
                point = points.get((measurement, name, row["time_ms"]))
                for field in (point[1] if point else {}):
                    if field in REGISTERS:
                        self.assertIn(field, row["values"], f"{measurement} {field} not read")
        self.assertGreater(compared, 100)

    def check_status_word(self, field, word, fields, key):
        """The decoded flags (booleans) and states (meaning texts) of a status word."""
        states, flags = self.layouts[field]
        for flag, bit in flags:
            self.assertEqual(fields.get(status_flag_key(field, flag)), bool(word >> bit & 1),
                             (key, field, flag))
        address = REGISTERS[field]["address_hex"]
        for state, hi, lo in states:
            meanings = self.enums.get(f"{address}[D{hi}-D{lo}]", {})
            code = word >> lo & ((1 << (hi - lo + 1)) - 1)
            if code in meanings:
                self.assertEqual(fields.get(status_state_key(field, state)), meanings[code],
                                 (key, field, state))

    def check_site(self, rows):
        site_rows = [r for r in rows if r["source"] == SITE]
        self.assertGreaterEqual(len(site_rows), 3)
        points = influx_points(self.server, DB, "tracer_site")
        self.assertEqual(sorted(t for _, t in points), sorted(r["time_ms"] for r in site_rows))
        for row in site_rows:
            tags, fields, _ = points[(SITE, row["time_ms"])]
            self.assertEqual(tags, {"site": SITE})
            self.assertEqual(sorted(fields), sorted(row["values"]), row["time"])
            for field, value in row["values"].items():
                self.assertTrue(same(fields[field], value, SUM_TOLERANCE),
                                f"site {field} at {row['time']}: {fields[field]} != {value}")

    def check_comm(self, rows):
        points = influx_points(self.server, DB, "tracer_comm")
        for unit, name in enumerate(NAMES3, 1):
            times = sorted(r["time_ms"] for r in rows if r["source"] == name)
            mine = sorted((t, p) for (n, t), p in points.items() if n == name)
            with self.subTest(device=name):
                self.assertEqual([t for t, _ in mine], times, "one tracer_comm point per cycle")
                previous = 0
                for _, (tags, fields, _) in mine:
                    self.assertEqual(tags, {"bus": BUS, "device": name,
                                            "device_id": str(unit), "site": SITE})
                    for counter in COMM_COUNTERS:
                        self.assertIsInstance(fields[counter], int, counter)
                        self.assertGreaterEqual(fields[counter], 0, counter)
                    self.assertIn(fields["health"], HEALTH)
                    self.assertGreaterEqual(fields["requests"], previous, "cumulative")
                    self.assertGreaterEqual(fields["requests"], fields["replies"])
                    previous = fields["requests"]
                self.assertGreater(previous, 0)

    def check_legacy(self, rows):
        """A `solar` point at a cycle of the last legacy device once per legacy_interval: the
        first device's values and the sums over the legacy devices, as the history had them at
        that moment."""
        first, last = self.LEGACY_DEVICES[0], self.LEGACY_DEVICES[-1]
        points = influx_points(self.server, DB, "solar")
        # None before every legacy device was polled once (no partial sums); then the first
        # cycle of the last one has a point.
        start = max(min(r["time_ms"] for r in rows if r["source"] == n)
                    for n in self.LEGACY_DEVICES)
        cycles = sorted(r["time_ms"] for r in rows if r["source"] == last and r["time_ms"] >= start)
        times = sorted(t for _, t in points)
        self.assertGreaterEqual(len(times), 2, times)
        self.assertLessEqual(set(times), set(cycles))
        self.assertEqual(times[0], cycles[0])
        # Not every cycle (they come every second): one per interval, at the cycle nearest its
        # due time (up to half a cycle early; timed on the monotonic clock, so the values' wall
        # times may differ by the jitter of a read).
        interval_ms = self.LEGACY_INTERVAL_S * 1000
        for before, after in zip(times, times[1:]):
            self.assertGreaterEqual(after - before, interval_ms - 750, (times, cycles))
            self.assertLessEqual(after - before, interval_ms + 1500, (times, cycles))
        seen = set()
        for (_, t), (tags, fields, _) in points.items():
            self.assertEqual(tags, {})
            self.assertTrue(fields, t)
            self.assertLessEqual(set(fields), {f for f, _, _, _ in LEGACY})
            for name, value in fields.items():
                self.assertTrue(math.isfinite(value) and value not in (-1, -2), (name, value))
            for name, source, summed, divisor in LEGACY:
                if name not in fields:
                    continue  # an input was not fresh: left out, never guessed
                members = self.LEGACY_DEVICES if summed else [first]
                values = [self.value_at(rows, m, source, t) for m in members]
                expected = sum(values) / divisor
                self.assertTrue(same(fields[name], expected, SUM_TOLERANCE if summed else EXACT),
                                f"{name} at {t}: {fields[name]} != {expected} ({values})")
                seen.add(name)
        self.assertEqual(seen, {f for f, _, _, _ in LEGACY}, "every field at least once")

    @staticmethod
    def value_at(rows, device, field, time_ms):
        """The device's newest value of the field filed at or before time_ms."""
        candidates = [r for r in rows if r["source"] == device and r["time_ms"] <= time_ms
                      and field in r["values"]]
        if not candidates:
            raise AssertionError(f"no {field} of {device} before {time_ms}")
        return max(candidates, key=lambda r: r["time_ms"])["values"][field]


# --- 2. An outage of the server: nothing lost, nothing twice ---------------------------------

class InfluxOutage(InfluxTest):
    def assert_one_point_per_cycle(self, server, rows, names):
        written = realtime_ms(server, DB)
        for name in names:
            with self.subTest(device=name):
                expected = sorted(r["time_ms"] for r in rows if r["source"] == name)
                # One point per cycle (a point written twice lands on itself).
                self.assertEqual(written.get(name), expected)

    def test_server_down_and_back_loses_nothing(self):
        names = ["east", "west"]
        with InfluxServer() as server:
            d = self.start(SIM2, [1, 2], names, influx_table(server.url, database=DB))
            self.wait_cycles(d, names, 2)
            self.wait_delivered(d)
            before = len(self.rows(d))

            server.stop()
            down = self.wait_output(d, lambda o: o["in_outbox"] > 0 and o["errors"] > 0)
            self.assertFalse(down["connected"])
            self.assertEqual(down["state"], "retrying")
            self.assertTrue(down["last_error"], down)
            self.assertIsNotNone(down["last_error_time"])
            # Cycles go on while the server is away: they wait in the outbox.
            wait_until(lambda: len(self.rows(d)) >= before + 6, WAIT, EXPORT_POLL)
            status, metrics = d.get("/metrics")
            self.assertEqual(status, 200)
            self.assertIn('tracermon_output_up{output="influxdb"} 0', metrics)

            server.start()
            self.assertEqual(self.wait_delivered(d)["dropped"], 0)
            rows = self.rows(d)
            self.wait_cycles(d, names, max(sum(r["source"] == n for r in rows) for n in names) + 1)
            rows = self.stop(d)
            self.assert_one_point_per_cycle(server, rows, names)

    def test_outbox_outlives_the_daemon(self):
        """Stopped while the server is away, the daemon keeps what it could not deliver; the
        next daemon delivers it when the server is back."""
        names = ["east", "west"]
        with InfluxServer() as server:
            text = influx_table(server.url, database=DB)
            d = self.start(SIM2, [1, 2], names, text)
            self.wait_cycles(d, names, 1)
            self.wait_delivered(d)
            server.stop()
            self.wait_output(d, lambda o: o["in_outbox"] > 0)
            self.wait_cycles(d, names, 3)
            self.stop(d)
            self.assertTrue(os.listdir(os.path.join(self.dir, "influxdb", "outbox")))

            server.start()
            d = self.start(SIM2, [1, 2], names, text)
            self.wait_cycles(d, names, 5)
            self.assertEqual(self.wait_delivered(d)["dropped"], 0)
            rows = self.stop(d)
            self.assert_one_point_per_cycle(server, rows, names)


# --- 3. The Grafana dashboard on data tracermon wrote ----------------------------------------

class GrafanaOnTracermonData(InfluxTest):
    def test_every_panel_query_returns_data(self):
        # An AN and an LS-B: the LS-B has the power components temperature the AN lacks.
        names = ["east", "west"]
        port = "sim:ids=1,2&profile=tracer-an+ls-b&shared-battery=0&seed=13&turnaround-ms=3"
        with InfluxServer() as server:
            d = self.start(port, [1, 2], names, influx_table(server.url, database=DB))
            # Counter panels take differences of 1 s buckets: several cycles of 1 s.
            self.wait_cycles(d, names, 5)
            rows = self.stop(d)
            read = {n: set() for n in names + [SITE]}
            for r in rows:
                read[r["source"]].update(r["values"])
            all_read = set().union(*read.values())
            variables = {"device": names, "site": [SITE]}
            queries = dashboard_queries(DASHBOARD, "now() - 1h", "1s", variables)
            self.assertGreater(len(queries), 20)
            for title, query in queries:
                with self.subTest(panel=title, query=query):
                    try:
                        series = server.query(query, db=DB)
                    except InfluxError as e:
                        self.fail(str(e))
                    self.assertEqual(null_columns(series), [])
                    if re.search(r'GROUP BY .*"device"', query):
                        fields = set(query_fields(query))
                        expected = {n for n in names if fields & read[n]} \
                            if fields & all_read else set(names)
                        self.assertEqual({s["tags"]["device"] for s in series}, expected)
                    if "non_negative_difference" in query:
                        for s in series:
                            self.assertGreaterEqual(len(s["values"]), 2, s["tags"])
            for name, query in variable_queries(DASHBOARD):
                with self.subTest(variable=name):
                    values = sorted(row[1] for s in server.query(query, db=DB)
                                    for row in s["values"])
                    self.assertEqual(values, sorted(variables[name]))


# --- 4. The v2 API: VictoriaMetrics, and a scripted server for the answers -------------------

class InfluxV2(InfluxTest):
    NAMES = ["east", "west"]

    def v2_table(self, url, **settings):
        return influx_table(url, api="v2", org="home", bucket="solar", token="s3cret",
                            **settings)

    def test_victoria_metrics_gets_every_value(self):
        with VictoriaMetrics() as vm:
            d = self.start(SIM2, [1, 2], self.NAMES, self.v2_table(vm.url))
            self.wait_cycles(d, self.NAMES, 3)
            rows = self.stop(d)
            cycles = {n: sum(r["source"] == n for r in rows) for n in self.NAMES}

            def complete(series):
                got = {s["metric"].get("device"): len(s["timestamps"]) for s in series
                       if s["metric"]["__name__"] == "tracer_realtime_battery_voltage"}
                return got == cycles
            vm.wait_for_series('{__name__="tracer_realtime_battery_voltage"}', complete)
            vm.wait_for_series('{__name__="tracer_site_pv_power"}',
                               lambda s: len(s[0]["timestamps"]) == cycles["west"])
            series = {}
            for s in vm.export('{__name__=~"tracer_.*"}'):
                labels = dict(s["metric"])
                name = labels.pop("__name__")
                key = (name, labels.get("device") or labels.get("site"))
                self.assertNotIn(key, series)
                series[key] = (labels, dict(zip(s["timestamps"], s["values"])))
        compared = 0
        for row in rows:
            source = row["source"]
            for field, value in row["values"].items():
                if source == SITE:
                    name, tags = f"tracer_site_{field}", {"site": SITE}
                    tolerance = SUM_TOLERANCE
                elif group_of(field) in NOT_WRITTEN_GROUPS:
                    continue
                else:
                    name = f"tracer_{group_of(field)}_{field}"
                    tags = {"bus": BUS, "device": source,
                            "device_id": str(self.NAMES.index(source) + 1), "site": SITE}
                    tolerance = EXACT
                key = (name, source)
                self.assertIn(key, series, f"no series {name} of {source}")
                labels, points = series[key]
                self.assertEqual(labels, tags, name)
                self.assertIn(row["time_ms"], points, f"{name} of {source} at {row['time']}")
                got = points[row["time_ms"]]
                self.assertTrue(same(got, value, tolerance), f"{key}: {got} != {value}")
                compared += 1
        self.assertGreater(compared, 200)

    def run_fake(self, fake, cycles=3, precision=None, **settings):
        """Runs the daemon against the fake until every device has `cycles` cycles and the
        output has delivered everything, then stops it; returns (daemon, export rows, the
        output's status before the stop)."""
        if precision:
            settings["precision"] = precision
        d = self.start(SIM2, [1, 2], self.NAMES, self.v2_table(fake.url, **settings))
        self.wait_cycles(d, self.NAMES, cycles)
        status = self.wait_delivered(d)
        rows = self.stop(d)
        return d, rows, status

    def assert_all_once(self, fake, rows):
        """Every cycle of the history arrived in an accepted write, and no line twice."""
        accepted = fake.accepted()
        texts = [repr(x) for x in accepted]
        self.assertEqual(len(texts), len(set(texts)), "a line delivered twice")
        self.assertEqual(sorted(cycle_keys(accepted)), self.export_keys(rows, self.NAMES))
        site = sorted(t // 1_000_000 for m, _, _, t in accepted if m == "tracer_site")
        self.assertEqual(site, sorted(r["time_ms"] for r in rows if r["source"] == SITE))

    def test_request_format(self):
        with RecordingInfluxV2() as fake:
            _, rows, _ = self.run_fake(fake, precision="ms")
            requests = [r for r in fake.requests if r.path == "/api/v2/write"]
            self.assertTrue(requests)
            for r in requests:
                self.assertEqual(r.method, "POST")
                self.assertEqual(r.query, {"org": ["home"], "bucket": ["solar"],
                                           "precision": ["ms"]})
                self.assertEqual(r.headers.get("authorization"), "Token s3cret")
                self.assertEqual(r.headers.get("content-encoding"), "gzip")
                self.assertTrue(r.body.endswith(b"\n"))
            lines = fake.accepted()  # parse_line raises on an invalid line
            measurements = {m for m, _, _, _ in lines}
            self.assertLessEqual(set(DEVICE_MEASUREMENTS) | {"tracer_comm", "tracer_site"},
                                 measurements)
            # precision=ms: the timestamps are the history's milliseconds themselves.
            self.assertEqual(sorted(cycle_keys(lines, divisor=1)),
                             self.export_keys(rows, self.NAMES))

    def test_unauthorized_then_accepted_loses_nothing(self):
        with RecordingInfluxV2() as fake:
            fake.respond(401, code="unauthorized", message="unauthorized access")
            d = self.start(SIM2, [1, 2], self.NAMES, self.v2_table(fake.url))
            failed = self.wait_output(d, lambda o: o["errors"] >= 1)
            self.assertIn("401", failed["last_error"])
            self.assertIn("unauthorized access", failed["last_error"])
            self.assertNotIn("s3cret", failed["last_error"])
            self.assertIsNotNone(failed["last_error_time"])
            self.wait_cycles(d, self.NAMES, 3)
            self.wait_delivered(d)
            rows = self.stop(d)
            self.assertEqual(fake.exchanges()[0][0], 401)
            refused = cycle_keys(fake.exchanges()[0][1])
            self.assertTrue(refused)
            self.assert_all_once(fake, rows)
            self.assertLessEqual(set(refused), set(cycle_keys(fake.accepted())))

    def test_unprocessable_batch_is_dropped_and_later_ones_delivered(self):
        with RecordingInfluxV2() as fake:
            fake.respond(422, code="unprocessable entity",
                         message="failure writing points: field type conflict")
            d = self.start(SIM2, [1, 2], self.NAMES, self.v2_table(fake.url))
            failed = self.wait_output(d, lambda o: o["rejected"] >= 1)
            self.assertIn("field type conflict", failed["last_error"])
            self.wait_cycles(d, self.NAMES, 3)
            status = self.wait_delivered(d)
            self.assertEqual(status["dropped"], 0)
            self.assertGreater(status["sent"], 0)
            _, metrics = d.get("/metrics")
            self.assertRegex(metrics, r'tracermon_output_rejected_total\{output="influxdb"\} [1-9]')
            rows = self.stop(d)
        exchanges = fake.exchanges()
        self.assertEqual(exchanges[0][0], 422)
        refused = cycle_keys(exchanges[0][1])
        delivered = cycle_keys(fake.accepted())
        self.assertTrue(refused)
        self.assertFalse(set(refused) & set(delivered), "a refused batch is not sent again")
        self.assertEqual(sorted(refused + delivered), self.export_keys(rows, self.NAMES))
        self.assertGreater(max(t for _, t in delivered), max(t for _, t in refused))

    def test_too_large_bodies_are_split_until_they_fit(self):
        limit = 6000
        with RecordingInfluxV2(max_body=limit) as fake:
            # Two unavailable answers first: the backlog makes one large batch.
            fake.respond(503, message="service unavailable")
            fake.respond(503, message="service unavailable")
            _, rows, status = self.run_fake(fake, cycles=4)
            self.assertEqual(status["rejected"], 0, status["last_error"])
            answers = [a for a, _ in fake.exchanges()]
            self.assertIn(413, answers)
            for answer, r in zip(fake.answers, fake.requests):
                if answer == 204:
                    self.assertLessEqual(len(r.body), limit)
            self.assert_all_once(fake, rows)

    def test_unavailable_is_retried_then_delivered(self):
        with RecordingInfluxV2() as fake:
            fake.respond(503, message="service unavailable")
            fake.respond(503, message="service unavailable")
            d = self.start(SIM2, [1, 2], self.NAMES, self.v2_table(fake.url, gzip=False))
            failed = self.wait_output(d, lambda o: o["errors"] >= 2)
            self.assertIn("503", failed["last_error"])
            self.wait_cycles(d, self.NAMES, 3)
            status = self.wait_delivered(d)
            self.assertEqual((status["rejected"], status["dropped"]), (0, 0))
            rows = self.stop(d)
            self.assertEqual([a for a, _ in fake.exchanges()][:2], [503, 503])
            for r in fake.requests:
                self.assertNotIn("content-encoding", r.headers)  # gzip = false
            first = cycle_keys(fake.exchanges()[0][1])
            self.assertTrue(first)
            self.assertLessEqual(set(first), set(cycle_keys(fake.accepted())))
            self.assert_all_once(fake, rows)


# --- 5. The old tool's influx.db ----------------------------------------------------------

class InfluxIniFile(InfluxTest):
    def write_ini(self, text):
        path = os.path.join(self.dir, "influx.db")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_measurement_and_database_of_the_file(self):
        # Names the old tool allowed that line protocol and URLs must escape.
        names = ["east", "west"]
        with InfluxServer() as server:
            ini = self.write_ini("# the old tool's settings\n[INFLUXDB]\nHost = 127.0.0.1\n"
                                 f"Port = {server.http_port}\nDB = solar data\nUser = grafana\n"
                                 "Pass = hunter2\nMeasurement = old solar,v1\n")
            d = self.start(SIM2, [1, 2], names, "", prefix=f'influx_db = "{ini}"\n')

            def measurements():
                try:
                    series = server.query("SHOW MEASUREMENTS", db="solar data")
                except InfluxError:
                    return None  # not created yet
                found = {row[0] for s in series for row in s["values"]}
                return found if {"old solar,v1", "tracer_realtime"} <= found else None
            found = wait_until(measurements, WAIT, 0.2)
            self.assertNotIn("solar", found)
            status = self.output(d)
            self.assertIn("db=solar%20data", status["endpoint"])
            self.assertNotIn("hunter2", d.get("/api/v1/status")[1])
            rows = self.stop(d)
            # The legacy point by default: every device, at the last one's cycles.
            legacy = server.query('SELECT "PVvolt", "PVwatt" FROM "old solar,v1"',
                                  db="solar data", epoch="ms")
            times = [row[0] for s in legacy for row in s["values"]]
        # Once a minute by default, as the old cron job: this test lasts less than one.
        self.assertEqual(len(times), 1, times)
        self.assertLessEqual(set(times), {r["time_ms"] for r in rows if r["source"] == "west"})

    def check_refused(self, ini_text, ini_line, *words):
        ini = self.write_ini(ini_text)
        path = os.path.join(self.dir, "bad.toml")
        with open(path, "w") as f:
            f.write(f'influx_db = "{ini}"\n[[bus]]\nport = "sim:ids=1"\n  [[bus.device]]\n'
                    "  id = 1\n")
        for command in (["config", "check", path], ["run", "--config", path]):
            out = subprocess.run([TRACERMON, *command], capture_output=True, text=True,
                                 timeout=30)
            self.assertEqual(out.returncode, 2, (command, out.stderr))
            self.assertIn(f"{path}:1: influx_db", out.stderr)
            self.assertIn(f"{ini}:{ini_line}:", out.stderr)
            for word in words:
                self.assertIn(word, out.stderr)

    def test_bad_files_are_refused_with_file_and_line(self):
        self.check_refused("[INFLUXDB]\nHost = 127.0.0.1\nPort = 8086\nColour = red\n", 4,
                           "Colour")
        self.check_refused("[INFLUXDB]\nHost = 127.0.0.1\nPort = 99999\n", 3, "99999")
        self.check_refused("[INFLUXDB]\nHost = 127.0.0.1\nPort = http\n", 3, "http")


# --- 6. Bad input: no server at start-up, bad settings ----------------------------------------

class InfluxBadInput(InfluxTest):
    def test_no_server_at_start_then_one_appears(self):
        names = ["east", "west"]
        server = InfluxServer()  # its port is closed until start()
        self.addCleanup(server.close)
        d = self.start(SIM2, [1, 2], names, influx_table(server.url, database=DB))
        failing = self.wait_output(d, lambda o: o["errors"] >= 1 and o["state"] == "retrying"
                                   and o["retry_in_s"] > 0)
        self.assertFalse(failing["connected"])
        self.assertIn(str(server.http_port), failing["last_error"])
        self.assertIn(f"127.0.0.1:{server.http_port}", failing["endpoint"])
        # The daemon itself is unaffected: it polls, files and answers.
        wait_until(lambda: all(n in d.api("/api/v1/latest")["devices"] for n in names), WAIT)
        self.wait_cycles(d, names, 2)
        status, metrics = d.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn('tracermon_output_up{output="influxdb"} 0', metrics)
        self.assertRegex(metrics, r'tracermon_output_errors_total\{output="influxdb"\} [1-9]')

        server.start()
        self.wait_delivered(d)
        _, metrics = d.get("/metrics")
        self.assertIn('tracermon_output_up{output="influxdb"} 1', metrics)
        rows = self.stop(d)
        written = realtime_ms(server, DB)
        for name in names:
            expected = sorted(r["time_ms"] for r in rows if r["source"] == name)
            self.assertEqual(written.get(name), expected, name)

    def check_refused(self, table, line, key, *words):
        bus = '[[bus]]\nport = "sim:ids=1"\n  [[bus.device]]\n  id = 1\n'
        assert_config_refused(self, self.dir, table + bus, line, key, *words)

    def test_bad_settings_are_refused_with_the_key(self):
        url = 'url = "http://127.0.0.1:8086"\n'
        self.check_refused(f'[influxdb]\n{url}api = "v3"\n', 3, "influxdb.api:", "v3")
        self.check_refused(f'[influxdb]\n{url}precision = "h"\n', 3, "influxdb.precision:",
                           "'h'")
        self.check_refused('[influxdb]\nurl = "ftp://x"\n', 2, "influxdb.url:", "ftp://x")
        self.check_refused(f'[influxdb]\n{url}api = "v2"\nbucket = "b"\n', 1, "influxdb:",
                           "org")
        self.check_refused(f'[influxdb]\n{url}api = "v2"\norg = "o"\nbucket = "b"\n'
                           'database = "x"\n', 6, "influxdb.database:", "v1")
        self.check_refused(f'[influxdb]\n{url}retry_max = "10ms"\n', 3, "influxdb.retry_max:")
        self.check_refused(f'[influxdb]\n{url}legacy_devices = ["nobody"]\n', 3,
                           "influxdb.legacy_devices:", "nobody")


if __name__ == "__main__":
    unittest.main()
