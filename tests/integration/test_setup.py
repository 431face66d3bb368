"""`tracermon setup` against simulated controllers on ptys that look like USB adapters.

Each test builds a fake /dev (serial/by-id links to the simulators' ptys) and a fake /sys (the
USB ids behind each tty) and points setup at them with --dev-root and --sys-root. Every
configuration setup writes is loaded again by `tracermon config check`.
"""

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

from peers import TRACERMON, run
from simulator import Simulator

FAST = ["--ids", "1-4"]  # absent ids cost a timeout each: keep the probe short


class FakeMachine:
    """A /dev and a /sys with USB serial adapters, each a pty of a simulator or an idle pty."""

    def __init__(self, directory):
        self.root = Path(directory)
        self.dev = self.root / "dev"
        self.sys = self.root / "sys"
        (self.dev / "serial" / "by-id").mkdir(parents=True)
        (self.sys / "class" / "tty").mkdir(parents=True)
        self.simulators = []
        self.idle = []
        self.usb_count = 0

    def simulator(self, ids, profile):
        folder = self.root / f"sim{len(self.simulators)}"
        folder.mkdir()
        sim = Simulator(str(folder), ids=ids, profile=profile)
        self.simulators.append(sim)
        return sim.pty

    def idle_pty(self):
        """A pty nobody answers on."""
        master, slave = os.openpty()
        self.idle.append((master, slave))
        return os.ttyname(slave)

    def adapter(self, tty, target, by_id=None, usb=None, acm=False, driver="ch341-uart"):
        """dev/<tty> -> target, dev/serial/by-id/<by_id> -> ../../<tty>, sysfs ids `usb`."""
        os.symlink(target, self.dev / tty)
        if by_id:
            os.symlink(f"../../{tty}", self.dev / "serial" / "by-id" / by_id)
        if usb:
            self.usb_count += 1
            usb_dev = self.sys / "devices" / "pci0000:00" / "usb1" / f"1-{self.usb_count}"
            interface = usb_dev / f"1-{self.usb_count}:1.0"
            # cdc-acm: the tty's device is the interface; usb-serial: a port below it
            port = interface if acm else interface / tty
            port.mkdir(parents=True)
            (usb_dev / "idVendor").write_text(usb[0] + "\n")
            (usb_dev / "idProduct").write_text(usb[1] + "\n")
            (usb_dev / "product").write_text("USB Serial\n")
            drivers = self.sys / "bus" / "usb" / "drivers" / driver
            drivers.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(drivers, port), port / "driver")
            (self.sys / "class" / "tty" / tty).mkdir()
            os.symlink(os.path.relpath(port, self.sys / "class" / "tty" / tty),
                       self.sys / "class" / "tty" / tty / "device")
        return str(self.dev / "serial" / "by-id" / by_id) if by_id else str(self.dev / tty)

    def close(self):
        for sim in self.simulators:
            sim.stop()
        for master, slave in self.idle:
            os.close(master)
            os.close(slave)


class SetupTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tracermon-setup-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.machine = FakeMachine(self.dir)
        self.addCleanup(self.machine.close)
        self.config = os.path.join(self.dir, "etc", "tracermon.toml")
        # no daemon runs here
        self.runtime = os.path.join(self.dir, "run")
        os.mkdir(self.runtime)
        os.environ["TRACERMON_RUNTIME_DIR"] = self.runtime
        self.addCleanup(os.environ.pop, "TRACERMON_RUNTIME_DIR", None)

    def setup(self, *args):
        return run("setup", "--dev-root", str(self.machine.dev), "--sys-root",
                   str(self.machine.sys), *args)

    def assert_loads(self, path=None):
        check = run("config", "check", path or self.config)
        self.assertEqual(check.returncode, 0, check.stderr)
        return check.stdout

    def exar(self, tty="ttyXRUSB0", name="usb-EPEVER_CC-USB-RS485-150U-if00", **kw):
        return dict(tty=tty, by_id=name, usb=("04e2", "1411"), acm=True, driver="xr_serial", **kw)


