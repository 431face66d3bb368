"""`tracermon set`, `load`, `clock` and `settings` against independent peers.

WriteFrames: a pymodbus slave that writes down every request frame it receives
(recording_peer.py), holding plausible Tracer settings, so a test sees exactly what went over
the wire: which writes, in which blocks, with which words, and that nothing else was written.
BadControlInput: mistakes on the command line are refused with a clear message and no write.
ThroughTheDaemon: with a running daemon the commands go through its control socket.
"""

import datetime
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import unittest
from pathlib import Path

from daemon import Daemon, DaemonTestCase, config_text
from peers import PYTHON, START_TIMEOUT, TRACERMON, Bench, run, wait_for_line
from simulator import wait_until

RECORDING_PEER = str(Path(__file__).with_name("recording_peer.py"))

# The vendor's example battery block 0x9000-0x900E: User type, 200 Ah, 3.00 mV/degC/2V and the
# eleven voltages per 12 V block (0x9007 is the boost voltage, 14.40 V).
VENDOR_BLOCK = [0, 200, 300, 1600, 1500, 1500, 1460, 1440, 1380, 1320, 1260, 1220, 1200, 1110,
                1060]
BOOST = 0x9007

# The clock the peer starts with: far from the host's, so a sync has something to do.
PEER_CLOCK = (2020, 1, 2, 3, 4, 5)  # year, month, day, hour, minute, second


def rtc_words(year, month, day, hour, minute, second):
    return [minute << 8 | second, day << 8 | hour, (year - 2000) << 8 | month]


def rtc_time(words):
    minute_second, day_hour, year_month = words
    return datetime.datetime(2000 + (year_month >> 8), year_month & 0xFF, day_hour >> 8,
                             day_hour & 0xFF, minute_second >> 8, minute_second & 0xFF)


def s16(value):
    return value & 0xFFFF


def settings_tables(load_mode=1, manual_load=0):
    """Every writable register and coil of the Tracer AN with plausible values."""
    holding = dict(zip(range(0x9000, 0x900F), VENDOR_BLOCK))
    holding.update(zip(range(0x9013, 0x9016), rtc_words(*PEER_CLOCK)))
    holding.update({
        0x9016: 30,  # equalization every 30 days
        0x9017: 6500, 0x9018: s16(-4000),  # battery temperature limits, degC x100
        0x9019: 8500, 0x901A: 7500, 0x901B: 8500, 0x901C: 7500, 0x901D: 0,
        0x901E: 500, 0x901F: 10, 0x9020: 600, 0x9021: 10,  # night/day threshold and delays
        0x903D: load_mode,  # 0 manual, 1 light on/off
        0x903E: 1 << 8, 0x903F: 1 << 8,  # timers 1:00
        0x9042: 0, 0x9043: 0, 0x9044: 19, 0x9045: 0, 0x9046: 0, 0x9047: 6,
        0x9048: 0, 0x9049: 0, 0x904A: 19, 0x904B: 0, 0x904C: 0, 0x904D: 6,
        0x9063: 60, 0x9065: 10 << 8, 0x9066: 1,
        0x9067: 2,  # 24 V
        0x9069: 0, 0x906A: 0, 0x906B: 120, 0x906C: 120, 0x906D: 80, 0x906E: 100, 0x9070: 0,
    })
    coils = {addr: 0 for addr in range(0, 7)}
    coils[0] = 1  # charging on
    coils[2] = manual_load
    return {"holding": {hex(a): v for a, v in holding.items()},
            "coil": {hex(a): v for a, v in coils.items()}}


