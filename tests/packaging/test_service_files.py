"""The systemd unit and the packaged default configuration: `systemd-analyze verify` (offline,
no running systemd needed) accepts the unit without a warning, the unit keeps what users rely on
(the shared /tmp for filesnap files, the dialout group, its directories), and the default
configuration passes `tracermon config check` and writes only where the service may write.
TRACERMON_BIN: the binary; TRACERMON_SOURCE_DIR: the tree."""

import os
import shutil
import subprocess
import tempfile
import tomllib
import unittest
from pathlib import Path

BIN = Path(os.environ.get("TRACERMON_BIN", "tracermon")).resolve()
SOURCE = Path(os.environ.get("TRACERMON_SOURCE_DIR", Path(__file__).resolve().parents[2]))
TEMPLATE = SOURCE / "deploy/systemd/tracermon.service.in"
DEFAULT_CONFIG = SOURCE / "deploy/config/tracermon.toml"
EXAMPLES = [SOURCE / "examples/tracermon.toml", DEFAULT_CONFIG]


def unit_text(bindir):
    return (TEMPLATE.read_text().replace("@TRACERMON_BINDIR@", str(bindir))
            .replace("@TRACERMON_SYSCONFDIR@", "/etc"))


def service_settings():
    """{key: [values]} of the [Service] section (the template, its paths filled in)."""
    settings, section = {}, None
    for line in unit_text("/usr/bin").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


class SystemdUnit(unittest.TestCase):
    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze (package systemd)")
    def test_systemd_analyze_verify(self):
        with tempfile.TemporaryDirectory() as tmp:
            unit = Path(tmp) / "tracermon.service"
            unit.write_text(unit_text(BIN.parent))
            # Documentation=man:tracermon(1) is checked too: give it our man page.
            (Path(tmp) / "man/man1").mkdir(parents=True)
            shutil.copy(SOURCE / "docs/man/tracermon.1", Path(tmp) / "man/man1")
            env = dict(os.environ, MANPATH=f"{tmp}/man:", SYSTEMD_LOG_LEVEL="notice")
            out = subprocess.run(["systemd-analyze", "verify", str(unit)], env=env,
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            # Unknown keys and bad values are only warnings: none is allowed.
            self.assertEqual(out.stderr.strip(), "")

    @unittest.skipUnless(os.environ.get("TRACERMON_UNIT"), "TRACERMON_UNIT: the configured unit")
    def test_configured_unit_has_the_install_paths(self):
        text = Path(os.environ["TRACERMON_UNIT"]).read_text()
        self.assertNotIn("@TRACERMON_", text)
        self.assertRegex(text, r"\nExecStart=/\S+/bin/tracermon run --config "
                               r"/\S*etc/tracermon/tracermon.toml\n")

    def test_service_user_and_directories(self):
        s = service_settings()
        self.assertEqual(s["User"], ["tracermon"])
        self.assertEqual(s["SupplementaryGroups"], ["dialout"])
        for key in ("RuntimeDirectory", "StateDirectory", "ConfigurationDirectory"):
            self.assertEqual(s[key], ["tracermon"], key)

    def test_tmp_is_shared_for_filesnap_files(self):
        # filesnap files (/tmp/ep_tracer_<id>.log) are read by other users' scripts.
        s = service_settings()
        self.assertNotIn("yes", s.get("PrivateTmp", []))
        self.assertIn("/tmp", " ".join(s.get("ReadWritePaths", [])).split())
        self.assertEqual(s["ProtectSystem"], ["strict"])

    def test_no_device_allow_list(self):
        # A DeviceAllow list is resolved at start: an adapter plugged in later would be denied.
        s = service_settings()
        self.assertNotIn("DeviceAllow", s)
        self.assertNotIn("PrivateDevices", s)
        self.assertNotIn("DevicePolicy", s)


class Configs(unittest.TestCase):
    def test_default_config_passes_config_check(self):
        out = subprocess.run([str(BIN), "config", "check", str(DEFAULT_CONFIG)],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_default_config_writes_where_the_service_may(self):
        config = tomllib.loads(DEFAULT_CONFIG.read_text())
        self.assertEqual(config["runtime_dir"], "/run/tracermon")
        self.assertTrue(config["store"]["path"].startswith("/var/lib/tracermon/"))
        self.assertEqual(config["files"]["json_dir"], "/run/tracermon")
        self.assertTrue(config["http"]["listen"].startswith("127.0.0.1:"))

    def test_no_config_points_into_home(self):
        # The service has ProtectHome=yes: a path under /home would be unreadable.
        for path in EXAMPLES:
            with self.subTest(path=path.name):
                self.assertNotIn("/home/", path.read_text())


if __name__ == "__main__":
    unittest.main()
