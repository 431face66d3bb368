"""The daemon's HTTP listener against hostile or careless clients (issue 12): times out of range,
slow and idle clients, oversized requests, a second daemon on the same port, error bodies, the
listen backlog. What a user relies on: one client cannot crash the daemon, take its threads or
its memory, or delay a shutdown or a reload past systemd's patience."""

import json
import os
import signal
import subprocess
import time
import unittest
import urllib.parse

from daemon import Daemon, config_text
from http_clients import (SlowClients, body_of, connect, free_port, header_flood,
                          listen_backlog, open_event_stream, read_answer, rss_kib,
                          send_until_answered, status_of)
from peers import TRACERMON
from simulator import wait_until
from test_daemon import SIM3, DaemonTest

# The daemon's limits (src/web/http_limits.hpp) as a client sees them.
HEAD_BYTES = 16 * 1024


class TimeRanges(DaemonTest):
    """Item 4: times outside what the history can hold are refused, never computed with."""

    def test_extreme_times_are_refused_with_the_allowed_range(self):
        d = self.start(SIM3, [1], names=["cabin"])
        self.wait_fields(d, ["cabin"])
        for query in ("from=-9223372036854775807&to=9223372036854775807",
                      "from=0&to=9223372036854775807",
                      "from=-9223372036854775808&to=now",
                      "from=99999-01-01T00:00:00Z&to=now"):
            status, body = d.get(f"/api/v1/history?device=cabin&fields=pv_voltage&{query}")
            self.assertEqual(status, 400, (query, body))
            error = json.loads(body)["error"]
            self.assertIn("1970-01-01", error, query)
            self.assertIn("9999-12-31", error, query)
        # The daemon is still there and a sane query still works.
        self.assertEqual(d.get("/healthz")[0], 200)
        status, body = d.get("/api/v1/history?device=cabin&fields=pv_voltage&from=0&to=now")
        self.assertEqual(status, 200, body)

        out = d.run_cli("export", "--config", d.config, "--from", "0",
                        "--to", "9223372036854775807")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("--to", out.stderr)
        self.assertIn("9999-12-31", out.stderr)


