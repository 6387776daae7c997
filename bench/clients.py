"""The building blocks of `manage.py benchmark`: clients, a gunicorn runner, timed loops and statistics.

Two clients share one interface (`request(method, path, headers=..., data=...) -> Response`):

- `HttpClient`: a small HTTP/1.1 client over `http.client` for a server on the loopback interface, with a
  cookie jar and the CSRF token (gunicorn's sync workers close every connection, so it reconnects as
  needed);
- `InProcessClient`: Django's test `Client` in this process, which can also count the SQL queries of a
  request (`CaptureQueriesContext`). The benchmark uses it for the query counts, and `--in-process`
  runs every scenario through it (the smoke test does, on tiny data).

Every loop here is bounded both in count and in time.
"""

from __future__ import annotations

import html
import http.client
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_NEXT_LINK = re.compile(r'<a [^>]*href="([^"]+)"[^>]*rel="next"')


@dataclass
class Response:
    status: int
    body: bytes
    elapsed: float  # seconds
    headers: dict[str, str] = field(default_factory=dict)
    queries: int | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


# -- statistics ---------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; NaN for an empty list."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Result:
    """The latencies of one scenario (seconds), its errors and how long the whole run took."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    queries: int | None = None
    note: str = ""
    size: int = 0  # bytes of the last response

    @property
    def count(self) -> int:
        return len(self.latencies)

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def p50(self) -> float:
        return self.ms(50)

    @property
    def p95(self) -> float:
        return self.ms(95)

    @property
    def p99(self) -> float:
        return self.ms(99)

    @property
    def rps(self) -> float:
        return self.count / self.wall if self.wall > 0 else math.nan


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def result_table(results: Iterable[Result]) -> str:
    """A fixed-width table: scenario, requests, p50/p95/p99 (ms), req/s, queries per request, note."""
    header = f"{'scenario':<44} {'reqs':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'SQL':>4} {'KB':>6}  note"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name[:44]:<44} {r.count:>6} {fmt(r.p50, 2):>8} {fmt(r.p95, 2):>8} {fmt(r.p99, 2):>8} "
            f"{fmt(r.rps, 0):>8} {('-' if r.queries is None else r.queries):>4} {r.size / 1024:>6.1f}  "
            f"{r.note}{f' errors={r.errors}' if r.errors else ''}"
        )
    return "\n".join(lines)


# -- clients ------------------------------------------------------------------------------------------


class HttpClient:
    """HTTP/1.1 to a loopback server: keep-alive when the server allows it, a cookie jar, CSRF header."""

    def __init__(self, base_url: str, *, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise ValueError(f"Only http:// on the loopback interface is allowed, not {base_url!r}.")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def copy(self) -> HttpClient:
        """A client with its own connection and the same cookies (the same signed-in session)."""
        other = HttpClient(f"http://{self.host}:{self.port}", timeout=self.timeout)
        other.cookies = dict(self.cookies)
        return other

    @property
    def csrf_token(self) -> str:
        return self.cookies.get("csrftoken", "")

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self, method: str, path: str, *, headers: dict | None = None, data: dict | None = None
    ) -> Response:
        all_headers = {"Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method != "GET":
            all_headers.setdefault("X-CSRFToken", self.csrf_token)
        for attempt in range(2):  # one retry when a kept-alive connection was closed by the server
            conn = self._connection()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                raw = conn.getresponse()
                payload = raw.read()
            except (ConnectionError, http.client.BadStatusLine, http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - started
            for cookie in raw.msg.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in cookie.lower():
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            if raw.will_close:
                self.close()
            return Response(raw.status, payload, elapsed, {k.lower(): v for k, v in raw.getheaders()})
        raise ConnectionError("unreachable")

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def login(self, email: str, password: str) -> None:
        page = self.get("/accounts/login/")
        match = _CSRF_INPUT.search(page.text)
        if page.status != 200 or not match:
            raise RuntimeError(f"The sign-in page answered {page.status} without a CSRF token.")
        done = self.request(
            "POST",
            "/accounts/login/",
            data={"username": email, "password": password, "csrfmiddlewaretoken": match.group(1)},
            headers={"X-CSRFToken": ""},
        )
        if done.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"Signing in as {email} failed (status {done.status}).")


class InProcessClient:
    """Django's test Client in this process, signed in as `user`; counts queries on request."""

    def __init__(self, user):
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(user)
        self.user = user
        self.csrf_token = ""

    def copy(self) -> InProcessClient:
        return self

    def close(self) -> None:
        pass

    def request(
        self, method: str, path: str, *, headers: dict | None = None, data: dict | None = None, capture=False
    ) -> Response:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        call = self.client.get if method == "GET" else self.client.post
        started = time.perf_counter()
        if capture:
            with CaptureQueriesContext(connection) as ctx:
                response = call(path, data, headers=headers or {})
            queries = len(ctx.captured_queries)
        else:
            response = call(path, data, headers=headers or {})
            queries = None
        elapsed = time.perf_counter() - started
        return Response(response.status_code, response.content, elapsed, dict(response.items()), queries)

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def count_queries(
        self, method: str, path: str, headers: dict | None = None, data=None
    ) -> tuple[int, int]:
        response = self.request(method, path, headers=headers, data=data, capture=True)
        return response.status, response.queries or 0


