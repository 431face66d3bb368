"""`make install` (cmake --install) into a DESTDIR: a /usr install puts the files where the
package has them (/etc, /lib/systemd/system, /lib/udev/rules.d), another prefix keeps everything
under it, the unit starts the installed binary with the installed configuration, and an
existing configuration is never overwritten. TRACERMON_BUILD_DIR: the built tree."""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

BUILD = os.environ.get("TRACERMON_BUILD_DIR")


def install(destdir, prefix):
    subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True,
                   capture_output=True, env=dict(os.environ, DESTDIR=str(destdir)))


@unittest.skipUnless(BUILD, "TRACERMON_BUILD_DIR")
class Install(unittest.TestCase):
    def test_usr_prefix_has_the_debian_layout(self):
        with tempfile.TemporaryDirectory() as d:
            install(d, "/usr")
            for path in ["usr/bin/tracermon", "etc/tracermon/tracermon.toml",
                         "lib/systemd/system/tracermon.service", "lib/udev/rules.d/60-tracermon.rules",
                         "usr/lib/sysusers.d/tracermon.conf", "usr/share/man/man1/tracermon.1.gz",
                         "usr/share/bash-completion/completions/tracermon",
                         "usr/share/tracermon/grafana/dashboards/tracermon.json",
                         "usr/share/tracermon/usb-adapters.csv",
                         "usr/share/doc/tracermon/examples/tracermon.toml"]:
                self.assertTrue(Path(d, path).is_file(), path)
            unit = Path(d, "lib/systemd/system/tracermon.service").read_text()
            self.assertIn("\nExecStart=/usr/bin/tracermon run --config /etc/tracermon/tracermon.toml\n",
                          unit)
            self.assertTrue(os.access(Path(d, "usr/bin/tracermon"), os.X_OK))

    def test_other_prefix_stays_under_it(self):
        with tempfile.TemporaryDirectory() as d:
            install(d, "/opt/tm")
            found = {str(p.relative_to(d)) for p in Path(d).rglob("*") if p.is_file()}
            self.assertTrue(all(f.startswith("opt/tm/") for f in found), sorted(found)[:5])
            unit = Path(d, "opt/tm/lib/systemd/system/tracermon.service").read_text()
            self.assertIn("\nExecStart=/opt/tm/bin/tracermon run --config "
                          "/opt/tm/etc/tracermon/tracermon.toml\n", unit)

    def test_existing_config_is_kept(self):
        with tempfile.TemporaryDirectory() as d:
            config = Path(d, "etc/tracermon/tracermon.toml")
            config.parent.mkdir(parents=True)
            config.write_text("# mine\n")
            install(d, "/usr")
            self.assertEqual(config.read_text(), "# mine\n")


if __name__ == "__main__":
    unittest.main()
