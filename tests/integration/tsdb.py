"""Time-series databases for the integration tests: a real InfluxDB 1.x and VictoriaMetrics on
loopback (Debian's `influxd` and `victoria-metrics`), a scripted InfluxDB v2 write endpoint, and
the Grafana dashboard's queries with the macros filled in.

Every server listens on 127.0.0.1 ports found free at start, keeps its data in a temporary
directory and is stopped by the test that started it (context manager or close()).
"""

import gzip
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(url, method="GET", body=None, headers=None, timeout=10.0):
    """(status, body bytes) of one request; HTTP error statuses are returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def log_tail(path, chars=3000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-chars:]
    except OSError:
        return ""


class _Server:
    """A server process on fixed loopback ports with its data in one directory; start() may be
    called again after stop() (same ports, same data: an outage, not a new server)."""

    name = "server"

    def __init__(self, directory=None):
        self._owned_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix=f"tracermon-{self.name}-")
        self.log_path = os.path.join(self.dir, f"{self.name}.log")
        self.proc = None
        self._log = None

    def command(self):
        raise NotImplementedError

    def ready(self):
        raise NotImplementedError

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self._close_log()
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n"
                                   + log_tail(self.log_path))
            try:
                if self.ready():
                    return self
            except OSError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} not ready in {START_TIMEOUT} s:\n"
                                   + log_tail(self.log_path))
            time.sleep(0.05)

    def stop(self):
        """SIGTERM and wait (SIGKILL if it does not exit)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_log()

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()

    def close(self):
        self.stop()
        if self._owned_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        return log_tail(self.log_path, 100000)

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()


class InfluxError(RuntimeError):
    pass


