"""A real Mosquitto broker and a real subscriber (mosquitto_sub) on loopback, for the MQTT tests.

The broker runs from a config file of its own (listener on 127.0.0.1 only, optional password
file, TLS and persistence) and can be stopped and started again on the same port; the
subscriber records every message with its retained flag and QoS.
"""

import getpass
import json
import os
import signal
import socket
import subprocess
import threading

from simulator import wait_until


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Broker:
    """`mosquitto -c FILE` on a free loopback port; stop() and start() keep port and data."""

    def __init__(self, directory, users=None, tls=None, persistence=False, port=None):
        self.dir = directory
        self.port = port or free_port()
        self.conf = os.path.join(directory, "mosquitto.conf")
        self.log_path = os.path.join(directory, "mosquitto.log")
        # Started as root, mosquitto would drop to the `mosquitto` user, which cannot read the
        # test's private temporary folder.
        lines = [f"user {getpass.getuser()}",
                 f"listener {self.port} 127.0.0.1",
                 f"log_dest file {self.log_path}",
                 "log_type all",
                 "connection_messages true"]
        if users:
            passwords = os.path.join(directory, "passwords")
            with open(passwords, "w") as f:
                for user in users:
                    f.write(f"{user}:x\n")
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", passwords, user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            lines += [f"cafile {tls['ca']}", f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        if persistence:
            lines += ["persistence true", f"persistence_location {directory}/"]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: self.proc.poll() is None and port_open(self.port), 10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.proc = None

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, scheme="mqtt"):
        return f"{scheme}://127.0.0.1:{self.port}"


class Subscriber:
    """mosquitto_sub on `topic` at QoS 1; `messages` holds dicts topic/payload/retain/qos."""

    def __init__(self, broker, topic="#", client_id=None, persistent=False, extra=()):
        args = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                "-t", topic, "-F", "%j"]
        if client_id:
            args += ["-i", client_id]
        if persistent:
            args.append("-c")
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.messages = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.messages.append(message)

    def snapshot(self, topic=None, prefix=None):
        with self.lock:
            return [m for m in self.messages
                    if (topic is None or m["topic"] == topic)
                    and (prefix is None or m["topic"].startswith(prefix))]

    def wait_for(self, predicate, timeout=20):
        return wait_until(lambda: predicate(self), timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.thread.join(5)
        self.proc.stdout.close()


def retained(broker, topic="#", wait=1.0):
    """The retained messages a new subscriber gets right away: {topic: payload}."""
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic,
                          "-F", "%j", "--retained-only", "-W", str(max(1, int(wait)))],
                         capture_output=True, text=True, timeout=wait + 10)
    result = {}
    for line in out.stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        result[m["topic"]] = m.get("payload", "")
    return result


def publish(broker, topic, payload, retain=False):
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-m", payload,
            "-q", "1"]
    if retain:
        args.append("-r")
    subprocess.run(args, check=True, timeout=10)


def make_tls_files(directory):
    """A CA and a server certificate for 127.0.0.1 (openssl), for an mqtts:// listener."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
        "-out", "server.csr")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.crt")
    return {k: os.path.join(directory, v) for k, v in
            {"ca": "ca.crt", "cert": "server.crt", "key": "server.key"}.items()}

