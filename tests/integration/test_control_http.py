"""HTTP control (docs/control.md, "HTTP") against the real daemon on a simulated bus: off by
default, the bearer token (401, 429), the token file's mode, a write read back and audited, a
rule violation, a bad body, and a write that does not hold up the rest of the API."""

import http.client
import json
import os
import subprocess
import threading
import time
import urllib.parse

from daemon import Daemon, DaemonTestCase, config_text
from peers import TRACERMON
from simulator import wait_until

TOKEN = "e2b7c4f09a1d4c3fb8a6e5d4c3b2a190"
PORT = "sim:ids=1,2&seed=5"


def control_section(token_file):
    return f"""[control]
enabled = true
token_file = "{token_file}"
clock_sync = "off"
"""


def write_token(directory, mode=0o600, token=TOKEN):
    path = os.path.join(directory, "control.token")
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, mode)
    return path


def request(daemon, method, path, body=None, token=TOKEN, source="127.0.0.1", raw=None):
    """(status, headers, body as JSON or text) of one request from `source` (any 127.x
    address reaches the daemon's 127.0.0.1 listener, so a test can be another client)."""
    url = urllib.parse.urlsplit(daemon.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60,
                                      source_address=(source, 0))
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return response.status, dict(response.getheaders()), parsed
    finally:
        conn.close()


class ControlOffByDefault(DaemonTestCase):
    def test_every_control_path_is_404(self):
        daemon = Daemon(self.dir, config_text(self.dir, PORT, [1, 2]))
        self.daemons.append(daemon)
        for method, path, body in (("GET", "/api/v1/control", None),
                                   ("GET", "/api/v1/control/log", None),
                                   ("GET", "/api/v1/control/export?device=dev1", None),
                                   ("POST", "/api/v1/control/set",
                                    {"device": "dev1", "settings": {"battery_capacity": 100}}),
                                   ("POST", "/api/v1/control/load",
                                    {"device": "dev1", "state": "on"})):
            status, _, answer = request(daemon, method, path, body)
            self.assertEqual(status, 404, (path, answer))
            self.assertIn("[control] enabled = true", answer["error"])


class TokenFileMode(DaemonTestCase):
    def test_a_token_file_others_can_read_stops_the_daemon(self):
        token_file = write_token(self.dir, mode=0o644)
        config = os.path.join(self.dir, "tracermon.toml")
        with open(config, "w") as f:
            f.write(config_text(self.dir, PORT, [1], extra=control_section(token_file)))
        out = subprocess.run([TRACERMON, "run", "--config", config], capture_output=True,
                             text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0, out.stderr)
        message = out.stderr + out.stdout
        self.assertIn(token_file, message)
        self.assertIn("chmod 600", message)


