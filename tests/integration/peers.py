"""Start and stop the processes the integration tests talk to, and work out expected values.

Everything listens on loopback or on a pseudo-terminal in a temporary directory, and every
process is stopped by the test that started it.
"""

import csv
import json
import os
import random
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TRACERMON_DATA_DIR", ROOT / "data"))
TRACERMON = os.environ.get("TRACERMON_BIN", str(ROOT / "build" / "tracermon"))
PYTHON = "/usr/bin/python3"  # Debian's, where python3-pymodbus lives
PEER = str(Path(__file__).with_name("tracer_peer.py"))
START_TIMEOUT = 20.0


def load_registers():
    with open(DATA / "registers.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_enum_codes():
    codes = {}
    with open(DATA / "enums.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if "[" in row["register_hex"]:  # bit ranges of status words: random words cover them
                continue
            codes.setdefault(int(row["register_hex"], 16), []).append(int(row["value"]))
    return codes


def width(row):
    return 2 if row["type"].startswith(("u32", "s32")) else 1


class Device:
    """Raw words of one simulated controller, chosen at random, and the values they mean."""

    def __init__(self, seed, missing=()):
        self.rows = [r for r in load_registers() if r["access"] != "w"]
        self.missing = set(missing)  # field names the model lacks
        rng = random.Random(seed)
        codes = load_enum_codes()
        self.words = {}  # (table, address) -> word
        self.expected = {}  # field name -> value tracermon must print
        for row in self.rows:
            addr = int(row["address_hex"], 16)
            table, kind = row["function"], row["type"]
            if table in ("coil", "discrete"):
                raw = rng.randint(0, 1)
            elif kind == "enum" and addr in codes:
                raw = rng.choice(codes[addr])
            elif kind in ("u32_lo_hi", "s32_lo_hi"):
                raw = rng.randint(0, 0xFFFFFFFF)
            else:
                raw = rng.randint(0, 0xFFFF)
            if width(row) == 2:
                self.words[(table, addr)] = raw & 0xFFFF
                self.words[(table, addr + 1)] = raw >> 16
            else:
                self.words[(table, addr)] = raw
            if row["name_snake_case"] in self.missing:
                for i in range(width(row)):
                    del self.words[(table, addr + i)]
                continue
            if kind == "s16" and raw >= 0x8000:
                raw -= 0x10000
            if kind == "s32_lo_hi" and raw >= 0x80000000:
                raw -= 0x100000000
            scale = int(row["scale"])
            value = raw if scale == 1 else Decimal(raw) / scale
            self.expected[row["name_snake_case"]] = value
        # A clock that reads as a real date, so "controller_clock" must appear.
        y, mo, d = rng.randint(0, 99), rng.randint(1, 12), rng.randint(1, 28)
        h, mi, se = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        self.clock = f"{2000 + y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}"
        for name, addr, word in (
            ("rtc_minute_second", 0x9013, mi << 8 | se),
            ("rtc_day_hour", 0x9014, d << 8 | h),
            ("rtc_year_month", 0x9015, y << 8 | mo),
        ):
            self.words[("holding", addr)] = word
            self.expected[name] = word
        # Real units answer the undocumented 0x3108-0x310B inside a 0x3100 block (NOTES.md).
        for addr in range(0x3108, 0x310C):
            self.words[("input", addr)] = 0

    def tables(self):
        out = {}
        for (table, addr), word in self.words.items():
            out.setdefault(table, {})[hex(addr)] = word
        return out


def write_spec(directory, devices, model="Tracer3210AN", firmware="V02.13+V07.24"):
    spec = {
        "model": model,
        "firmware": firmware,
        "units": {str(unit): d.tables() for unit, d in devices.items()},
    }
    path = Path(directory) / "values.json"
    path.write_text(json.dumps(spec))
    return path


def wait_for_line(proc, timeout):
    """The next stdout line of proc, or an error with its stderr if it dies or stays silent.

    Reads the raw pipe (select() cannot see what a buffered reader already holds)."""
    pending = getattr(proc, "pending_output", b"")
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while b"\n" not in pending and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            pending += chunk
        elif proc.poll() is not None:
            break
    if b"\n" in pending:
        line, rest = pending.split(b"\n", 1)
        proc.pending_output = rest
        return line.decode().strip()
    proc.kill()
    raise RuntimeError(f"process did not start: {proc.stderr.read()}")


def wait_for_path(path, proc, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"socat did not create {path}")
        time.sleep(0.05)


class Processes:
    """Processes started for one test, stopped in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kwargs):
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
        )
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()
        self.procs = []


class Bench:
    """A temporary directory with the processes one test needs."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tracermon-it-")
        self.procs = Processes()

    def close(self):
        self.procs.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pty_pair(self):
        """Two linked pseudo-terminals: (the end tracermon opens, the end the peer opens)."""
        a, b = os.path.join(self.dir, "ttyA"), os.path.join(self.dir, "ttyB")
        proc = self.procs.start(
            ["socat", "-d", "-d", f"pty,rawer,echo=0,link={a}", f"pty,rawer,echo=0,link={b}"]
        )
        wait_for_path(a, proc, START_TIMEOUT)
        wait_for_path(b, proc, START_TIMEOUT)
        return a, b

    def peer(self, link, devices, fail=False, **identity):
        """Start the pymodbus peer; returns the port spec tracermon must be given."""
        spec = write_spec(self.dir, devices, **identity)
        args = [PYTHON, PEER, "--link", link, "--values", str(spec)]
        if fail:
            args.append("--fail")
        if link == "serial":
            ours, theirs = self.pty_pair()
            args += ["--device", theirs]
        proc = self.procs.start(args)
        port = int(wait_for_line(proc, START_TIMEOUT).split()[1])
        if link == "serial":
            return ours
        scheme = "tcp" if link == "tcp" else "rtu+tcp"
        return f"{scheme}://127.0.0.1:{port}"


class GarbageServer:
    """A TCP peer that answers every request with bytes that are not Modbus."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while True:
                    try:
                        data = conn.recv(256)
                    except OSError:
                        break
                    if not data:
                        break
                    conn.sendall(bytes((b ^ 0x5A) for b in data) + b"\x00garbage\xff")

    def close(self):
        self.sock.close()


def run(*args, timeout=60):
    return subprocess.run(
        [TRACERMON, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def json_lines(text):
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]
