"""deploy/udev/60-tracermon.rules: every adapter of data/usb-adapters.csv (and no other) gets the
dialout group, mode 0660 and a stable name, and every line parses as udev reads it. Debian 12's
udev has no `udevadm verify`; where it exists (systemd 254+) it runs too."""

import csv
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("TRACERMON_SOURCE_DIR", Path(__file__).resolve().parents[2]))
RULES = SOURCE / "deploy/udev/60-tracermon.rules"
ADAPTERS = SOURCE / "data/usb-adapters.csv"

# Keys as udev(7) names them: match-only, assign-only, and both.
MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SUBSYSTEM", "SUBSYSTEMS",
              "DRIVER", "DRIVERS", "ATTR", "ATTRS", "ENV", "TAG", "TAGS", "TEST", "PROGRAM",
              "RESULT", "SYMLINK", "CONST", "SYSCTL"}
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV",
               "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
PAIR = re.compile(r'\s*([A-Z]+)(\{[^}]*\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)')


def rule_lines():
    for number, line in enumerate(RULES.read_text().splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def parse(line):
    """[(key, attribute, operator, value)], or raise ValueError naming what does not parse."""
    pairs, pos = [], 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            raise ValueError(f"cannot parse from column {pos + 1}: {line[pos:]!r}")
        pairs.append((m.group(1), (m.group(2) or "")[1:-1], m.group(3), m.group(4)))
        pos = m.end()
    return pairs


def adapters():
    with open(ADAPTERS, newline="") as f:
        return list(csv.DictReader(f))


class AdapterTable(unittest.TestCase):
    def test_columns_and_ids(self):
        with open(ADAPTERS, newline="") as f:
            header = next(csv.reader(f))
        self.assertEqual(header, ["vendor_id", "product_id", "name", "chip", "driver"])
        for row in adapters():
            self.assertRegex(row["vendor_id"], r"^[0-9a-f]{4}$")
            self.assertRegex(row["product_id"], r"^[0-9a-f]{4}$")
            self.assertTrue(row["name"] and row["chip"] and row["driver"], row)
        pairs = [(r["vendor_id"], r["product_id"]) for r in adapters()]
        self.assertEqual(len(pairs), len(set(pairs)), "an adapter listed twice")

    def test_the_vendor_cable_is_listed(self):
        exar = [r for r in adapters() if (r["vendor_id"], r["product_id"]) == ("04e2", "1411")]
        self.assertEqual(len(exar), 1)
        self.assertEqual(exar[0]["driver"], "xr_serial")


class UdevRules(unittest.TestCase):
    def test_every_line_parses(self):
        for number, line in rule_lines():
            with self.subTest(line=number):
                for key, attr, op, value in parse(line):
                    if op in ("==", "!="):
                        self.assertIn(key, MATCH_KEYS, f"line {number}: {key} cannot match")
                    else:
                        self.assertIn(key, ASSIGN_KEYS, f"line {number}: {key} cannot be set")
                    if key in ("ATTR", "ATTRS", "ENV", "IMPORT"):
                        self.assertTrue(attr, f"line {number}: {key} needs {{...}}")

    def test_gotos_have_labels(self):
        pairs = [p for _, line in rule_lines() for p in parse(line)]
        labels = {v for k, _, _, v in pairs if k == "LABEL"}
        for goto in {v for k, _, _, v in pairs if k == "GOTO"}:
            self.assertIn(goto, labels)

    def test_every_adapter_and_no_other_is_matched(self):
        matched = set()
        for number, line in rule_lines():
            pairs = parse(line)
            ids = {(k, a): v for k, a, op, v in pairs if op == "=="}
            vendor, product = ids.get(("ATTRS", "idVendor")), ids.get(("ATTRS", "idProduct"))
            if vendor or product:
                self.assertTrue(vendor and product, f"line {number}: vendor and product both")
                sets_chip = any(k == "ENV" and a == "TRACERMON_CHIP" and op == "=" and v
                                for k, a, op, v in pairs)
                self.assertTrue(sets_chip, f"line {number} names no chip")
                matched.add((vendor, product))
        expected = {(r["vendor_id"], r["product_id"]) for r in adapters()}
        self.assertEqual(matched, expected)

    def test_dialout_0660_and_a_stable_name(self):
        pairs = [p for _, line in rule_lines() for p in parse(line)]
        self.assertIn(("GROUP", "", "=", "dialout"), pairs)
        self.assertIn(("MODE", "", "=", "0660"), pairs)
        symlinks = [v for k, _, op, v in pairs if k == "SYMLINK" and op == "+="]
        self.assertEqual(len(symlinks), 1)
        self.assertTrue(symlinks[0].startswith("serial/tracermon/"), symlinks[0])
        # Unique per USB socket: two identical CH340s without serial numbers must not collide.
        self.assertIn("$env{ID_PATH_TAG}", symlinks[0])

    def test_only_tty_devices_and_not_on_remove(self):
        first = [parse(line) for _, line in rule_lines()][:2]
        self.assertEqual(first[0][0][:4:3], ("ACTION", "remove"))
        self.assertEqual(first[1][0][:4:3], ("SUBSYSTEM", "tty"))
        self.assertEqual(first[1][0][2], "!=")

    @unittest.skipUnless(shutil.which("udevadm") and subprocess.run(
        ["udevadm", "verify", "--help"], capture_output=True).returncode == 0,
        "udevadm verify needs systemd 254 or later")
    def test_udevadm_verify(self):
        subprocess.run(["udevadm", "verify", str(RULES)], check=True)


if __name__ == "__main__":
    unittest.main()
