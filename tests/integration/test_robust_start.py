"""What must not stop live monitoring or crash the configuration parser (issue 12, items 8 and
9): a full disk at start (the daemon starts with the history closed, serves live values and
files what it kept once there is room, without losing the saved energy accounting), a disk that
fills while running (each store error logged once, not every second), and configuration input
that is too deep, not a file, or holds control characters (refused with FILE:LINE, by `config
check` and by a SIGHUP reload alike).

A full disk without root: the daemon may not write a file beyond 1 KiB (RLIMIT_FSIZE with
SIGXFSZ ignored, so writes fail with EFBIG, which SQLite reports as a disk I/O error like
ENOSPC's "database or disk is full"); prlimit lifts the limit later, as deleting files would.
"""

import os
import resource
import signal
import sqlite3
import subprocess
import tempfile
import unittest

from daemon import Daemon, DaemonTestCase, assert_config_refused, config_text, now_ms
from peers import TRACERMON
from simulator import wait_until

# Energy counters move at 3600 x: a watt-hour step every few cycles.
SIM3 = "sim:ids=1,2,3&profile=tracer-an+tracer-bn+tracer-an&seed=11&turnaround-ms=3&speed=3600"
DEVICES = ["east", "west", "south"]
FULL = 1024  # bytes: less than one SQLite page


