"""Start `tracermon simulate` for a test and talk to its control socket."""

import os
import socket
import subprocess
import time

from peers import TRACERMON, wait_for_line, START_TIMEOUT


class Simulator:
    """A `tracermon simulate` process with a pty, a Modbus TCP and an RTU-over-TCP link."""

    def __init__(self, directory, *args, ids="1", profile="tracer-an"):
        self.dir = directory
        self.pty = os.path.join(directory, "ttySIM")
        self.control_path = os.path.join(directory, "control.sock")
        cmd = [
            TRACERMON, "simulate", "--ids", ids, "--profile", profile,
            "--pty", self.pty, "--tcp", "127.0.0.1:0", "--rtu-tcp", "127.0.0.1:0",
            "--control", self.control_path, *args,
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.links = {}
        while True:
            line = wait_for_line(self.proc, START_TIMEOUT)
            if line == "ready":
                break
            kind, where = line.split(" ", 1)
            self.links[kind] = where
        self.tcp = "tcp://" + self.links["tcp"]
        self.rtu_tcp = "rtu+tcp://" + self.links["rtu-tcp"]
        self.tcp_port = int(self.links["tcp"].rsplit(":", 1)[1])

    def control(self, command):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.control_path)
            s.sendall(command.encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return reply.decode().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        return err


def wait_until(predicate, timeout=15.0, interval=0.05):
    """Polls predicate until it is true; the condition, not a sleep, ends the wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