# -- timed loops --------------------------------------------------------------------------------------


@dataclass
class Limits:
    max_requests: int = 500
    seconds: float = 3.0
    warmup: int = 5


def run_loop(
    name: str, step: Callable[[int], tuple[float, bool, int]], limits: Limits, *, note: str = ""
) -> Result:
    """Call step(i) → (seconds, ok, bytes) up to max_requests times or until `seconds` have passed."""
    for i in range(limits.warmup):
        step(-1 - i)
    result = Result(name, note=note)
    started = time.perf_counter()
    deadline = started + limits.seconds
    for i in range(limits.max_requests):
        if time.perf_counter() >= deadline:
            break
        elapsed, ok, size = step(i)
        result.latencies.append(elapsed)
        result.size = size
        if not ok:
            result.errors += 1
    result.wall = time.perf_counter() - started
    return result


def get_step(client, path: str, headers: dict | None = None, expect: int = 200):
    def step(_i: int) -> tuple[float, bool, int]:
        response = client.get(path, headers)
        return response.elapsed, response.status == expect, len(response.body)

    return step


def run_get(
    name: str, client, path: str, limits: Limits, headers: dict | None = None, note: str = ""
) -> Result:
    return run_loop(name, get_step(client, path, headers), limits, note=note)


def run_alternating(pairs: list[tuple[str, object, str, dict | None]], limits: Limits) -> list[Result]:
    """Several (name, client, path, headers) measured request by request in turn, so they share the
    same moment of the machine; each result's `wall` is the time spent in its own requests."""
    steps = [get_step(client, path, headers) for _, client, path, headers in pairs]
    for i in range(limits.warmup):
        for step in steps:
            step(-1 - i)
    results = [Result(name) for name, *_ in pairs]
    deadline = time.perf_counter() + limits.seconds * len(pairs)
    for i in range(limits.max_requests):
        if time.perf_counter() >= deadline:
            break
        for step, result in zip(steps, results, strict=True):
            elapsed, ok, size = step(i)
            result.latencies.append(elapsed)
            result.wall += elapsed
            result.size = size
            result.errors += not ok
    return results


def follow_next(client, path: str, hops: int, headers: dict | None = None) -> tuple[str, int]:
    """Follow the table's "Next →" link up to `hops` times; returns the last page's URL and the hops made."""
    base = path.split("?", 1)[0]
    made = 0
    for _ in range(hops):
        page = client.get(path, headers)
        match = _NEXT_LINK.search(page.text) if page.status == 200 else None
        if not match:
            break
        href = html.unescape(match.group(1))
        path = href if href.startswith("/") else base + href
        made += 1
    return path, made