def may_fill():
    """In the daemon's process before exec: a write over the limit fails (EFBIG) instead of
    killing the process, as a write to a full disk fails with ENOSPC."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def full_disk():
    """may_fill(), and files cannot grow beyond FULL bytes from the start."""
    may_fill()
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL, hard))


def set_file_limit(pid, soft):
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard if soft is None else soft, hard))


def saved_energy(path):
    """{(source, period): (generated, consumed)} as the store holds them."""
    db = sqlite3.connect(path)
    try:
        return {(s, p): (g, c) for s, p, g, c in
                db.execute("SELECT source, period, generated_kwh, consumed_kwh FROM energy")}
    finally:
        db.close()


def api_energy(d):
    """{(source, period): (generated, consumed)} of every day, month and year."""
    out = {}
    for kind in d.api("/api/v1/energy").values():
        for source, rows in kind.items():
            for row in rows:
                out[(source, row["period"])] = (row["generated_kwh"], row["consumed_kwh"])
    return out


class RobustTest(DaemonTestCase):
    prefix = "tracermon-robust-"

    def start(self, preexec_fn=None, **kw):
        kw.setdefault("slow", "1s")
        d = Daemon(self.dir, config_text(self.dir, SIM3, [1, 2, 3], names=DEVICES, **kw),
                   preexec_fn=preexec_fn)
        self.daemons.append(d)
        return d

    def store_status(self, d):
        return d.api("/api/v1/status")["store"]

    def live(self, d):
        latest = d.api("/api/v1/latest")["devices"]
        return all(n in latest and "battery_voltage" in latest[n]["fields"] for n in DEVICES)


class FullDiskAtStart(RobustTest):
    def test_starts_with_the_store_closed_and_files_what_it_kept_once_there_is_room(self):
        # A first run saves some energy accounting.
        d = self.start()
        wait_until(lambda: any(g + c > 0 for g, c in api_energy(d).values()), 60)
        self.assertEqual(d.stop(), 0)
        before = saved_energy(os.path.join(self.dir, "history.db"))
        self.assertTrue(before)

        # Restart on a full disk: the daemon runs, live values flow, status says why.
        d = self.start(preexec_fn=full_disk)
        started_ms = now_ms()
        wait_until(lambda: self.live(d), 60)
        store = self.store_status(d)
        self.assertFalse(store["open"])
        self.assertIn("disk I/O error", store["last_error"])
        self.assertIn("cannot open the history", d.log_text())
        self.assertEqual(d.get("/healthz")[0], 200)
        self.assertEqual(api_energy(d), {}, "nothing to read while closed")
        status, body = d.get("/api/v1/history?device=east&fields=battery_voltage&from=-1h")
        self.assertNotEqual(status, 200)
        self.assertIn("not open", body)
        wait_until(lambda: self.store_status(d)["buffered"] >= 6, 30)

        # Room again: the store opens on a retry and files what was kept in memory.
        set_file_limit(d.proc.pid, None)
        freed_ms = now_ms()
        wait_until(lambda: self.store_status(d)["open"], 120)
        wait_until(lambda: self.store_status(d)["last_error"] == "", 30)
        self.assertIn("is open", d.log_text())
        kept = [r for r in d.export("--device", "east")
                if started_ms - 1000 <= r["time_ms"] < freed_ms]
        self.assertGreaterEqual(len(kept), 2, "values of the closed time are in the history")
        history = d.api("/api/v1/history?device=east&fields=battery_voltage&from=-10m&points=600")
        self.assertTrue(any(v is not None for v in history["fields"]["battery_voltage"]))

        # The energy accounting went on from what was saved; nothing was overwritten afresh.
        def energy_kept():
            now = api_energy(d)
            return all(key in now for key in before) and now
        now = wait_until(energy_kept, 30)
        for key, (generated, consumed) in before.items():
            self.assertGreaterEqual(now[key][0], generated - 1e-9, key)
            self.assertGreaterEqual(now[key][1], consumed - 1e-9, key)
        self.assertEqual(d.stop(), 0)


class DiskFillsWhileRunning(RobustTest):
    def test_each_store_error_is_logged_once_and_recovery_is_told(self):
        d = self.start(preexec_fn=may_fill)
        wait_until(lambda: any(g + c > 0 for g, c in api_energy(d).values()), 60)
        set_file_limit(d.proc.pid, FULL)
        filled_ms = now_ms()
        wait_until(lambda: "cannot save energy accounting" in d.log_text(), 60)
        # Several commits (one a second) and energy saves fail meanwhile.
        buffered = self.store_status(d)["buffered"]
        wait_until(lambda: self.store_status(d)["buffered"] >= buffered + 3 * 8, 60)
        log = d.log_text()
        self.assertEqual(log.count("cannot save energy accounting"), 1, log)
        self.assertEqual(log.count("commit failed"), 1, log)
        self.assertTrue(self.store_status(d)["open"])
        self.assertTrue(self.live(d))

        set_file_limit(d.proc.pid, None)
        freed_ms = now_ms()
        wait_until(lambda: "commits succeed again" in d.log_text(), 60)
        wait_until(lambda: "energy accounting saved again" in d.log_text(), 60)
        kept = [r for r in d.export("--device", "east")
                if filled_ms + 1000 < r["time_ms"] < freed_ms]
        self.assertGreaterEqual(len(kept), 3, "values of the full time are in the history")
        self.assertEqual(d.stop(), 0)


class BadConfigurationInput(unittest.TestCase):
    """`config check` and `run` refuse at once, with exit status 2 and FILE:LINE."""

    BUS = '[[bus]]\nport = "sim:ids=1"\n  [[bus.device]]\n  id = 1\n'

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tracermon-config-")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def check(self, path):
        return subprocess.run([TRACERMON, "config", "check", path], capture_output=True,
                              text=True, timeout=30)

    def test_nesting_the_parser_cannot_take(self):
        deep = "[" + ".".join(["a"] * 50000) + "]\n"
        assert_config_refused(self, self.dir, self.BUS + deep, 5,
                              "nested deeper than 32 levels")
        dotted = ".".join(["a"] * 50000) + " = 1\n"
        assert_config_refused(self, self.dir, dotted + self.BUS, 1,
                              "nested deeper than 32 levels")

    def test_only_regular_files_are_read(self):
        out = self.check("/dev/zero")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("/dev/zero:1: not a regular file (a character device)", out.stderr)
        fifo = os.path.join(self.dir, "fifo.toml")
        os.mkfifo(fifo)
        out = self.check(fifo)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn(f"{fifo}:1: not a regular file (a FIFO)", out.stderr)
        assert_config_refused(self, self.dir, 'influx_db = "/dev/zero"\n' + self.BUS, 1,
                              "influx_db", "/dev/zero:1: not a regular file")
        big = os.path.join(self.dir, "big.toml")
        with open(big, "w") as f:
            f.write(self.BUS + "#" * (1 << 20))
        out = self.check(big)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn(f"{big}:1: larger than 1 MiB", out.stderr)

    def test_a_nul_in_a_key_leaves_the_error_line_whole(self):
        assert_config_refused(self, self.dir, '"a\\u0000b" = 1\n' + self.BUS, 1,
                              "a\\u0000b: unknown key", "; allowed: runtime_dir")


class ReloadWithBadInput(RobustTest):
    def test_sighup_refuses_a_file_too_deep_and_keeps_running(self):
        d = self.start()
        wait_until(lambda: self.live(d), 60)
        with open(d.config) as f:
            good = f.read()
        with open(d.config, "w") as f:
            f.write(good + "[" + ".".join(["a"] * 50000) + "]\n")
        d.send(signal.SIGHUP)
        wait_until(lambda: "reload refused" in d.log_text(), 30)
        self.assertIn("nested deeper than 32 levels", d.log_text())
        self.assertIsNone(d.proc.poll())
        self.assertEqual(d.get("/healthz")[0], 200)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
