"""`tracermon run` against simulated controllers: in-process (`sim:` ports) and over a pty from
`tracermon simulate`. What a user relies on: values reach the API, the files and the history;
faults never produce a stored value that is wrong; a dead controller costs one timeout per
cycle; the port vanishing is survived; kill -9 leaves a readable database; wall-clock jumps
leave history and energy sane; a one-shot read beside the daemon never becomes a second master.
"""

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

import journal
from daemon import (Daemon, DaemonTestCase, assert_config_refused, config_text, faketime_env,
                    now_ms, set_offset)
from peers import TRACERMON
from simulator import Simulator, wait_until

SIM3 = "sim:ids=1,2,3&profile=tracer-an+tracer-bn+tracer-an&seed=11&turnaround-ms=3"


class DaemonTest(DaemonTestCase):
    prefix = "tracermon-daemon-"

    def setUp(self):
        super().setUp()
        self.sims = []

    def tearDown(self):
        for s in self.sims:
            s.stop()

    def start(self, port, ids, **kw):
        env = kw.pop("env", None)
        d = Daemon(self.dir, config_text(self.dir, port, ids, **kw), env=env)
        self.daemons.append(d)
        return d

    def wait_fields(self, d, names, field="battery_voltage", timeout=30):
        def ready():
            latest = d.api("/api/v1/latest")["devices"]
            return all(n in latest and field in latest[n]["fields"] for n in names) and latest
        return wait_until(ready, timeout)

    def assert_only_served_values(self, d, served_path, units):
        """Every stored value was served by the simulator at that register before its time."""
        rows = d.export()
        wrong, checked = journal.wrong_values(rows, journal.load(served_path), units)
        self.assertEqual(wrong[:10], [], f"{len(wrong)} of {checked} stored values never served")
        return checked