# -- concurrent load ------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    results: dict[str, Result]
    wall: float
    errors: int
    exceptions: list[str]

    @property
    def total(self) -> int:
        return sum(r.count for r in self.results.values())

    @property
    def rps(self) -> float:
        return self.total / self.wall if self.wall else math.nan


def run_mixed_load(
    clients: list,
    pick: Callable[[int, int], tuple[str, str, str, dict | None, dict | None, int]],
    *,
    seconds: float,
    max_requests_per_client: int = 1_000_000,
) -> LoadReport:
    """Each client in its own thread asks pick(client_index, i) → (kind, method, path, headers, data,
    expected status) until `seconds` have passed (or max_requests_per_client is reached)."""
    results: dict[str, Result] = {}
    lock = threading.Lock()
    exceptions: list[str] = []
    deadline = time.perf_counter() + seconds

    def worker(index: int, client) -> None:
        local: dict[str, Result] = {}
        for i in range(max_requests_per_client):
            if time.perf_counter() >= deadline:
                break
            kind, method, path, headers, data, expect = pick(index, i)
            result = local.setdefault(kind, Result(kind))
            try:
                response = client.request(method, path, headers=headers, data=data)
            except Exception as exc:
                result.errors += 1
                with lock:
                    exceptions.append(f"{kind}: {exc!r}")
                continue
            result.latencies.append(response.elapsed)
            result.errors += response.status != expect
        with lock:
            for kind, result in local.items():
                total = results.setdefault(kind, Result(kind))
                total.latencies += result.latencies
                total.errors += result.errors

    started = time.perf_counter()
    if len(clients) == 1:
        worker(0, clients[0])
    else:
        threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 60)
    wall = time.perf_counter() - started
    for result in results.values():
        result.wall = wall
    return LoadReport(results, wall, sum(r.errors for r in results.values()), exceptions)


# -- gunicorn ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornServer:
    """gunicorn serving the project the production way (DEBUG off, persistent DB connections) on a free
    loopback port. Use as a context manager: the server (and only it) is stopped on exit, error or Ctrl-C."""

    def __init__(self, *, workers: int = 3, database_url: str, base_dir: Path, extra_env: dict | None = None):
        self.workers = workers
        self.port = free_port()
        self.base_dir = base_dir
        self.log = tempfile.NamedTemporaryFile(prefix="iam-benchmark-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
        self.env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("BENCHMARK_SECRET_KEY") or os.urandom(32).hex(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "WHITENOISE_USE_FINDERS": "true",
            "CONN_MAX_AGE": "60",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        local = Path(sys.executable).parent / "gunicorn"
        executable = str(local) if local.exists() else shutil.which("gunicorn") or "gunicorn"
        return [executable, "iam_portal.wsgi", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}"]

    def collectstatic(self) -> None:
        """What the production image does before serving (manifest storage needs it when DEBUG is off)."""
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=self.base_dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=300,
        )

    def start(self, timeout: float = 30.0) -> None:
        self.collectstatic()
        self.process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            self.command(),
            cwd=self.base_dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.perf_counter() + timeout
        probe = HttpClient(self.base_url, timeout=2)
        for _ in range(int(timeout / 0.1) + 1):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with status {self.process.returncode}; see {self.log.name}"
                )
            try:
                if probe.get("/healthz").status == 200:
                    return
            except OSError:
                pass
            if time.perf_counter() >= deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the master stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only gunicorn and its workers
            process.wait(timeout=5)

    def __enter__(self) -> GunicornServer:
        self._previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            self.start()
        except BaseException:
            self.stop()
            signal.signal(signal.SIGTERM, self._previous)
            raise
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        signal.signal(signal.SIGTERM, self._previous)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt
