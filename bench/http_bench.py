#!/usr/bin/env python3
"""Figures, not a test: the daemon's HTTP listener under slow and hostile clients (issue 12).

    TRACERMON_BIN=build/tracermon python3 bench/http_bench.py

Prints /healthz latency (p50/p99) with 0, 16 and 100 slow clients attached, a burst of 1000
connections, the SIGTERM time with slow clients and event streams attached, and the daemon's
RSS before and after oversized requests. Everything runs against a daemon on simulated
controllers on loopback; every wait is bounded, so an old binary that hangs shows as "> N s".
"""

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from daemon import Daemon, config_text  # noqa: E402
from http_clients import (SlowClients, address, connect, header_flood, healthz_latency,  # noqa: E402,E501
                          open_event_stream, rss_kib, send_until_answered)

SIM = "sim:ids=1,2,3&profile=tracer-an+tracer-bn+tracer-an&seed=11&turnaround-ms=3"
REQUESTS = 200


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency(url, count=REQUESTS, timeout=10.0):
    times, failures, in_a_row = [], 0, 0
    for _ in range(count):
        if in_a_row == 3:  # an old binary that does not answer: say so, do not wait 10 s more
            break
        try:
            seconds, status = healthz_latency(url, timeout)
        except OSError:
            failures += 1
            in_a_row += 1
            continue
        if status == 200:
            times.append(seconds)
            in_a_row = 0
        else:
            failures += 1
            in_a_row += 1
    if not times:
        return f"no answer in {count} tries (timeout {timeout:.0f} s each)"
    return (f"p50 {statistics.median(times) * 1000:.1f} ms, p99 {percentile(times, 99) * 1000:.1f}"
            f" ms ({len(times)} answered, {failures} failed or refused)")


async def one_connection(host, port, timeout):
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), timeout)
        writer.close()
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        status = None
    return time.monotonic() - started, status


async def burst(url, count, timeout=30.0):
    host, port = address(url)
    return await asyncio.gather(*(one_connection(host, port, timeout) for _ in range(count)))


def burst_figures(url, count=1000):
    results = asyncio.run(burst(url, count))
    times = [t for t, _ in results]
    by_status = {}
    for _, status in results:
        by_status[status] = by_status.get(status, 0) + 1
    return (f"{count} connections at once: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"p99 {percentile(times, 99) * 1000:.0f} ms; answers {by_status}")


def start(directory, **kw):
    os.makedirs(directory, exist_ok=True)
    return Daemon(directory, config_text(directory, SIM, [1, 2, 3], **kw))


def main():
    print(f"tracermon: {os.environ.get('TRACERMON_BIN', 'build/tracermon')}")
    with tempfile.TemporaryDirectory(prefix="http-bench-") as tmp:
        d = start(os.path.join(tmp, "a"))
        try:
            print(f"/healthz, nothing else attached: {latency(d.url)}")
            for count in (16, 100):
                slow = SlowClients(d.url, count, limit=60)
                try:
                    print(f"/healthz, {count} slow clients attached: {latency(d.url, 50)}")
                finally:
                    slow.close()
            time.sleep(1)  # let the closed slow clients go (figures only)
            print(burst_figures(d.url, 200))  # within the connection limit: the backlog's part
            print(burst_figures(d.url, 1000))

            rss_before = rss_kib(d.proc.pid)
            for _ in range(16):
                s = connect(d.url)
                s.sendall(b"POST /api/v1/status HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 300000000\r\n\r\n")
                send_until_answered(s, (b"x" * 65536 for _ in range(4800)), timeout=30)
                s.close()
            for _ in range(16):
                s = connect(d.url)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                send_until_answered(s, header_flood(400_000), timeout=30)
                s.close()
            time.sleep(1)
            print(f"RSS before oversized requests {rss_before / 1024:.1f} MiB, after 16 x 300 MB "
                  f"POST and 16 x 400,000 headers {rss_kib(d.proc.pid) / 1024:.1f} MiB")
        finally:
            d.stop(signal.SIGKILL)

        d = start(os.path.join(tmp, "b"), commit="1h")
        streams = [open_event_stream(d.url) for _ in range(8)]
        slow = SlowClients(d.url, 16, limit=90)
        try:
            time.sleep(2)
            started = time.monotonic()
            d.send(signal.SIGTERM)
            try:
                d.proc.wait(timeout=90)
                print(f"SIGTERM with 16 slow clients and 8 event streams attached: exit "
                      f"{d.proc.returncode} after {time.monotonic() - started:.2f} s")
            except subprocess.TimeoutExpired:
                print("SIGTERM with 16 slow clients and 8 event streams attached: > 90 s")
                d.proc.kill()
                d.proc.wait()
        finally:
            slow.close()
            for conn, _ in streams:
                conn.close()

        d = start(os.path.join(tmp, "c"))
        streams = [open_event_stream(d.url) for _ in range(8)]
        slow = SlowClients(d.url, 16, limit=90)
        try:
            time.sleep(2)
            started = time.monotonic()
            d.send(signal.SIGHUP)
            deadline = started + 90
            while "configuration reloaded" not in d.log_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            took = time.monotonic() - started
            print("SIGHUP with 16 slow clients and 8 event streams attached: "
                  + (f"reloaded after {took:.2f} s" if took < 90 else "> 90 s"))
        finally:
            slow.close()
            for conn, _ in streams:
                conn.close()
            d.stop(signal.SIGKILL)


if __name__ == "__main__":
    main()