class FindAndWrite(SetupTest):
    def test_no_adapter(self):
        result = self.setup("--config", self.config)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("none", result.stdout)
        self.assertIn(str(self.machine.dev / "serial" / "by-id"), result.stdout)
        self.assertIn(str(self.machine.dev / "ttyUSB*"), result.stdout)
        self.assertIn("simulator", result.stdout)
        self.assertIn("tracermon demo", result.stdout)
        self.assertFalse(os.path.exists(self.config))

    def test_two_adapters_and_an_empty_port(self):
        m = self.machine
        exar = m.adapter(target=m.simulator("1,2", "tracer-an,tracer-bn"), **self.exar())
        ch340 = m.adapter("ttyUSB0", m.simulator("3", "tracer-2206an"),
                          by_id="usb-1a86_USB_Serial-if00-port0", usb=("1a86", "7523"))
        empty = m.adapter("ttyUSB1", m.idle_pty(), by_id="usb-FTDI_FT232R-if00-port0",
                          usb=("0403", "6001"), driver="ftdi_sio")
        unknown = m.adapter("ttyACM0", m.idle_pty(), usb=("1234", "abcd"), acm=True,
                            driver="cdc_acm")
        result = self.setup("--config", self.config, *FAST)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn("04e2:1411 EPEVER CC-USB-RS485-150U (Exar XR21B1411), driver xr_serial", out)
        self.assertIn("1a86:7523 QinHeng CH340, driver ch341-uart", out)
        self.assertIn("0403:6001 FTDI FT232R, driver ftdi_sio", out)
        self.assertIn("unknown adapter 1234:abcd (USB Serial), driver cdc_acm", out)
        self.assertIn(f"{unknown} (ttyACM0)", out)  # no by-id link: the tty itself
        self.assertRegex(out, re.escape(empty) + r" at 115200 baud: nothing answered")
        self.assertRegex(out, r"id\s+2\s+Tracer4215BN")
        summary = self.assert_loads()
        # by-id names in order: usb-1a86... before usb-EPEVER...
        self.assertIn(f"bus bus1: {ch340}, 115200 8N1", summary)
        self.assertIn(f"bus bus2: {exar}, 115200 8N1", summary)
        self.assertIn("device   1 tracer1 (Tracer3210AN)", summary)
        self.assertIn("device   2 tracer2 (Tracer4215BN)", summary)
        self.assertIn("device   3 tracer3 (Tracer2206AN)", summary)
        self.assertNotIn(empty, summary)
        text = Path(self.config).read_text()
        self.assertIn("# ttyXRUSB0: 04e2:1411 EPEVER", text)
        # The Exar cable is probed in RS-485 mode first; a pty refuses it, so without.
        self.assertIn("refused RS-485 mode", out)
        self.assertIn("probing without it", out)
        self.assertNotIn("rs485 = true", text)
        self.assertIn("[poll]", text)  # the example's defaults and comments come along

    def test_same_id_on_two_buses_gets_two_names(self):
        m = self.machine
        m.adapter(target=m.simulator("1", "tracer-an"), **self.exar())
        m.adapter("ttyUSB0", m.simulator("1", "tracer-bn"), by_id="usb-ch340-port0",
                  usb=("1a86", "7523"))
        result = self.setup("--print", *FAST)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('name = "bus1-tracer1"', result.stdout)
        self.assertIn('name = "bus2-tracer1"', result.stdout)
        path = os.path.join(self.dir, "printed.toml")
        Path(path).write_text(result.stdout)
        self.assert_loads(path)

    def test_bauds_in_order_and_stop_at_the_first_that_answers(self):
        m = self.machine
        m.adapter(target=m.simulator("1", "tracer-an"), **self.exar())
        result = self.setup("--print", "--ids", "1", "--bauds", "9600,115200")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("baud = 9600", result.stdout)
        self.assertNotIn("at 115200 baud", result.stderr)
        empty = self.setup("--print", "--ids", "5", "--bauds", "115200,19200")
        self.assertEqual(empty.returncode, 3)
        self.assertIn("at 115200 baud: nothing answered", empty.stderr)
        self.assertIn("at 19200 baud: nothing answered", empty.stderr)

    def test_bad_input_writes_nothing(self):
        for args, pattern in ((["--ids", "0-3"], r"1-247"), (["--bauds", "12"], r"baud"),
                              (["--bauds", "fast"], r"fast")):
            result = self.setup("--config", self.config, *args)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertRegex(result.stderr, pattern)
        self.assertFalse(os.path.exists(self.config))

    def test_port_of_a_running_daemon_is_not_probed(self):
        m = self.machine
        port = m.adapter(target=m.simulator("1", "tracer-an"), **self.exar())
        lock = open(os.path.join(self.runtime, "daemon.lock"), "w")
        self.addCleanup(lock.close)
        fcntl.flock(lock, fcntl.LOCK_EX)
        Path(self.runtime, "daemon.json").write_text(
            json.dumps({"pid": 4242, "config": "/etc/tracermon/tracermon.toml", "ports": [port]}))
        result = self.setup("--config", self.config, *FAST)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("not probed", result.stdout)
        self.assertIn("pid 4242", result.stdout)
        self.assertFalse(os.path.exists(self.config))