class SlowClientsDoNotStarveTheApi(DaemonTest):
    """Item 5: a slow client costs a buffer, not a thread; the limit answers, never hangs."""

    def test_healthz_answers_while_slow_clients_and_event_streams_hold_connections(self):
        d = self.start(SIM3, [1], names=["cabin"])
        streams = [open_event_stream(d.url) for _ in range(8)]
        for _, response in streams:
            self.assertEqual(response.status, 200)
        slow = SlowClients(d.url, 16)
        try:
            for _ in range(5):
                self.assertEqual(d.get("/healthz"), (200, "ok\n"))
            if time.monotonic() - slow.opened_at < 8:  # well inside the head timeout
                self.assertEqual(slow.open_count(), 16, "the slow clients were still attached")
            self.assertEqual(d.get("/api/v1/status")[0], 200)
            # A head that never ends is cut off: 408, and the connection closed.
            wait_until(slow.all_closed, 60)
            for answer in slow.answers:
                self.assertEqual(status_of(answer), 408, answer)
        finally:
            slow.close()
            for conn, _ in streams:
                conn.close()

    def test_connections_beyond_the_limit_are_refused_with_503(self):
        d = self.start(SIM3, [1], names=["cabin"])
        idle = []
        try:
            for _ in range(300):
                idle.append(connect(d.url))
            refused = []
            for s in idle:
                s.setblocking(False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not refused:
                for s in idle:
                    try:
                        data = s.recv(4096)
                    except BlockingIOError:
                        continue
                    if data:
                        refused.append(data)
            self.assertTrue(refused, "no connection was refused")
            self.assertEqual(status_of(refused[0]), 503, refused[0])
            self.assertIn("connections", json.loads(body_of(refused[0]))["error"])
        finally:
            for s in idle:
                s.close()
        # Once they are gone the daemon answers again.
        wait_until(lambda: d.get("/healthz")[0] == 200, 30)


class ShutdownAndReloadWithSlowClients(DaemonTest):
    """Item 5: SIGTERM and SIGHUP never wait for a client."""

    def attach(self, d):
        streams = [open_event_stream(d.url) for _ in range(8)]
        slow = SlowClients(d.url, 16)
        self.addCleanup(slow.close)
        for conn, _ in streams:
            self.addCleanup(conn.close)
        return slow

    def test_sigterm_commits_and_exits_promptly(self):
        d = self.start(SIM3, [1, 2], commit="1h")  # only the final commit stores anything
        self.wait_fields(d, ["dev1", "dev2"])
        wait_until(lambda: d.api("/api/v1/status")["store"]["buffered"] >= 4, 30)
        latest = d.api("/api/v1/latest")["devices"]
        before = {name: latest[name]["time_ms"] for name in ("dev1", "dev2")}
        self.attach(d)
        d.send(signal.SIGTERM)
        try:
            code = d.proc.wait(timeout=20)  # systemd's SIGKILL comes at 30 s
        except subprocess.TimeoutExpired:
            d.proc.kill()
            raise AssertionError("SIGTERM with slow clients attached took over 20 s")
        self.assertEqual(code, 0, d.log_text())
        rows = d.export()
        for name, time_ms in before.items():
            self.assertTrue(any(r["source"] == name and r["time_ms"] >= time_ms for r in rows),
                            f"the cycle of {name} at {time_ms} buffered before SIGTERM is stored")

    def test_sighup_reloads_promptly(self):
        d = self.start(SIM3, [1], names=["cabin"])
        self.wait_fields(d, ["cabin"])
        self.attach(d)
        d.send(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in d.log_text(), 20)
        with open(os.path.join(self.dir, "run", "daemon.json")) as f:
            d.url = json.load(f)["http"].rstrip("/")
        reloaded_at = time.time() * 1000
        self.assertEqual(d.get("/healthz")[0], 200)
        # Polling goes on after the reload.
        wait_until(lambda: d.api("/api/v1/latest")["devices"].get("cabin", {})
                   .get("time_ms", 0) > reloaded_at, 30)


class OversizedRequests(DaemonTest):
    """Item 6: request line, headers and body are bounded; the memory is given back."""

    def test_refused_without_being_read(self):
        d = self.start(SIM3, [1], names=["cabin"])
        self.wait_fields(d, ["cabin"])
        rss_before = rss_kib(d.proc.pid)

        # A 300 MB body is refused from its head, before a byte of it is sent.
        s = connect(d.url)
        s.sendall(b"POST /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n")
        answer = read_answer(s)
        s.close()
        self.assertEqual(status_of(answer), 413, answer)
        self.assertIn("body", json.loads(body_of(answer))["error"])
        s = connect(d.url)
        s.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        self.assertEqual(status_of(read_answer(s)), 413)
        s.close()

        # 400,000 header lines: refused once the head passes its limit.
        s = connect(d.url)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = send_until_answered(s, header_flood(400_000))
        s.close()
        self.assertEqual(status_of(answer), 431, answer[:200])
        # So is a head of many short lines below the byte limit...
        s = connect(d.url)
        s.sendall(b"GET /healthz HTTP/1.1\r\n" + b"a:b\r\n" * 1000 + b"\r\n")
        self.assertEqual(status_of(read_answer(s)), 431)
        s.close()
        # ... and a request line longer than a URL may be.
        s = connect(d.url)
        answer = send_until_answered(s, [b"GET /" + b"a" * HEAD_BYTES * 4 + b" HTTP/1.1\r\n\r\n"])
        s.close()
        self.assertEqual(status_of(answer), 414, answer[:200])

        self.assertEqual(d.get("/healthz")[0], 200)
        grown_mib = (rss_kib(d.proc.pid) - rss_before) / 1024
        self.assertLess(grown_mib, 32, "the oversized requests were not kept in memory")


class SecondDaemon(DaemonTest):
    """Item 7: a second daemon on a port in use stops and says who holds the port."""

    def test_second_daemon_on_the_same_port_is_refused(self):
        port = free_port()
        listen = f'listen = "127.0.0.1:{port}"'
        text = config_text(self.dir, SIM3, [1], names=["cabin"]).replace(
            'listen = "127.0.0.1:0"', listen)
        first = Daemon(self.dir, text)
        self.daemons.append(first)
        self.assertEqual(first.url, f"http://127.0.0.1:{port}")

        other = os.path.join(self.dir, "other")
        os.makedirs(other)
        config = os.path.join(other, "tracermon.toml")
        with open(config, "w") as f:
            f.write(config_text(other, SIM3, [1], names=["cabin"]).replace(
                'listen = "127.0.0.1:0"', listen))
        second = subprocess.Popen([TRACERMON, "run", "--config", config], text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            output, _ = second.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            raise AssertionError("a second daemon started on a port in use")
        self.assertNotEqual(second.returncode, 0, output)
        self.assertIn("address in use", output)
        self.assertIn(f"127.0.0.1:{port}", output)
        self.assertIn(f"pid {first.proc.pid}", output)
        self.assertEqual(first.get("/healthz")[0], 200)


class ErrorBodiesAndBacklog(DaemonTest):
    """Item 10: error bodies are JSON whatever the path; the backlog absorbs a burst."""

    def test_not_found_is_json_for_any_path(self):
        d = self.start(SIM3, [1], names=["cabin"])
        path = "/a%22,%22injected%22:%22x%5C"  # /a","injected":"x\
        status, body = d.get(path)
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body), {"error": 'no such path: /a","injected":"x\\'})
        status, body = d.get("/%C3%28")  # not UTF-8 once decoded
        self.assertEqual(status, 404)
        self.assertIn("no such path", json.loads(body)["error"])

    def test_listen_backlog_is_at_least_128(self):
        d = self.start(SIM3, [1], names=["cabin"])
        port = urllib.parse.urlsplit(d.url).port
        self.assertGreaterEqual(listen_backlog(port), 128)


if __name__ == "__main__":
    unittest.main()
