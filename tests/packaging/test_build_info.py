"""cmake/BuildInfo.cmake, which gives `tracermon --version` its revision and date: the short
hash with +dirty from a git tree, "unknown" from a tarball without .git, the date from
SOURCE_DATE_EPOCH when set; and the file is not rewritten when nothing changed, so a rebuild
recompiles nothing. TRACERMON_BIN: the binary (its --version is checked too)."""

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("TRACERMON_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SCRIPT = SOURCE / "cmake/BuildInfo.cmake"
BIN = os.environ.get("TRACERMON_BIN")


def generate(source_dir, out, **env):
    subprocess.run(["cmake", f"-DSOURCE_DIR={source_dir}", f"-DOUT={out}", "-DVERSION=9.8.7",
                    "-P", str(SCRIPT)], check=True, env=dict(os.environ, **env))
    return Path(out).read_text()


def description(text):
    return re.search(r'k_description = "([^"]*)"', text).group(1)


class BuildInfo(unittest.TestCase):
    def test_tarball_without_git_and_source_date_epoch(self):
        with tempfile.TemporaryDirectory() as tmp:
            text = generate(tmp, f"{tmp}/b.cpp", SOURCE_DATE_EPOCH="86400")
            self.assertEqual(description(text), "9.8.7 (git unknown, built 1970-01-02)")

    def test_git_tree_names_its_revision(self):
        if not (SOURCE / ".git").exists():
            self.skipTest("not a git checkout")
        head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=SOURCE,
                              capture_output=True, text=True, check=True).stdout.strip()
        with tempfile.TemporaryDirectory() as tmp:
            text = generate(SOURCE, f"{tmp}/b.cpp")
            self.assertRegex(description(text),
                             rf"^9\.8\.7 \(git {head}(\+dirty)?, built \d{{4}}-\d\d-\d\d\)$")

    def test_dirty_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", tmp]
            subprocess.run(["git", "init", "-q", tmp], check=True)
            Path(tmp, "f").write_text("1")
            subprocess.run([*git, "add", "f"], check=True)
            subprocess.run([*git, "commit", "-qm", "c"], check=True)
            self.assertNotIn("+dirty", description(generate(tmp, f"{tmp}/b.cpp")))
            Path(tmp, "untracked").write_text("x")  # build dirs and the like do not count
            self.assertNotIn("+dirty", description(generate(tmp, f"{tmp}/b.cpp")))
            Path(tmp, "f").write_text("2")
            self.assertIn("+dirty", description(generate(tmp, f"{tmp}/b.cpp")))

    def test_unchanged_output_is_not_rewritten(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp, "b.cpp")
            generate(tmp, out, SOURCE_DATE_EPOCH="0")
            os.utime(out, (1, 1))
            generate(tmp, out, SOURCE_DATE_EPOCH="0")
            self.assertEqual(out.stat().st_mtime, 1)

    @unittest.skipUnless(BIN, "TRACERMON_BIN")
    def test_version_flag(self):
        out = subprocess.run([BIN, "--version"], capture_output=True, text=True, check=True)
        self.assertRegex(out.stdout.strip(), r"^tracermon \d+\.\d+\.\d+ \(git (unknown|[0-9a-f]{7,}"
                                             r"(\+dirty)?), built \d{4}-\d\d-\d\d\)$")


if __name__ == "__main__":
    unittest.main()
