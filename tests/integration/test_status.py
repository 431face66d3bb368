"""`tracermon status` against a daemon on simulated controllers, as a monitoring check uses it:
exit 0 while all is well, 1 with the silent controller named offline and its last error, 3 with
no daemon; `--json` for scripts. And the daemon's log: stderr only, a line per controller when
it first answers, transitions only, the journal's form when stderr is the journal."""

import json
import os
import re
import subprocess

from daemon import Daemon, DaemonTestCase, config_text
from peers import TRACERMON
from simulator import Simulator, wait_until


def status(*args):
    return subprocess.run([TRACERMON, "status", *args], capture_output=True, text=True,
                          timeout=60)


class StatusTestCase(DaemonTestCase):
    prefix = "tracermon-status-"

    def setUp(self):
        super().setUp()
        # Two controllers behind a pty; the control socket silences one at will.
        self.sim = Simulator(self.dir, ids="1,2", profile="tracer-an,tracer-bn")
        self.addCleanup(self.sim.stop)

    def start(self, text=None, **kw):
        text = text or config_text(self.dir, self.sim.pty, [1, 2], names=["east", "west"])
        d = Daemon(self.dir, text, **kw)
        self.daemons.append(d)
        return d

    def status_of(self, d, *args):
        return status("--config", d.config, *args)

    def wait_exit(self, d, code, *args):
        """The first `status` run that exits with `code` (the daemon's state is an event)."""
        return wait_until(lambda: (lambda r: r if r.returncode == code else None)(
            self.status_of(d, *args)), 60, interval=0.2)

    def wait_health(self, d, name, health):
        """`status --json` once the device has that health (a cycle cut by the fault may
        first leave it degraded)."""
        def seen():
            report = json.loads(self.status_of(d, "--json").stdout)
            return report if any(x["name"] == name and x["health"] == health
                                 for x in report["devices"]) else None
        return wait_until(seen, 60, interval=0.2)