class ValuesReachEveryOutput(DaemonTest):
    def test_api_files_history_get_export_metrics(self):
        d = self.start(SIM3, [1, 2, 3], names=["east", "west", "south"])
        self.wait_fields(d, ["east", "west", "south"])
        latest = self.wait_fields(d, ["east"], field="generated_energy_total")

        # The state file and the API show the same reading of the same cycle or a later one.
        with open(os.path.join(self.dir, "state", "east.json")) as f:
            state = json.load(f)
        self.assertEqual(state["device"], "east")
        self.assertEqual(state["fields"]["pv_rated_voltage"]["value"], 100.0)
        self.assertEqual(latest["east"]["fields"]["pv_rated_voltage"]["value"], 100.0)
        self.assertEqual(latest["west"]["fields"]["pv_rated_voltage"]["value"], 150.0)
        self.assertIn(state["status"]["charging_phase"], {"no charging", "float", "boost",
                                                          "equalize", "equalization"})

        # `get` reads the state files: same value as the file at that moment, fresh.
        out = d.run_cli("get", "east", "pv_rated_voltage", "--config", d.config)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(float(out.stdout), 100.0)
        out = d.run_cli("get", "east", "pvvolt", "--dir", os.path.join(self.dir, "state"))
        self.assertEqual(out.returncode, 0, out.stderr)
        float(out.stdout)
        out = d.run_cli("get", "nobody", "pvvolt", "--config", d.config)
        self.assertEqual(out.returncode, 3)
        self.assertIn("nobody", out.stderr)
        out = d.run_cli("get", "east", "no_such_field", "--config", d.config)
        self.assertEqual(out.returncode, 2)

        # The old tool's filesnap file, in its key order.
        with open(os.path.join(self.dir, "ep_tracer_1.log")) as f:
            keys = [line.split(":")[0] for line in f.read().splitlines()]
        self.assertEqual(keys[:3], ["pvvolt", "pvamps", "bavolt"])

        # Site totals from fresh values of every member.
        site = wait_until(lambda: d.api("/api/v1/latest")["sites"].get("home"))
        self.assertEqual(site["members"], ["east", "west", "south"])

        # Every consumer took its cycles: the sinks of the configuration, none failed or dropped.
        sinks = {s["name"]: s for s in d.api("/api/v1/status")["sinks"]}
        self.assertLessEqual({"store", "energy", "state_files", "filesnap", "events"}, set(sinks))
        for name, sink in sinks.items():
            self.assertGreater(sink["delivered"], 0, name)
            self.assertEqual((sink["failed"], sink["dropped"]), (0, 0), name)

        # History: committed each second, served by /api/v1/history and `tracermon export`.
        def history():
            h = d.api("/api/v1/history?device=east&fields=battery_voltage,pv_voltage"
                      "&from=-10m&to=now&points=600")
            return h if sum(v is not None for v in h["fields"]["battery_voltage"]) >= 3 else None
        h = wait_until(history, 30)
        self.assertEqual(len(h["time"]), len(h["fields"]["pv_voltage"]))
        self.assertLessEqual(len(h["time"]), 600)
        for v in h["fields"]["battery_voltage"]:
            if v is not None:
                self.assertTrue(20 < v < 34, v)
        rows = d.export("--device", "east")
        self.assertGreaterEqual(len(rows), 3)
        self.assertTrue(all(r["source"] == "east" for r in rows))
        self.assertIn("battery_voltage", rows[-1]["values"])

        # Metrics in the Prometheus text format.
        status, text = d.get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn('tracermon_battery_voltage_volts{device="east"', text)
        self.assertIn("# TYPE tracermon_modbus_requests_total counter", text)
        names = [line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE")]
        self.assertEqual(len(names), len(set(names)), "each family declared once")
        self.assertEqual(d.get("/healthz")[0], 200)

        # Bad queries get a 4xx with a message, never a crash.
        for path, code in [("/api/v1/history?device=east", 400),
                           ("/api/v1/history?device=nobody&fields=x", 404),
                           ("/api/v1/history?device=east&fields=a&from=yesterday", 400),
                           ("/api/v1/history?device=east&fields=a&points=0", 400),
                           ("/api/v1/energy?period=week", 400),
                           ("/nothing", 404)]:
            status, body = d.get(path)
            self.assertEqual(status, code, path)
            self.assertIn("error", json.loads(body), path)
        self.assertEqual(d.stop(), 0)


class FaultsAndADeadController(DaemonTest):
    def test_faults_never_store_a_wrong_value_and_a_dead_controller_costs_one_timeout(self):
        served = os.path.join(self.dir, "served.jsonl")
        faults = ("&fault=bad-crc=0.1&fault=garbage=0.1&fault=second-master=0.1&fault=echo=0.05"
                  "&fault=late=0.05&fault=late-ms=500&fault=truncated=0.05&fault=wrong-id=0.05")
        # id 4 is configured but not on the bus; id 2 is an LS-B, which has registers the BN
        # lacks (ambient temperature) and lacks some it has.
        d = self.start("sim:ids=1,2&profile=tracer-bn+ls-b&shared-battery=0&seed=12&turnaround-ms=3"
                       f"&journal={served}" + faults, [1, 2, 4], settings="2s")
        wait_until(lambda: d.device_status("dev1")["counters"]["cycles"] >= 12, 90)
        dev1 = d.device_status("dev1")
        dead = d.device_status("dev4")
        self.assertEqual(dead["health"], "offline")
        self.assertLessEqual(dead["counters"]["timeouts"], dead["counters"]["cycles"] + 3)
        self.assertLess(dead["counters"]["cycles"], dev1["counters"]["cycles"])
        c = dev1["counters"]
        # What happened on the line is counted, also when the read then succeeded.
        for counter in ("crc_errors", "echoes", "noise_bytes", "other_master"):
            self.assertGreater(c[counter], 0, counter)
        self.assertIn("ambient_temperature", dev1["unsupported"])
        d.stop()
        # Settings never change on their own: every stored copy equals the first.
        rows = [r for r in d.export("--device", "dev1")]
        self.assertGreater(len(rows), 5)
        first = {}
        compared = 0
        for r in rows:
            self.assertNotIn("ambient_temperature", r["values"], "a BN has no ambient sensor")
            for k in ("battery_capacity", "boost_voltage", "float_voltage",
                      "low_voltage_disconnect_voltage"):
                if k in r["values"]:
                    first.setdefault(k, r["values"][k])
                    self.assertEqual(r["values"][k], first[k], k)
                    compared += 1
        self.assertGreater(compared, 10)
        self.assertFalse(any(r["source"] == "dev4" for r in d.export()))
        self.assertGreater(self.assert_only_served_values(d, served, {"dev1": 1, "dev2": 2}), 500)


class LateReplies(DaemonTest):
    """Replies that come after their request gave up (a slow Wi-Fi bridge, a busy controller)
    are never stored as the values of a later request."""

    def run_late(self, port, served, units):
        d = self.start(port, sorted(units.values()), settings="2s")

        def late_replies():
            return sum(d.device_status(n)["counters"]["late_replies"] for n in units)
        for name in units:
            wait_until(lambda n=name: d.device_status(n)["counters"]["cycles"] >= 5, 120)
        wait_until(lambda: late_replies() > 0, 60)
        d.stop()
        self.assertGreater(self.assert_only_served_values(d, served, units), 100)

    def test_in_process(self):
        served = os.path.join(self.dir, "served.jsonl")
        self.run_late(f"sim:ids=1,2&seed=5&turnaround-ms=3&fault=late=0.2&fault=late-ms=500"
                      f"&journal={served}", served, {"dev1": 1, "dev2": 2})

    def run_late_over(self, link, rate, seed):
        served = os.path.join(self.dir, "served.jsonl")
        sim = Simulator(self.dir, "--fault", f"late={rate}", "--fault", "late-ms=500",
                        "--journal", served, "--seed", str(seed), ids="1,2")
        self.sims.append(sim)
        self.run_late(sim.pty if link == "pty" else sim.rtu_tcp, served, {"dev1": 1, "dev2": 2})

    def test_over_a_pty(self):
        self.run_late_over("pty", 0.2, 3)

    def test_rtu_over_tcp(self):
        self.run_late_over("rtu+tcp", 0.1, 4)


class PortOverAPty(DaemonTest):
    def test_read_beside_the_daemon_and_the_adapter_unplugged(self):
        sim = Simulator(self.dir, ids="1,2")
        self.sims.append(sim)
        d = self.start(sim.pty, [1, 2])
        self.wait_fields(d, ["dev1", "dev2"])
        before = d.device_status("dev1")["counters"]

        # A one-shot read on the same port is refused with the reason; the daemon's polling
        # sees no collision.
        env = dict(os.environ, TRACERMON_RUNTIME_DIR=os.path.join(self.dir, "run"))
        out = subprocess.run([TRACERMON, "read", "1", "pvvolt", "--port", sim.pty],
                             capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(out.returncode, 3, out.stdout)
        self.assertIn("daemon", out.stderr)
        self.assertIn("tracermon get", out.stderr)
        wait_until(lambda: d.device_status("dev1")["counters"]["cycles"] >= before["cycles"] + 2)
        after = d.device_status("dev1")["counters"]
        self.assertEqual(after["timeouts"], before["timeouts"])
        self.assertEqual(after["crc_errors"], before["crc_errors"])

        # The USB adapter vanishes for 3 s and comes back: polling resumes on its own.
        self.assertEqual(sim.control("unplug 3000"), "ok")
        wait_until(lambda: not d.api("/api/v1/status")["buses"][0]["link_up"], 20)
        unplugged_at = now_ms()
        wait_until(lambda: d.api("/api/v1/status")["buses"][0]["link_up"], 40)
        wait_until(lambda: d.api("/api/v1/latest")["devices"]["dev1"]["fields"]
                   ["battery_voltage"]["time_ms"] > unplugged_at + 3000, 40)
        self.assertIn("is back", d.log_text())


class CrashSafety(DaemonTest):
    def test_kill_9_leaves_a_readable_database_losing_at_most_the_commit_window(self):
        d = self.start(SIM3, [1, 2, 3], commit="2s")
        wait_until(lambda: len(d.export()) >= 10, 60)
        # Kill in the middle of work: whatever was committed must be there and intact.
        d.stop(signal.SIGKILL)
        killed_at = now_ms()
        db = sqlite3.connect(os.path.join(self.dir, "history.db"))
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        db.close()
        rows = d.export()
        newest = max(r["time_ms"] for r in rows)
        # commit window (2 s) + one cycle (1 s) + slack for the slowest machine's cycle.
        self.assertGreater(newest, killed_at - 2000 - 1000 - 3000)


class Shutdown(DaemonTest):
    def test_sigterm_commits_and_sighup_reloads(self):
        d = self.start(SIM3, [1, 2], commit="1h")  # nothing is committed by the timer
        self.wait_fields(d, ["dev1", "dev2"])
        # A broken file on SIGHUP is refused and the daemon keeps going.
        with open(d.config) as f:
            good = f.read()
        with open(d.config, "w") as f:
            f.write(good.replace('name = "bus1"', 'name = "bus1"\nbogus = 1'))
        d.send(signal.SIGHUP)
        wait_until(lambda: "reload refused" in d.log_text())
        self.assertIn("bogus", d.log_text())
        # A good file with a third device is taken; the counters go on from where they were.
        with open(d.config, "w") as f:
            f.write(good + '\n  [[bus.device]]\n  id = 3\n  name = "dev3"\n')
        before = d.device_status("dev1")["counters"]
        d.send(signal.SIGHUP)
        wait_until(lambda: "reloaded" in d.log_text())
        with open(os.path.join(self.dir, "run", "daemon.json")) as f:
            info = json.load(f)
        d.url = info["http"].rstrip("/")
        wait_until(lambda: "dev3" in d.api("/api/v1/latest")["devices"], 30)
        after = d.device_status("dev1")["counters"]
        for counter in ("cycles", "requests", "replies"):
            self.assertGreaterEqual(after[counter], before[counter], counter)
        stopped_at = now_ms()
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        rows = d.export()
        self.assertTrue(any(r["source"] == "dev3" for r in rows))
        self.assertGreater(max(r["time_ms"] for r in rows), stopped_at - 4000,
                           "SIGTERM committed what the daemon held")


class WallClockJumps(DaemonTest):
    def test_untrusted_clock_holds_history_and_jumps_leave_energy_sane(self):
        offset = os.path.join(self.dir, "faketime")
        set_offset(offset, "-4000d")  # a Pi booted without RTC: the clock says 2016
        d = self.start(SIM3 + "&speed=600", [1, 2], slow="1s", env=faketime_env(offset))
        self.wait_fields(d, ["dev1", "dev2"])
        self.assertEqual(d.export(), [], "nothing filed while the clock is not trusted")
        set_offset(offset, "+0")  # NTP arrives
        wait_until(lambda: len(d.export()) >= 4, 30)
        set_offset(offset, "+3h")  # a jump forward...
        wait_until(lambda: any(r["time_ms"] > now_ms() + 2 * 3600 * 1000 for r in d.export()), 30)
        set_offset(offset, "-1h")  # ... and one back, behind rows already stored
        wait_until(lambda: any(r["time_ms"] < now_ms() - 1800 * 1000 for r in d.export()), 30)
        wait_until(lambda: d.api("/api/v1/status")["clock_jumps"] >= 3, 30)
        self.assertIn("wall clock jumped", d.log_text())
        d.stop()
        rows = d.export()
        self.assertTrue(all(r["time_ms"] > 1767225600000 for r in rows), "nothing under 1970/2016")
        set_offset(offset, "+0")
        d2 = self.start(SIM3, [1, 2])
        energy = d2.api("/api/v1/energy?period=day")
        for source, days in energy["day"].items():
            for day in days:
                self.assertGreaterEqual(day["generated_kwh"], 0, (source, day))
                self.assertGreaterEqual(day["consumed_kwh"], 0, (source, day))


if __name__ == "__main__":
    unittest.main()


class BadConfiguration(unittest.TestCase):
    """Each mistake stops `config check` and `run` with exit status 2 and FILE:LINE: KEY."""

    def check(self, text, line, key, *args):
        with tempfile.TemporaryDirectory() as d:
            assert_config_refused(self, d, text, line, key, *args)

    def test_mistakes(self):
        bus = '[[bus]]\nport = "sim:ids=1"\n  [[bus.device]]\n  id = 1\n'
        self.check('[poll]\nfast = 5\nfastt = "1s"\n' + bus, 3, "poll.fastt", "allowed")
        self.check(bus + '  [[bus.device]]\n  id = 1\n', 6, "bus[1].device[2].id", "line 4")
        self.check(bus.replace("id = 1", 'id = "one"'), 4, "bus[1].device[1].id", "integer")
        self.check(bus.replace("id = 1", "id = 300"), 4, "bus[1].device[1].id", "1-247")
        self.check('[store]\nraw_days = -1\n' + bus, 2, "store.raw_days")

    def test_good_example_files_pass(self):
        for name in ("tracermon.toml", "demo.toml"):
            path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", name)
            out = subprocess.run([TRACERMON, "config", "check", path], capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)


class GetFromStateFiles(unittest.TestCase):
    """`tracermon get` refuses a value older than three poll intervals, and names the field."""

    def write_state(self, d, age_ms):
        state = {"device": "east", "time_ms": now_ms() - age_ms,
                 "fields": {"pv_voltage": {"value": 18.52, "unit": "V", "time": "x",
                                           "time_ms": now_ms() - age_ms, "max_age_s": 15}},
                 "missing": {"battery_soc": "read_failed: timeout"}}
        with open(os.path.join(d, "east.json"), "w") as f:
            json.dump(state, f)

    def get(self, d, field):
        return subprocess.run([TRACERMON, "get", "east", field, "--dir", d], capture_output=True,
                              text=True, timeout=30)

    def test_fresh_stale_and_missing(self):
        with tempfile.TemporaryDirectory() as d:
            self.write_state(d, 1000)
            out = self.get(d, "pvvolt")
            self.assertEqual((out.returncode, out.stdout.strip()), (0, "18.52"))
            self.write_state(d, 60_000)
            out = self.get(d, "pv_voltage")
            self.assertEqual(out.returncode, 3)
            self.assertIn("stale", out.stderr)
            self.assertEqual(out.stdout, "")
            out = self.get(d, "battery_soc")
            self.assertEqual(out.returncode, 3)
            self.assertIn("timeout", out.stderr)


class LiveEvents(DaemonTest):
    """/api/v1/events: what the dashboard listens to."""

    @staticmethod
    def open_stream(d):
        url = urllib.parse.urlsplit(d.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
        conn.request("GET", "/api/v1/events")
        return conn, conn.getresponse()

    @staticmethod
    def read_events(response, wanted):
        """Reads SSE lines until `wanted(events)` holds; events are (type, parsed data)."""
        events = []
        kind = None
        while not wanted(events):
            line = response.readline().decode()
            if not line:
                raise AssertionError(f"stream ended after {events}")
            line = line.rstrip("\n")
            if line.startswith("event: "):
                kind = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[len("data: "):])))
        return events

    def test_every_cycle_reaches_the_stream_and_shutdown_ends_it(self):
        d = self.start(SIM3, [1, 2, 3], names=["east", "west", "south"])
        conn, response = self.open_stream(d)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type"), "text/event-stream")
        events = self.read_events(response, lambda ev: {e[1].get("device") for e in ev
                                                        if e[0] == "device"} >= {"east", "west",
                                                                                 "south"}
                                  and any(e[0] == "site" for e in ev))
        latest = d.api("/api/v1/latest")
        for kind, data in events:
            if kind == "device":
                # The same object as the device's entry in /api/v1/latest.
                self.assertEqual(set(data), set(latest["devices"][data["device"]]))
                self.assertIn("battery_voltage", data["fields"])
            else:
                self.assertEqual(kind, "site")
                self.assertEqual(data["site"], "home")
                self.assertEqual(set(data), set(latest["sites"]["home"]))

        # Eight streams are served; a ninth is told to poll, and the API still answers.
        more = [self.open_stream(d) for _ in range(7)]
        for _, r in more:
            self.assertEqual(r.status, 200)
        status, body = d.get("/api/v1/events")
        self.assertEqual(status, 503)
        self.assertIn("/api/v1/latest", json.loads(body)["error"])
        self.assertEqual(d.get("/api/v1/status")[0], 200)

        # SIGTERM with nine browsers attached: every stream ends and the daemon exits cleanly.
        self.assertEqual(d.stop(timeout=20), 0)
        for c, r in [(conn, response)] + more:
            while r.readline():
                pass
            c.close()