class ExistingConfig(SetupTest):
    def setUp(self):
        super().setUp()
        m = self.machine
        m.adapter(target=m.simulator("1", "tracer-an"), **self.exar())
        os.makedirs(os.path.dirname(self.config))
        self.old = "# the user's own\n[[bus]]\nport = \"/dev/ttyUSB0\"\n[[bus.device]]\nid = 7\n"
        Path(self.config).write_text(self.old)
        os.chmod(self.config, 0o600)

    def backups(self):
        folder = os.path.dirname(self.config)
        return [os.path.join(folder, n) for n in os.listdir(folder) if ".bak-" in n]

    def test_refused_without_yes(self):
        result = self.setup("--config", self.config, *FAST)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--yes", result.stderr)
        self.assertEqual(Path(self.config).read_text(), self.old)
        self.assertEqual(self.backups(), [])

    def test_replaced_with_yes_and_a_backup_kept(self):
        result = self.setup("--config", self.config, "--yes", *FAST)
        self.assertEqual(result.returncode, 0, result.stderr)
        [backup] = self.backups()
        self.assertEqual(Path(backup).read_text(), self.old)
        self.assertIn(backup, result.stdout)
        self.assertIn('name = "tracer1"', Path(self.config).read_text())
        self.assertEqual(stat.S_IMODE(os.stat(self.config).st_mode), 0o600)  # mode kept
        self.assert_loads()
        again = self.setup("--config", self.config, "--yes", *FAST)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(len(self.backups()), 2)  # a second backup, the first one kept


class Enable(SetupTest):
    def fake_systemctl(self, active):
        self.calls = os.path.join(self.dir, "systemctl.calls")
        script = os.path.join(self.dir, "systemctl")
        Path(script).write_text(
            "#!/bin/sh\n"
            f"echo \"$*\" >> {self.calls}\n"
            f"if [ \"$1\" = is-active ]; then exit {0 if active else 3}; fi\n"
            "exit 0\n")
        os.chmod(script, 0o755)
        os.environ["TRACERMON_SYSTEMCTL"] = script
        self.addCleanup(os.environ.pop, "TRACERMON_SYSTEMCTL", None)

    def setUp(self):
        super().setUp()
        m = self.machine
        m.adapter(target=m.simulator("1", "tracer-an"), **self.exar())

    def test_enable_and_start(self):
        self.fake_systemctl(active=False)
        result = self.setup("--config", self.config, "--enable", *FAST)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(Path(self.calls).read_text().splitlines(),
                         ["is-active --quiet tracermon.service",
                          "enable --now tracermon.service"])
        self.assert_loads()

    def test_restart_when_running(self):
        self.fake_systemctl(active=True)
        result = self.setup("--config", self.config, "--enable", *FAST)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(Path(self.calls).read_text().splitlines(),
                         ["is-active --quiet tracermon.service", "enable tracermon.service",
                          "restart tracermon.service"])

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_not_root(self):
        os.chmod(self.dir, 0o755)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        etc = os.path.join(self.dir, "etc")
        os.mkdir(etc)  # root's folder: nobody may not write in it
        for args, pattern in ((["--enable"], r"run it as root \(sudo"),
                              ([], r"cannot write .*permission denied.*sudo")):
            with self.subTest(args=args):
                result = subprocess.run(
                    [*nobody, TRACERMON, "setup", "--dev-root", str(self.machine.dev),
                     "--config", self.config, *args],
                    capture_output=True, text=True, timeout=60, check=False)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertRegex(result.stderr, pattern)
                self.assertNotIn("Probing", result.stdout)  # refused before the probe
        self.assertFalse(os.path.exists(self.config))

    def test_failing_systemctl(self):
        script = os.path.join(self.dir, "false-systemctl")
        Path(script).write_text("#!/bin/sh\n[ \"$1\" = is-active ] && exit 3\nexit 5\n")
        os.chmod(script, 0o755)
        os.environ["TRACERMON_SYSTEMCTL"] = script
        self.addCleanup(os.environ.pop, "TRACERMON_SYSTEMCTL", None)
        result = self.setup("--config", self.config, "--enable", *FAST)
        self.assertEqual(result.returncode, 1)
        self.assertIn("exit 5", result.stderr)