class StatusOfADaemon(StatusTestCase):
    def test_all_well_then_a_silent_controller_then_back(self):
        d = self.start()
        well = self.wait_exit(d, 0)
        self.assertRegex(well.stdout, r"^OK: 2 devices online\n")
        self.assertNotIn("\n!", well.stdout)
        self.assertRegex(well.stdout, r"(?m)^  device east \(bus1 id 1\): online, Tracer\S+ ")
        self.assertRegex(well.stdout, r"(?m)^  bus bus1 .*: port up, ")
        self.assertRegex(well.stdout, r"(?m)^  store .*history\.db: open")
        self.assertEqual(well.stderr, "")

        report = json.loads(self.wait_exit(d, 0, "--json").stdout)
        self.assertEqual(report["status"], "ok")
        self.assertEqual(report["problems"], [])
        self.assertEqual(report["daemon"]["pid"], d.proc.pid)
        self.assertEqual([x["name"] for x in report["devices"]], ["east", "west"])
        for device in report["devices"]:
            self.assertEqual(device["health"], "online")
            self.assertTrue(device["model"].startswith("Tracer"), device)
            self.assertLess(device["last_seen_age_s"], 30)
        self.assertEqual(report["buses"][0]["link_up"], True)
        self.assertEqual(report["store"]["open"], True)
        self.assertIn("trusted", report["clock"])

        self.assertEqual(self.sim.control("fault no-reply=1 unit=2"), "ok")
        self.wait_health(d, "west", "offline")
        silent = self.status_of(d)
        self.assertEqual(silent.returncode, 1)
        self.assertRegex(silent.stdout, r"^PROBLEM: west offline\n")
        # Problems first, marked, with the last error.
        self.assertRegex(silent.stdout.splitlines()[1],
                         r"^! device west \(bus1 id 2\): offline, .*last error: .*timeout")
        self.assertRegex(silent.stdout, r"(?m)^  device east .*: online")
        report = json.loads(self.status_of(d, "--json").stdout)
        west = report["devices"][1]
        self.assertEqual((west["name"], west["health"]), ("west", "offline"))
        self.assertIn("timeout", west["last_error"])
        self.assertEqual(report["exit_code"], 1)

        self.assertEqual(self.sim.control("fault clear"), "ok")
        self.wait_exit(d, 0)

        # The log told the same story on stderr, once per transition.
        log = d.log_text()
        self.assertRegex(log, r"east: Tracer\S+ V\S+ online, \d+ fields")
        self.assertRegex(log, r"west: Tracer\S+ V\S+ online, \d+ fields")
        self.assertEqual(len(re.findall(r"west: .* online, ", log)), 1, log)
        self.assertEqual(len(re.findall(r"west \(id 2\) stopped answering", log)), 1, log)
        self.assertEqual(len(re.findall(r"west \(id 2\) answers again", log)), 1, log)

    def test_no_daemon_is_exit_3(self):
        empty = os.path.join(self.dir, "run")
        os.makedirs(empty)
        out = status("--runtime-dir", empty)
        self.assertEqual(out.returncode, 3, out)
        self.assertEqual(out.stdout, "")
        self.assertIn(f"no tracermon daemon runs with runtime_dir {empty}", out.stderr)
        out = status("--runtime-dir", empty, "--json")
        self.assertEqual(out.returncode, 3)
        self.assertEqual(json.loads(out.stdout)["status"], "unreachable")

        # A daemon that stopped leaves daemon.json but not the lock.
        d = self.start()
        self.wait_exit(d, 0)
        d.stop()
        out = self.status_of(d)
        self.assertEqual(out.returncode, 3, out)
        self.assertIn("no tracermon daemon runs", out.stderr)

    def test_http_off_reads_the_state_files(self):
        text = config_text(self.dir, self.sim.pty, [1, 2], names=["east", "west"]).replace(
            'listen = "127.0.0.1:0"', "enabled = false")
        d = self.start(text)
        well = self.wait_exit(d, 0)
        self.assertIn("not known with HTTP off", well.stdout)
        self.assertRegex(well.stdout, r"(?m)^  device west \(bus1 id 2\): online")
        self.assertEqual(self.sim.control("fault no-reply=1 unit=2"), "ok")
        self.wait_health(d, "west", "offline")
        silent = self.status_of(d)
        self.assertEqual(silent.returncode, 1)
        self.assertRegex(silent.stdout, r"(?m)^! device west \(bus1 id 2\): offline")
        report = json.loads(self.status_of(d, "--json").stdout)
        self.assertEqual(report["source"], "state_files")


class DaemonLog(StatusTestCase):
    def test_stderr_only_with_a_line_per_controller(self):
        stdout_path = os.path.join(self.dir, "stdout.txt")
        d = self.start(stdout_path=stdout_path)
        wait_until(lambda: len(re.findall(r"\w+: \S+ \S+ online, \d+ fields", d.log_text())) == 2,
                   60)
        self.assertRegex(d.log_text(), r"(?m)^\[\d{4}-\d\d-\d\d [\d:.]+\] \[info\] east: ")
        d.stop()
        with open(stdout_path) as f:
            self.assertEqual(f.read(), "")

    def test_the_journal_gets_priorities_and_no_time_stamps(self):
        # systemd names the journal's stream in $JOURNAL_STREAM ("DEVICE:INODE" of stderr).
        log_path = os.path.join(self.dir, "daemon.log")
        open(log_path, "w").close()
        st = os.stat(log_path)
        d = self.start(stdout_path=os.path.join(self.dir, "stdout.txt"),
                       env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        wait_until(lambda: "west: " in d.log_text(), 60)
        lines = d.log_text().splitlines()
        self.assertTrue(all(re.match(r"<[0-7]>\S", line) for line in lines), lines)
        self.assertTrue(any(re.match(r"<6>east: \S+ \S+ online, \d+ fields$", line)
                            for line in lines), lines)