class DashboardFiles(DaemonTest):
    def test_served_from_the_binary_or_from_a_development_folder(self):
        d = self.start(SIM3, [1], names=["east"])
        status, body = d.get("/")
        self.assertEqual(status, 200)
        self.assertIn("<!doctype html>", body.lower())
        d.stop()
        self.daemons.clear()

        web = os.path.join(self.dir, "web")
        os.makedirs(web)
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>dev page</title>")
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("console.log('dev')")
        d = self.start(SIM3, [1], names=["east"], env={"TRACERMON_WEB_DIR": web})
        self.assertEqual(d.get("/"), (200, "<!doctype html><title>dev page</title>"))
        self.assertEqual(d.get("/app.js")[1], "console.log('dev')")
        # Edited files show on the next request, without a restart.
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("console.log('edited')")
        self.assertEqual(d.get("/app.js")[1], "console.log('edited')")
        status, body = d.get("/style.css")
        self.assertEqual(status, 404)
        self.assertIn("style.css", json.loads(body)["error"])
        self.assertEqual(d.get("/secret.txt")[0], 404)



class DemoCommand(unittest.TestCase):
    """`tracermon demo` works from any folder with no source tree: three simulated controllers
    online, simulated history filed, every file in the demo's folder."""

    def test_demo_runs_from_its_own_folder(self):
        with tempfile.TemporaryDirectory(prefix="tracermon-demo-") as d:
            proc = subprocess.Popen([TRACERMON, "demo", "--dir", d, "--listen", "127.0.0.1:0",
                                     "--history", "1"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, cwd="/")
            try:
                def info():
                    if proc.poll() is not None:
                        raise AssertionError(f"demo exited with {proc.returncode}: "
                                             + proc.stderr.read())
                    try:
                        with open(os.path.join(d, "run", "daemon.json")) as f:
                            return json.load(f)
                    except (OSError, ValueError):
                        return None
                url = wait_until(info, 120)["http"].rstrip("/")

                def online():
                    with urllib.request.urlopen(url + "/api/v1/status", timeout=10) as r:
                        status = json.load(r)
                    devices = [dev for bus in status["buses"] for dev in bus["devices"]]
                    names = {dev["name"] for dev in devices if dev["health"] == "online"}
                    return names if names == {"east", "west", "south"} else None
                wait_until(online, 60)
                with urllib.request.urlopen(
                        url + "/api/v1/history?device=east&fields=pv_power&from=-24h&to=now"
                        "&points=200", timeout=10) as r:
                    history = json.load(r)
                filled = [v for v in history["fields"]["pv_power"] if v is not None]
                self.assertGreater(len(filled), 100, "a day of simulated history")
                self.assertTrue(os.path.exists(os.path.join(d, "tracermon.db")))
            finally:
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=60), 0)
                proc.stderr.close()