class FramePeer:
    """recording_peer.py serving unit 1 on a free loopback port; `frames()` is what it got."""

    def __init__(self, bench, link, tables):
        values = os.path.join(bench.dir, "values.json")
        with open(values, "w") as f:
            json.dump({"units": {"1": tables}}, f)
        self.path = os.path.join(bench.dir, "frames.jsonl")
        Path(self.path).touch()
        proc = bench.procs.start([PYTHON, RECORDING_PEER, "--link", link, "--values", values,
                                  "--frames", self.path])
        port = int(wait_for_line(proc, START_TIMEOUT).split()[1])
        self.port = f"{'tcp' if link == 'tcp' else 'rtu+tcp'}://127.0.0.1:{port}"

    def frames(self):
        with open(self.path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def writes(self, since=0):
        return [f for f in self.frames()[since:] if f["fc"] in (5, 6, 15, 16)]


def frame_text(frames):
    return "\n".join(json.dumps(f) for f in frames)


class WriteFrames(unittest.TestCase):
    """Exactly the writes docs/control.md promises, seen on the wire (Modbus TCP)."""

    LINK = "tcp"

    def setUp(self):
        self.bench = Bench()
        self.addCleanup(self.bench.close)
        self.peer = FramePeer(self.bench, self.LINK, settings_tables())

    def tearDown(self):
        for f in self.peer.frames():
            self.assertEqual(f["unit"], 1, f)
            self.assertNotIn(f["fc"], (6, 15), f)  # never single registers or many coils
            if self.LINK == "rtu-tcp":
                self.assertTrue(f["crc_ok"], f)

    def cli(self, *args):
        # An empty runtime dir: no daemon of the host is asked.
        return run(*args, "--port", self.peer.port, "--runtime-dir",
                   os.path.join(self.bench.dir, "run"))

    def assert_no_write(self, since, out):
        writes = self.peer.writes(since)
        self.assertEqual(writes, [], f"{out.stdout}\n{out.stderr}\n{frame_text(writes)}")

    def test_boost_goes_as_the_whole_battery_block_once(self):
        out = self.cli("set", "1", "boost_charging_voltage=14.2", "--yes")
        self.assertEqual(out.returncode, 0, out.stderr)
        frames = self.peer.frames()
        writes = self.peer.writes()
        expected = list(VENDOR_BLOCK)
        expected[BOOST - 0x9000] = 1420
        self.assertEqual(
            [(w["fc"], w["address"], w["count"], w["values"]) for w in writes],
            [(0x10, 0x9000, 15, expected)], frame_text(frames))
        # A fresh read of the block before the write, a read-back after it.
        at = next(i for i, f in enumerate(frames) if f["fc"] == 0x10)
        reads_of_block = [i for i, f in enumerate(frames) if f["fc"] == 3 and f["address"] <= BOOST
                          < f["address"] + f["count"]]
        self.assertTrue(any(i < at for i in reads_of_block), frame_text(frames))
        self.assertTrue(any(i > at for i in reads_of_block), frame_text(frames))
        self.assertRegex(out.stdout, r"boost_charging_voltage +14\.4 V -> 14\.2 V +\[written\]")

        # The same again changes nothing: it reads, and writes nothing.
        mark = len(self.peer.frames())
        again = self.cli("set", "1", "boost_charging_voltage=14.2V", "--yes")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assert_no_write(mark, again)
        self.assertGreater(len(self.peer.frames()), mark)  # it did read
        self.assertIn("[unchanged]", again.stdout)

    def test_load_on_sets_manual_mode_then_the_coil(self):
        out = self.cli("load", "1", "on")
        self.assertEqual(out.returncode, 0, out.stderr)
        writes = self.peer.writes()
        self.assertEqual(
            [(w["fc"], w["address"], w.get("count"), w.get("values"), w.get("value"))
             for w in writes],
            [(0x10, 0x903D, 1, [0], None), (0x05, 2, None, None, 0xFF00)],
            frame_text(self.peer.frames()))
        # Already manual: off is the coil alone (0x0000), and on twice writes nothing.
        mark = len(self.peer.frames())
        off = self.cli("load", "1", "off")
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertEqual([(w["fc"], w["address"], w["value"]) for w in self.peer.writes(mark)],
                         [(0x05, 2, 0x0000)])
        self.cli("load", "1", "on")
        mark = len(self.peer.frames())
        again = self.cli("load", "1", "on")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assert_no_write(mark, again)

    def test_load_auto_is_the_light_mode_alone(self):
        self.cli("load", "1", "on")
        mark = len(self.peer.frames())
        out = self.cli("load", "1", "auto")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(
            [(w["fc"], w["address"], w["values"]) for w in self.peer.writes(mark)],
            [(0x10, 0x903D, [1])])

    def test_clock_sync_writes_the_host_time_once(self):
        look = self.cli("clock", "1")
        self.assertEqual(look.returncode, 0, look.stderr)
        self.assertIn("controller 2020-01-02T03:04:05", look.stdout)
        self.assert_no_write(0, look)

        mark = len(self.peer.frames())
        before = datetime.datetime.now().replace(microsecond=0)
        out = self.cli("clock", "1", "--sync", "--trust-host-clock")
        after = datetime.datetime.now()
        self.assertEqual(out.returncode, 0, out.stderr)
        writes = self.peer.writes(mark)
        self.assertEqual([(w["fc"], w["address"], w["count"]) for w in writes],
                         [(0x10, 0x9013, 3)], frame_text(self.peer.frames()))
        written = rtc_time(writes[0]["values"])
        slack = datetime.timedelta(seconds=1)
        self.assertTrue(before - slack <= written <= after + slack, (before, written, after))
        self.assertIn("synchronised", out.stdout)

        # In step now: a second sync writes nothing.
        mark = len(self.peer.frames())
        again = self.cli("clock", "1", "--sync", "--trust-host-clock")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assert_no_write(mark, again)

    def test_a_broken_rule_writes_nothing_and_names_both_settings(self):
        out = self.cli("set", "1", "boost_charging_voltage=13.5", "--yes")
        self.assertEqual(out.returncode, 4, out.stderr)
        self.assertIn("boost_charging_voltage", out.stderr)
        self.assertIn("float_charging_voltage", out.stderr)
        self.assert_no_write(0, out)
        # A voltage with a preset battery type is a rule too.
        out = self.cli("set", "1", "battery_type=sealed", "boost_charging_voltage=14.2", "--yes")
        self.assertEqual(out.returncode, 4, out.stderr)
        self.assertIn("battery_type", out.stderr)
        self.assert_no_write(0, out)

    def test_preview_without_yes_and_dry_run_write_nothing(self):
        for extra in ([], ["--dry-run"], ["--yes", "--dry-run"]):
            with self.subTest(extra=extra):
                out = self.cli("set", "1", "boost_charging_voltage=14.2", *extra)
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertIn("nothing written", out.stderr)
                self.assertIn("FC 0x10 0x9000 x15 (not sent)", out.stdout)
                self.assertRegex(out.stdout,
                                 r"boost_charging_voltage +14\.4 V -> 14\.2 V +\[dry-run\]")
        self.assert_no_write(0, out)
        self.assertGreater(len(self.peer.frames()), 0)  # the preview reads

    def test_unknown_setting_is_bad_input(self):
        out = self.cli("set", "1", "boost_voltage=14.2", "--yes")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("unknown setting 'boost_voltage'", out.stderr)
        self.assertIn("set --list", out.stderr)
        out = self.cli("set", "1", "rtc_minute_second=3", "--yes")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("clock", out.stderr)
        self.assert_no_write(0, out)

    def apply(self, text):
        path = os.path.join(self.bench.dir, "settings.toml")
        with open(path, "w") as f:
            f.write("[settings]\n" + text)
        return self.cli("settings", "apply", path, "1", "--yes")

    def test_apply_a_file(self):
        # The battery type spelled as a person would: the voltages stay in.
        out = self.apply('battery_type = "user"\nboost_charging_voltage = 14.2\n'
                         'length_of_night = "11:30"\n')
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        expected = list(VENDOR_BLOCK)
        expected[BOOST - 0x9000] = 1420
        self.assertEqual(
            [(w["fc"], w["address"], w["values"]) for w in self.peer.writes()],
            [(0x10, 0x9000, expected), (0x10, 0x9065, [11 << 8 | 30])],
            frame_text(self.peer.frames()))
        # A preset type: its voltages are dropped, and the block is 0x9000-0x9002 alone.
        mark = len(self.peer.frames())
        out = self.apply("battery_type = 1\nbattery_capacity = 100\nboost_charging_voltage = 15\n")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(
            [(w["fc"], w["address"], w["values"]) for w in self.peer.writes(mark)],
            [(0x10, 0x9000, [1, 100, 300])], frame_text(self.peer.frames()))
        self.assertNotIn("boost_charging_voltage", out.stdout)

    def test_a_stale_socket_file_is_passed_over(self):
        # A daemon that died left its socket file: nobody listens, so the port is opened.
        run_dir = os.path.join(self.bench.dir, "run")
        os.makedirs(run_dir, exist_ok=True)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(os.path.join(run_dir, "control.sock"))
        out = self.cli("set", "1", "battery_capacity=300", "--yes")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([(w["address"], w["values"][1]) for w in self.peer.writes()],
                         [(0x9000, 300)])

    def test_export_reads_every_setting(self):
        out = self.cli("settings", "export", "1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("boost_charging_voltage = 14.4  # V", out.stdout)
        self.assertIn("battery_capacity = 200", out.stdout)
        self.assertIn("battery_rated_voltage_code = 2", out.stdout)
        self.assert_no_write(0, out)


class WriteFramesRtuOverTcp(WriteFrames):
    """The same over RTU framing (a transparent bridge): every frame with a good CRC."""

    LINK = "rtu-tcp"


class BadControlInput(unittest.TestCase):
    """Mistakes are named with what and where, exit non-zero, and write nothing."""

    def setUp(self):
        self.bench = Bench()
        self.addCleanup(self.bench.close)
        self.peer = FramePeer(self.bench, "tcp", settings_tables())
        self.run_dir = os.path.join(self.bench.dir, "run")
        self.config = os.path.join(self.bench.dir, "tracermon.toml")
        with open(self.config, "w") as f:
            f.write(f'runtime_dir = "{self.run_dir}"\n[store]\nenabled = false\n'
                    f'[[bus]]\nport = "{self.peer.port}"\n'
                    '  [[bus.device]]\n  id = 1\n  name = "east"\n')

    def tearDown(self):
        self.assertEqual(self.peer.writes(), [], frame_text(self.peer.frames()))

    def refused(self, args, status, *words):
        out = run(*args)
        self.assertEqual(out.returncode, status, (args, out.stdout, out.stderr))
        for word in words:
            self.assertIn(word, out.stderr, args)
        return out

    def port(self, *args):
        return [*args, "--port", self.peer.port, "--runtime-dir", self.run_dir]

    def test_assignment_without_equals(self):
        self.refused(self.port("set", "1", "boost_charging_voltage", "14.2", "--yes"), 2,
                     "'boost_charging_voltage'", "NAME=VALUE")
        self.refused(self.port("set", "1", "=14.2", "--yes"), 2, "'=14.2'", "NAME=VALUE")

    def test_unknown_device(self):
        self.refused(["set", "west", "battery_capacity=300", "--yes", "--config", self.config],
                     2, "no device 'west'", self.config)
        self.refused(self.port("set", "west", "battery_capacity=300", "--yes"), 2, "west")
        # A slave id nobody answers: the fresh read fails, so nothing is written.
        self.refused(self.port("set", "7", "battery_capacity=300", "--yes"), 3,
                     "cannot read the current settings, nothing written")

    def test_wrong_unit(self):
        self.refused(self.port("set", "1", "boost_charging_voltage=14.4A", "--yes"), 2,
                     "boost_charging_voltage", "'14.4A'", "in V")
        self.refused(["set", "east", "battery_capacity=200V", "--yes", "--config", self.config],
                     2, "battery_capacity", "'200V'", "Ah")

    def test_out_of_range(self):
        self.refused(self.port("set", "1", "boost_charging_voltage=28.8", "--yes"), 2,
                     "boost_charging_voltage", "28.8", "9 V to 17 V", "per 12 V block")
        self.refused(self.port("set", "1", "battery_capacity=0", "--yes"), 2,
                     "battery_capacity", "1 Ah to 9999 Ah")
        self.refused(self.port("set", "1", "boost_charging_voltage=14.123", "--yes"), 2,
                     "more precise")
        self.refused(self.port("set", "1", "battery_type=lifepo4", "--yes"), 2, "ambiguous")
        self.refused(self.port("load", "1", "dim"), 2, "'dim'", "on, off or auto")

    def test_clock_all_needs_device_names(self):
        # A port alone names no devices: an error, not an empty list and exit 0.
        self.refused(self.port("clock", "--all"), 2, "--all", "--config")
        self.refused(self.port("clock", "1", "--all"), 2, "one DEVICE or --all")
        out = run("clock", "--all", "--config", self.config)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"^east +controller 2020-01-02T03:04:05")

    def test_a_socket_that_answers_garbage(self):
        os.makedirs(self.run_dir)
        server = socket.socket(socket.AF_UNIX)
        self.addCleanup(server.close)
        server.bind(os.path.join(self.run_dir, "control.sock"))
        server.listen()

        def serve():
            conn, _ = server.accept()
            with conn:
                conn.makefile("rb").readline()
                conn.sendall(b"not json\n")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        # The daemon's answer is the answer: no fallback to the port it may hold.
        self.refused(self.port("set", "1", "battery_capacity=300", "--yes"), 3,
                     "answered garbage")
        thread.join(10)

    def test_no_port_and_no_config(self):
        out = self.refused(["set", "1", "battery_capacity=300", "--yes",
                            "--runtime-dir", self.run_dir], 2)
        self.assertIn("--port", out.stderr)


class ThroughTheDaemon(DaemonTestCase):
    """With a daemon on the bus the CLI asks it over <runtime_dir>/control.sock."""

    NAMES = ["east", "west", "north"]
    PORT = "sim:ids=1,2,3&profile=tracer-an+tracer-an+tracer-an&seed=21&turnaround-ms=3"

    def setUp(self):
        super().setUp()
        self.daemon = Daemon(self.dir, config_text(self.dir, self.PORT, [1, 2, 3], self.NAMES))
        self.daemons.append(self.daemon)
        self.run_dir = os.path.join(self.dir, "run")
        self.socket = os.path.join(self.run_dir, "control.sock")

    def cli(self, *args):
        return self.daemon.run_cli(*args, "--runtime-dir", self.run_dir)

    def latest(self, name, field):
        devices = self.daemon.api("/api/v1/latest")["devices"]
        return devices.get(name, {}).get("fields", {}).get(field, {}).get("value")

    def exported(self, name):
        out = self.cli("settings", "export", name)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.split("[settings]\n", 1)[1]

    def ask(self, data):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.socket)
            s.sendall(data)
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return json.loads(reply)

    def test_set_goes_through_the_socket_and_the_poll_sees_it(self):
        wait_until(lambda: self.latest("east", "battery_capacity") is not None, 30)
        self.assertTrue(os.path.exists(self.socket))
        self.assertEqual(os.stat(self.socket).st_mode & 0o777, 0o660)
        old = self.latest("east", "battery_capacity")
        self.assertNotEqual(old, 300)
        # No --port and no --config: only the daemon can do it (there is no adapter here).
        out = self.cli("set", "east", "battery_capacity=300", "--yes")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"east +battery_capacity +\d+ Ah -> 300 Ah +\[written\]")
        self.assertRegex(self.daemon.log_text(),
                         r"control: cli set east battery_capacity \d+ -> 300: written")
        # The settings are read again after a write (settings poll: 1 h).
        wait_until(lambda: self.latest("east", "battery_capacity") == 300, 30)
        # Audited in audit.db beside the history database.
        with sqlite3.connect(os.path.join(self.dir, "audit.db")) as db:
            rows = db.execute("SELECT * FROM sqlite_master WHERE type='table'").fetchall()
            self.assertTrue(rows)
            table = rows[0][1]
            dump = repr(db.execute(f"SELECT * FROM {table}").fetchall())
        self.assertIn("battery_capacity", dump)
        self.assertIn("cli", dump)
        # With --config the runtime dir comes from the file, and the daemon still does it.
        out = self.daemon.run_cli("set", "west", "battery_capacity=300", "--yes",
                                  "--config", self.daemon.config)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(self.daemon.log_text(),
                         r"control: cli set west battery_capacity \d+ -> 300: written")
        self.assertIsNone(self.daemon.proc.poll())

    def test_clock_all_lists_every_device(self):
        out = self.cli("clock", "--all")
        self.assertEqual(out.returncode, 0, out.stderr)
        for name in self.NAMES:
            self.assertRegex(out.stdout, rf"(?m)^{name} +controller \S+ +host \S+ +drift ")
        self.assertEqual(len(out.stdout.splitlines()), 3, out.stdout)

    def test_export_and_apply_clone_the_settings(self):
        out = self.cli("set", "east", "battery_type=user", "battery_capacity=300",
                       "battery_rated_voltage_code=12V", "boost_charging_voltage=14.2",
                       "equalize_duration=90", "--yes")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        east = self.exported("east")
        self.assertIn("boost_charging_voltage = 14.2  # V", east)
        self.assertNotEqual(self.exported("west"), east)
        path = os.path.join(self.dir, "east.toml")
        with open(path, "w") as f:
            f.write(self.cli("settings", "export", "east").stdout)
        preview = self.cli("settings", "apply", path, "west", "north")
        self.assertEqual(preview.returncode, 0, preview.stderr)
        self.assertIn("nothing written", preview.stderr)
        self.assertNotEqual(self.exported("west"), east)
        out = self.cli("settings", "apply", path, "west", "north", "--yes")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(self.exported("west"), east)
        self.assertEqual(self.exported("north"), east)

    def test_garbage_on_the_socket_is_a_400_and_the_daemon_goes_on(self):
        for data in (b"this is not json\n", b"[1, 2]\n", b"{\"action\": \"set\"}\n",
                     b"{\"action\": \"set\", \"device\": \"east\", \"settings\": {\"a\": []}}\n",
                     b"\xff\xfe\n", b""):
            with self.subTest(data=data):
                if data:
                    reply = self.ask(data)
                else:  # a client that says nothing and hangs up
                    reply = self.ask_and_hang_up()
                self.assertEqual(reply["status"], 400, reply)
                self.assertFalse(reply["ok"])
                self.assertTrue(reply["error"])
        self.assertIsNone(self.daemon.proc.poll())
        out = self.cli("clock", "--all")
        self.assertEqual(out.returncode, 0, out.stderr)

    def ask_and_hang_up(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.socket)
            s.shutdown(socket.SHUT_WR)
            return json.loads(s.makefile("rb").readline())

    def test_a_peer_that_is_not_allowed_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to connect as another user")
        def as_nobody():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)

        for path in (self.dir, self.run_dir):
            os.chmod(path, 0o755)
        # The socket's mode (0660) keeps 'nobody' out: said so, and no fallback to a port.
        cli = subprocess.run([TRACERMON, "load", "east", "on", "--runtime-dir", self.run_dir],
                             capture_output=True, text=True, timeout=60, preexec_fn=as_nobody)
        self.assertEqual(cli.returncode, 3, cli.stdout + cli.stderr)
        self.assertIn("cannot reach the daemon", cli.stderr)
        self.assertIn("Permission denied", cli.stderr)
        # Let 'nobody' connect, so that the daemon's own check is what refuses.
        os.chmod(self.socket, 0o666)
        client = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX)\n"
                  "s.settimeout(30)\n"
                  "s.connect(sys.argv[1])\n"
                  "try:\n"
                  "    s.sendall(sys.argv[2].encode() + b'\\n')\n"
                  "except BrokenPipeError:\n"  # refused before it has read the request
                  "    pass\n"
                  "print(s.makefile().readline(), end='')\n")
        request = json.dumps({"action": "load", "device": "east", "state": "on"})
        out = subprocess.run([sys.executable, "-c", client, self.socket, request],
                             capture_output=True, text=True, timeout=60, preexec_fn=as_nobody)
        self.assertEqual(out.returncode, 0, out.stderr)
        reply = json.loads(out.stdout)
        self.assertEqual((reply["status"], reply["ok"]), (403, False), reply)
        # tracermon itself, run by 'nobody': refused, said so, exit 3.
        cli = subprocess.run([TRACERMON, "load", "east", "on", "--runtime-dir", self.run_dir],
                             capture_output=True, text=True, timeout=60, preexec_fn=as_nobody)
        self.assertEqual(cli.returncode, 3, cli.stdout + cli.stderr)
        self.assertIn("permission denied", cli.stderr)
        self.assertIn("control socket: refused a client", self.daemon.log_text())
        self.assertNotIn("control: cli load", self.daemon.log_text())
        # The daemon's own user still gets in.
        self.assertEqual(self.ask(b'{"action": "devices", "device": "*"}\n')["devices"],
                         self.NAMES)


if __name__ == "__main__":
    unittest.main()