INFLUX_DB = """[INFLUXDB]
Host = 192.168.1.5
Port = 8087
DB = sun
User = pi
Pass = secret
Measurement = panels
"""

CRONTAB = """# m h dom mon dow command
MAILTO=""
*/5 * * * * cd /home/pi/epsolar && python3 logtracer.py 1,2 dbsnap > /dev/null 2>&1
* * * * * /usr/bin/python3 /home/pi/epsolar/logtracer.py 1,2 filesnap
#*/10 * * * * /home/pi/epsolar/logtracer.py 9 dbsnap
0 3 * * * /home/pi/backup.sh
"""


class FromLegacy(SetupTest):
    def setUp(self):
        super().setUp()
        self.old = os.path.join(self.dir, "epsolar")
        os.mkdir(self.old)
        Path(self.old, "influx.db").write_text(INFLUX_DB)
        Path(self.old, "crontab").write_text(CRONTAB)

    def test_equivalent_config(self):
        m = self.machine
        port = m.adapter(target=m.simulator("1,2", "tracer-an,tracer-an"), **self.exar())
        result = self.setup("--config", self.config, "--from-legacy", self.old)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn("ids 1,2, dbsnap, every 5m", out)
        self.assertIn("ids 1,2, filesnap, every 1m", out)
        self.assertIn("Probing ids 1,2 at", out)  # the cron job's ids, not 1-16
        self.assertIn("logtracer.py 1,2 dbsnap > /dev/null", out)  # the line to remove
        summary = self.assert_loads()
        self.assertIn(f"bus bus1: {port}", summary)
        self.assertIn("device   1 tracer1", summary)
        self.assertIn("device   2 tracer2", summary)
        self.assertIn("old tool's files /tmp/ep_tracer_{id}.log", summary)
        self.assertRegex(summary, r"influxdb: .*192\.168\.1\.5:8087")
        text = Path(self.config).read_text()
        self.assertIn('database = "sun"', text)
        self.assertIn('legacy_measurement = "panels"', text)
        self.assertIn("legacy = true", text)
        self.assertIn('legacy_devices = ["tracer1", "tracer2"]', text)
        self.assertRegex(text, r'(?m)^legacy_interval = "5m"')
        self.assertEqual(stat.S_IMODE(os.stat(self.config).st_mode), 0o640)  # a password

    def test_no_controller_answers_uses_the_old_port(self):
        result = self.setup("--print", "--from-legacy", self.old)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('port = "/dev/ttyXRUSB0"', result.stdout)
        self.assertIn("id = 2", result.stdout)

    def test_crontab_option_and_bad_input(self):
        other = os.path.join(self.dir, "saved-crontab")
        Path(other).write_text("*/15 * * * * logtracer.py 3 dbsnap\n")
        result = self.setup("--print", "--from-legacy", self.old, "--crontab", other)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('legacy_interval = "15m"', result.stdout)
        self.assertIn("id = 3", result.stdout)
        cases = (
            ("*/x * * * * logtracer.py 1 dbsnap\n", r"saved-crontab:1: bad schedule"),
            ("* * * * * logtracer.py 300 dbsnap\n", r"saved-crontab:1: .*300"),
            ("* * * * * logtracer.py\n", r"saved-crontab:1: logtracer.py needs ids"),
            ("0 3 * * * /home/pi/backup.sh\n", r"no `logtracer.py"),
        )
        for crontab, pattern in cases:
            with self.subTest(crontab=crontab):
                Path(other).write_text(crontab)
                bad = self.setup("--config", self.config, "--from-legacy", self.old,
                                 "--crontab", other)
                self.assertEqual(bad.returncode, 2, bad.stderr)
                self.assertRegex(bad.stderr, pattern)
                self.assertFalse(os.path.exists(self.config))

    def test_bad_influx_db(self):
        Path(self.old, "influx.db").write_text("[INFLUXDB]\nPort = 99999\n")
        bad = self.setup("--config", self.config, "--from-legacy", self.old)
        self.assertEqual(bad.returncode, 2, bad.stderr)
        self.assertRegex(bad.stderr, r"influx\.db:2: .*99999")
        os.remove(os.path.join(self.old, "influx.db"))
        missing = self.setup("--config", self.config, "--from-legacy", self.old)
        self.assertEqual(missing.returncode, 2, missing.stderr)
        self.assertRegex(missing.stderr, r"influx\.db")
        self.assertFalse(os.path.exists(self.config))


if __name__ == "__main__":
    unittest.main()
