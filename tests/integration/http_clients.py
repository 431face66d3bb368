"""Misbehaving HTTP clients for the daemon's listener: slow heads, idle connections, oversized
requests. Used by test_http_hardening.py and bench/http_bench.py; every loop is bounded."""

import http.client
import os
import select
import socket
import threading
import time
import urllib.parse


def address(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def connect(url, timeout=10.0):
    return socket.create_connection(address(url), timeout=timeout)


class SlowClients:
    """`count` connections that each send a request line, then one header line a second and
    never the blank line that ends the head (slowloris). The trickle stops after `limit`
    seconds or on close(). `closed[i]` tells whether the server closed connection i, and
    `answers[i]` what it sent first."""

    def __init__(self, url, count, limit=120.0):
        self.socks = []
        for _ in range(count):
            s = connect(url)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
            s.setblocking(False)
            self.socks.append(s)
        self.opened_at = time.monotonic()
        self.answers = [b""] * count
        self.closed = [False] * count
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, args=(limit,), daemon=True)
        self._thread.start()

    def _poll_one(self, i):
        s = self.socks[i]
        try:
            data = s.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.answers[i] += data
        else:
            self.closed[i] = True

    def _trickle(self, limit):
        deadline = time.monotonic() + limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                for i, s in enumerate(self.socks):
                    if self.closed[i]:
                        continue
                    self._poll_one(i)
                    if self.closed[i]:
                        continue
                    try:
                        s.send(b"X-Slow: 1\r\n")
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.closed[i] = True
            self._stop.wait(1.0)

    def open_count(self):
        with self._lock:
            for i in range(len(self.socks)):
                if not self.closed[i]:
                    self._poll_one(i)
            return self.closed.count(False)

    def all_closed(self):
        return self.open_count() == 0

    def close(self):
        self._stop.set()
        self._thread.join()
        for s in self.socks:
            s.close()


def open_event_stream(url, timeout=20):
    host, port = address(url)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.request("GET", "/api/v1/events")
    return conn, conn.getresponse()


def read_answer(sock, timeout=10.0):
    """Everything the server sends until it closes the connection or `timeout` passes."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status_of(answer):
    """The status code of a raw HTTP answer, or None."""
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def body_of(answer):
    return answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""


def send_until_answered(sock, chunks, timeout=10.0):
    """Sends `chunks` one after another until the server answers (or stops reading); returns
    the answer."""
    for chunk in chunks:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        try:
            sock.sendall(chunk)
        except OSError:
            break
    return read_answer(sock, timeout)


def header_flood(lines, per_chunk=4096):
    """`lines` header lines in chunks, generated as they are sent."""
    for start in range(0, lines, per_chunk):
        yield b"".join(b"X-Header-%d: value\r\n" % n
                       for n in range(start, min(lines, start + per_chunk)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def free_port():
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listen_backlog(port):
    """The backlog of the socket listening on `port`, from `ss` (its Send-Q for a listener)."""
    import subprocess
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                         timeout=10, check=True).stdout.split()
    return int(out[2])


def healthz_latency(url, timeout=10.0):
    """Seconds one GET /healthz takes, and its status."""
    host, port = address(url)
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return time.monotonic() - started, response.status
    finally:
        conn.close()


def process_exists(pid):
    return os.path.exists(f"/proc/{pid}")
