"""Start `tracermon run` on a generated configuration and talk to it over its HTTP API."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from peers import TRACERMON, START_TIMEOUT
from simulator import wait_until

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def device_block(ids, names=None):
    blocks = []
    for i, unit in enumerate(ids):
        name = names[i] if names else f"dev{unit}"
        blocks.append(f"  [[bus.device]]\n  id = {unit}\n  name = \"{name}\"\n")
    return "\n".join(blocks)


def config_text(directory, port, ids, names=None, fast="1s", slow="2s", settings="1h",
                commit="1s", timeout="200ms", retries=1, gap="0ms", extra="",
                bus_extra=""):
    return f"""runtime_dir = "{directory}/run"
[poll]
fast = "{fast}"
slow = "{slow}"
settings = "{settings}"
max_skip_cycles = 4
[store]
path = "{directory}/history.db"
commit_interval = "{commit}"
[files]
json_dir = "{directory}/state"
filesnap = "{directory}/ep_tracer_{{id}}.log"
[http]
listen = "127.0.0.1:0"
[log]
level = "debug"
{extra}
[[bus]]
name = "bus1"
port = "{port}"
timeout = "{timeout}"
retries = {retries}
gap = "{gap}"
site = "home"
{bus_extra}
{device_block(ids, names)}
"""


class Daemon:
    """A `tracermon run` process; its URL comes from <runtime_dir>/daemon.json."""

    def __init__(self, directory, text, env=None, preexec_fn=None, stdout_path=None):
        """`preexec_fn` runs in the child before exec (e.g. to set a resource limit); the log
        then reaches its file through a pipe, so that a limit on file writes spares it.
        `stdout_path`: stdout goes there and only stderr to the log."""
        self.dir = directory
        self.config = os.path.join(directory, "tracermon.toml")
        with open(self.config, "w") as f:
            f.write(text)
        self.log_path = os.path.join(directory, "daemon.log")
        self.log = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.copier = None
        if preexec_fn is None:
            out = open(stdout_path, "w") if stdout_path else None
            self.proc = subprocess.Popen([TRACERMON, "run", "--config", self.config],
                                         stdout=out or self.log, stderr=self.log if out else
                                         subprocess.STDOUT, env=full_env)
            if out:
                out.close()
        else:
            self.proc = subprocess.Popen([TRACERMON, "run", "--config", self.config],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         env=full_env, preexec_fn=preexec_fn)
            self.copier = threading.Thread(target=self._copy_log, daemon=True)
            self.copier.start()
        info_path = os.path.join(directory, "run", "daemon.json")

        def started():
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n"
                                     + self.log_text())
            try:
                with open(info_path) as f:
                    info = json.load(f)
                return info if info.get("pid") == self.proc.pid else None
            except (OSError, ValueError):
                return None

        self.info = wait_until(started, START_TIMEOUT)
        self.url = self.info["http"].rstrip("/")

    def _copy_log(self):
        for line in iter(self.proc.stdout.readline, b""):
            self.log.write(line.decode(errors="replace"))
            self.log.flush()

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def get(self, path):
        """(status, body text) of GET path."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def api(self, path):
        status, body = self.get(path)
        if status != 200:
            raise AssertionError(f"GET {path}: {status} {body}")
        return json.loads(body)

    def device_status(self, name):
        for bus in self.api("/api/v1/status")["buses"]:
            for d in bus["devices"]:
                if d["name"] == name:
                    return d
        raise AssertionError(f"no device {name}")

    def run_cli(self, *args, check=False):
        return subprocess.run([TRACERMON, *args], capture_output=True, text=True, timeout=60,
                              check=check)

    def export(self, *args):
        out = self.run_cli("export", "--config", self.config, "--format", "jsonl",
                           "--from", "2020-01-01", "--to", "2100-01-01", *args, check=True)
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("daemon did not stop on " + str(sig))
        if self.copier is not None:
            self.copier.join(timeout=10)
            self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


class DaemonTestCase(unittest.TestCase):
    """A temporary folder per test; the daemons in `self.daemons` are killed and the folder
    removed after the test (and after a subclass's tearDown)."""

    prefix = "tracermon-"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix=self.prefix)
        self.dir = self.tmp.name
        self.daemons = []
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(self._kill_daemons)

    def _kill_daemons(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)


def assert_config_refused(test, directory, text, line, key, *words):
    """`config check` and `run` both refuse `text` with exit 2, FILE:LINE: KEY and `words`."""
    path = os.path.join(directory, "bad.toml")
    with open(path, "w") as f:
        f.write(text)
    for command in (["config", "check", path], ["run", "--config", path]):
        out = subprocess.run([TRACERMON, *command], capture_output=True, text=True, timeout=30)
        test.assertEqual(out.returncode, 2, (command, out.stderr))
        test.assertIn(f"{path}:{line}: {key}", out.stderr)
        for word in words:
            test.assertIn(word, out.stderr)


def faketime_env(offset_file):
    """Environment that lets a test move the daemon's wall clock (not its monotonic clock)."""
    return {
        "LD_PRELOAD": LIBFAKETIME,
        "FAKETIME_TIMESTAMP_FILE": offset_file,
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def set_offset(offset_file, text):
    with open(offset_file + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(offset_file + ".tmp", offset_file)


def now_ms():
    return int(time.time() * 1000)