class InfluxServer(_Server):
    """Debian's InfluxDB 1.x (`influxd`) on loopback, configured from `influxd config`."""

    name = "influxd"

    def __init__(self, directory=None):
        super().__init__(directory)
        self.http_port = free_port()
        self.rpc_port = free_port()  # the backup/restore service: top-level bind-address
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.config_path = os.path.join(self.dir, "influxdb.conf")
        defaults = subprocess.run(["influxd", "config"], capture_output=True, text=True,
                                  check=True).stdout
        with open(self.config_path, "w") as f:
            f.write(self._config(defaults))

    def _config(self, defaults):
        storage = os.path.join(self.dir, "influxdb")
        # (section, key) -> value; the section is "" at the top and the first table named.
        wanted = {
            ("", "bind-address"): f'"127.0.0.1:{self.rpc_port}"',
            ("meta", "dir"): f'"{storage}/meta"',
            ("data", "dir"): f'"{storage}/data"',
            ("data", "wal-dir"): f'"{storage}/wal"',
            ("data", "query-log-enabled"): "false",
            ("monitor", "store-enabled"): "false",  # no _internal database writing every 10 s
            ("http", "bind-address"): f'"127.0.0.1:{self.http_port}"',
            ("http", "log-enabled"): "false",
            ("logging", "level"): '"warn"',
            ("logging", "suppress-logo"): "true",
        }
        out = ["reporting-disabled = true"]
        section = ""
        for line in defaults.splitlines():
            stripped = line.strip()
            header = re.fullmatch(r"\[\[?([\w.-]+)\]\]?", stripped)
            if header:
                section = header.group(1)
            key = stripped.split("=", 1)[0].strip() if "=" in stripped else None
            if section == "" and key in ("reporting-disabled", "reporting-enabled"):
                continue
            if key is not None and (section, key) in wanted:
                line = f"{line[:len(line) - len(line.lstrip())]}{key} = {wanted[(section, key)]}"
            out.append(line)
        return "\n".join(out) + "\n"

    def command(self):
        return ["influxd", "-config", self.config_path]

    def ready(self):
        status, _ = http_request(self.url + "/ping", timeout=1.0)
        return status == 204

    def _query(self, method, q, db=None, epoch=None):
        params = {"q": q}
        if db:
            params["db"] = db
        if epoch:
            params["epoch"] = epoch
        encoded = urllib.parse.urlencode(params)
        if method == "GET":
            status, body = http_request(f"{self.url}/query?{encoded}")
        else:
            status, body = http_request(f"{self.url}/query", "POST", encoded.encode(),
                                        {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise InfluxError(f"{q!r}: HTTP {status}: {body.decode(errors='replace')}")
        results = json.loads(body).get("results", [])
        series = []
        for result in results:
            if "error" in result:
                raise InfluxError(f"{q!r}: {result['error']}")
            series.extend(result.get("series", []))
        return series

    def query(self, q, db=None, epoch=None):
        """InfluxQL over GET /query: the series of every statement, each a dict with name,
        columns, values and (with GROUP BY tags) tags. Raises InfluxError on any error."""
        return self._query("GET", q, db, epoch)

    def create_database(self, name):
        self._query("POST", f'CREATE DATABASE "{name}"')

    def write(self, db, lines, precision="ns"):
        """POST line protocol (a string or a list of lines) to /write; raises unless 204."""
        if not isinstance(lines, str):
            lines = "\n".join(lines) + "\n"
        params = urllib.parse.urlencode({"db": db, "precision": precision})
        status, body = http_request(f"{self.url}/write?{params}", "POST", lines.encode())
        if status != 204:
            raise InfluxError(f"write: HTTP {status}: {body.decode(errors='replace')}")


class VictoriaMetrics(_Server):
    """Debian's single-node VictoriaMetrics on loopback. It takes InfluxDB line protocol on
    /write and names each series <measurement>_<field>."""

    name = "victoria-metrics"

    def __init__(self, directory=None):
        super().__init__(directory)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def command(self):
        return ["victoria-metrics",
                "-storageDataPath", os.path.join(self.dir, "vm-data"),
                "-httpListenAddr", f"127.0.0.1:{self.port}",
                "-search.latencyOffset=0s",  # recent points in /api/v1/query* at once
                "-search.disableCache",
                "-loggerLevel=WARN"]

    def ready(self):
        status, _ = http_request(self.url + "/health", timeout=1.0)
        return status == 200

    def export(self, match):
        """Every series matching the selector (e.g. '{__name__=~"tracer_.*"}'), as dicts with
        metric (labels), values and timestamps (ms)."""
        params = urllib.parse.urlencode({"match[]": match})
        status, body = http_request(f"{self.url}/api/v1/export?{params}")
        if status != 200:
            raise RuntimeError(f"export {match}: HTTP {status}: {body.decode(errors='replace')}")
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def flush(self):
        """Makes what was ingested searchable now (otherwise about a second later)."""
        http_request(self.url + "/internal/force_flush")

    def wait_for_series(self, match, predicate=None, timeout=15.0):
        """export(match) once it is not empty (and predicate(series) holds, when given)."""
        deadline = time.monotonic() + timeout
        while True:
            self.flush()
            series = self.export(match)
            if series and (predicate is None or predicate(series)):
                return series
            if time.monotonic() > deadline:
                raise AssertionError(f"no series matching {match} in {timeout} s: {series}")
            time.sleep(0.1)


WriteRequest = namedtuple("WriteRequest", "method path query headers body")
# query: dict of lists (urllib.parse.parse_qs); headers: dict with lower-case names;
# body: bytes, already gunzipped when Content-Encoding said gzip.


class FakeInfluxV2:
    """An InfluxDB v2 write endpoint in a thread: POST /api/v2/write answers the scripted
    responses in order, then 204. Every request is recorded. Use as a context manager or
    close() it."""

    def __init__(self):
        self.requests = []
        self.answers = []  # the status each of `requests` was answered with
        self._script = []
        self._cond = threading.Condition()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive and Expect: 100-continue, as curl uses

            def do_POST(self):
                fake._handle(self)

            def do_GET(self):
                fake._handle(self)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def respond(self, status, code=None, message=None, headers=None):
        """Queues one answer for the next write: status with {"code", "message"} as the body
        (InfluxDB v2's error format) when code or message is given."""
        body = b""
        if code is not None or message is not None:
            body = json.dumps({"code": code or "", "message": message or ""}).encode()
        with self._cond:
            self._script.append((status, body, headers or {}))

    def wait_for_requests(self, count, timeout=15.0):
        """The recorded requests once there are at least `count` of them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests, waited for {count}")
            return list(self.requests)

    def lines(self):
        """Every line-protocol line received on /api/v2/write so far, in order."""
        with self._cond:
            bodies = [r.body for r in self.requests if r.path == "/api/v2/write"]
        return [line for body in bodies for line in body.decode().splitlines() if line]

    def close(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self, handler):
        url = urllib.parse.urlsplit(handler.path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        body = self._read_body(handler, headers)
        if "gzip" in headers.get("content-encoding", ""):
            body = gzip.decompress(body)
        with self._cond:
            status, reply, extra = self._answer(url.path, handler.command, body)
            self.requests.append(WriteRequest(handler.command, url.path,
                                              urllib.parse.parse_qs(url.query), headers, body))
            self.answers.append(status)
            self._cond.notify_all()
        handler.send_response(status)
        if reply:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    def _answer(self, path, command, body):
        """(status, reply body, extra headers) for one request; called with the lock held."""
        if path == "/api/v2/write" and command == "POST":
            return self._script.pop(0) if self._script else (204, b"", {})
        if path == "/health":
            return 200, b'{"status": "pass"}', {}
        return 404, b'{"code": "not found", "message": "path not found"}', {}

    @staticmethod
    def _read_body(handler, headers):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(handler.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    handler.rfile.readline()
                    return body
                body += handler.rfile.read(size)
                handler.rfile.readline()
        return handler.rfile.read(int(headers.get("content-length", "0")))


# --- The Grafana dashboard's queries, as Grafana would send them --------------------------

_REGEX_SPECIALS = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def _regex_value(values):
    """A multi-value / include-all variable inside an InfluxQL regex: Grafana escapes each
    value and joins them as (a|b)."""
    escaped = [_REGEX_SPECIALS.sub(lambda m: "\\" + m.group(0), v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _duration_ms(interval):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval)
    if not m:
        raise ValueError(f"interval {interval!r}: expected e.g. 10s, 1m")
    factor = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[m.group(2)]
    return int(m.group(1)) * factor


def fill_macros(query, start_expr, interval, variables, raw=()):
    """The query with Grafana's InfluxQL macros and the dashboard variables filled in:
    $timeFilter -> time > <start_expr>, $__interval_ms, $__interval, and $name / ${name} /
    [[name]] for each of `variables` (name -> list of values): a regex group of the values, as
    Grafana formats a multi-value or include-all variable, or the value as it is for the names
    in `raw` (single-value variables). Raises ValueError for a macro or variable it does not
    know, so a dashboard cannot use one untested."""
    out = query.replace("$timeFilter", f"time > {start_expr}")
    out = out.replace("$__interval_ms", str(_duration_ms(interval)))
    out = out.replace("$__interval", interval)
    for name, values in variables.items():
        values = [values] if isinstance(values, str) else list(values)
        value = ",".join(values) if name in raw else _regex_value(values)
        out = re.sub(r"\$\{" + name + r"(:regex)?\}|\[\[" + name + r"\]\]|\$" + name + r"\b",
                     lambda _: value, out)
    leftover = re.search(r"\$\{?\w+|\[\[\w+\]\]", out.replace("$/", ""))
    if leftover:
        raise ValueError(f"unknown macro or variable {leftover.group(0)!r} in {query!r}")
    return out


def load_dashboard(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def dashboard_panels(dashboard):
    """Every panel, rows' nested panels included, in order."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def dashboard_queries(path, start_expr, interval, variables):
    """[(panel title, query)] for every target of every panel of the dashboard at `path`,
    filled in by fill_macros(). `variables` gives values for the dashboard's variables (name ->
    list); one not given keeps its default (e.g. the time zone `tz`). Multi-value and
    include-all variables become regex groups, the others their value."""
    dashboard = load_dashboard(path)
    values, raw = {}, set()
    for var in dashboard.get("templating", {}).get("list", []):
        if not (var.get("multi") or var.get("includeAll")):
            raw.add(var["name"])
        current = var.get("current", {}).get("value")
        if current is not None and current != ["$__all"]:
            values[var["name"]] = current
    values.update(variables)
    out = []
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            if target.get("hide"):
                continue
            out.append((panel.get("title", ""),
                        fill_macros(target["query"], start_expr, interval, values, raw)))
    return out


def variable_queries(path):
    """[(variable name, query)] for the dashboard's query variables."""
    dashboard = load_dashboard(path)
    return [(v["name"], v["query"] if isinstance(v["query"], str) else v["query"]["query"])
            for v in dashboard.get("templating", {}).get("list", []) if v.get("type") == "query"]


def null_columns(series):
    """The value columns (all but time) that hold no non-null value in any of the series; also
    "(no series)" when there is none: an empty result for a query that should show data."""
    if not series:
        return ["(no series)"]
    columns = {}
    for s in series:
        for i, column in enumerate(s["columns"]):
            if column == "time":
                continue
            seen = any(row[i] is not None for row in s.get("values", []))
            columns[column] = columns.get(column, False) or seen
    return sorted(c for c, seen in columns.items() if not seen)