class ControlOverHttp(DaemonTestCase):
    def setUp(self):
        super().setUp()
        token_file = write_token(self.dir)
        # A slow bus (150 ms before each reply): a write takes long enough to be seen.
        self.daemon = Daemon(self.dir, config_text(
            self.dir, PORT + "&turnaround-ms=150", [1, 2], names=["east", "west"],
            timeout="2s", extra=control_section(token_file)))
        self.daemons.append(self.daemon)
        wait_until(lambda: self.daemon.device_status("east")["health"] == "online", 30)

    def test_token_required_and_failures_rate_limited(self):
        for token in (None, "wrong", TOKEN[:-1]):
            status, headers, answer = request(self.daemon, "GET", "/api/v1/control", token=token,
                                              source="127.0.0.2")
            self.assertEqual(status, 401, answer)
            self.assertTrue(headers.get("WWW-Authenticate", "").startswith("Bearer"), headers)
            self.assertNotIn("Set-Cookie", headers)
            self.assertIn("Bearer", answer["error"])
        self.assertIn("from 127.0.0.2", self.daemon.log_text())
        # Five failures within a minute: then 429, even with the right token, for a minute.
        for _ in range(2):
            self.assertEqual(request(self.daemon, "GET", "/api/v1/control", token="nope",
                                     source="127.0.0.2")[0], 401)
        status, headers, answer = request(self.daemon, "GET", "/api/v1/control",
                                          source="127.0.0.2")
        self.assertEqual(status, 429, answer)
        self.assertGreater(int(headers["Retry-After"]), 50)
        # Another client is not affected.
        status, _, answer = request(self.daemon, "GET", "/api/v1/control")
        self.assertEqual(status, 200, answer)
        self.assertTrue(answer["enabled"])
        names = [s["name"] for s in answer["settings"]]
        self.assertIn("boost_charging_voltage", names)

    def test_set_writes_reads_back_and_is_audited(self):
        status, _, answer = request(self.daemon, "POST", "/api/v1/control/set",
                                    {"device": "east", "settings": {"battery_capacity": "321Ah"}})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["outcome"], "written")
        self.assertEqual(answer["changes"][0]["after"], "321")
        status, _, exported = request(self.daemon, "GET", "/api/v1/control/export?device=east")
        self.assertEqual(status, 200, exported)
        self.assertEqual(exported["settings"]["battery_capacity"], "321")
        status, _, log = request(self.daemon, "GET", "/api/v1/control/log?limit=10")
        self.assertEqual(status, 200, log)
        record = log["records"][0]
        self.assertEqual((record["source"], record["device"], record["setting"], record["new"],
                          record["result"]),
                         ("http", "east", "battery_capacity", "321", "written"))

    def test_rule_violation_is_409_naming_both_settings(self):
        user = {"battery_type": "user", "battery_rated_voltage_code": "24V",
                "boost_charging_voltage": "14.2", "float_charging_voltage": "13.6"}
        status, _, answer = request(self.daemon, "POST", "/api/v1/control/set",
                                    {"device": "west", "settings": user})
        self.assertEqual(status, 200, answer)
        status, _, answer = request(self.daemon, "POST", "/api/v1/control/set",
                                    {"device": "west",
                                     "settings": {"boost_charging_voltage": "13.4"}})
        self.assertEqual(status, 409, answer)
        violations = " ".join(answer["violations"])
        self.assertIn("boost_charging_voltage", violations)
        self.assertIn("float_charging_voltage", violations)
        self.assertEqual(answer["sent"], [])

    def test_clock_drift_in_status_and_metrics(self):
        # The simulated clocks start at the host's local time: a drift of a second or two.
        drift = wait_until(lambda: self.daemon.device_status("east")["clock_drift_s"] is not None
                           and [self.daemon.device_status("east")["clock_drift_s"]], 30)[0]
        self.assertLessEqual(abs(drift), 3)
        status, metrics = self.daemon.get("/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(metrics, r'tracermon_clock_drift_seconds\{device="east",id="1"\} -?\d')

    def test_bad_bodies_are_400(self):
        for raw, words in (('{"device": "east", ', "not JSON"),
                           ('["east"]', "JSON object"),
                           ('{"device": "east", "settings": {"battery_capacity": 100}, '
                            '"dry_run": "yes"}', "dry_run")):
            status, _, answer = request(self.daemon, "POST", "/api/v1/control/set", raw=raw)
            self.assertEqual(status, 400, (raw, answer))
            self.assertIn(words, answer["error"])

    def test_a_write_does_not_hold_up_the_api(self):
        """Measured: how long GET /api/v1/status takes while a write runs on the slow bus."""
        result = {}

        def write():
            start = time.monotonic()
            result["answer"] = request(self.daemon, "POST", "/api/v1/control/load",
                                       {"device": "east", "state": "on"})
            result["seconds"] = time.monotonic() - start

        writer = threading.Thread(target=write)
        writer.start()
        status_times = []
        while writer.is_alive() and len(status_times) < 2000:
            start = time.monotonic()
            status, _ = self.daemon.get("/api/v1/status")
            status_times.append(time.monotonic() - start)
            self.assertEqual(status, 200)
        writer.join(60)
        status, _, answer = result["answer"]
        self.assertEqual(status, 200, answer)
        print(f"\nwrite took {result['seconds']:.2f} s; {len(status_times)} GET /api/v1/status "
              f"meanwhile, slowest {max(status_times) * 1000:.0f} ms")
        self.assertGreater(result["seconds"], 0.3)  # the slow bus made it long
        self.assertGreaterEqual(len(status_times), 2)
        self.assertLess(max(status_times), 0.25 * result["seconds"] + 0.2)


if __name__ == "__main__":
    import unittest
    unittest.main()
