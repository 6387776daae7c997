"""The two clients of the benchmark; both answer `request(method, path, headers=..., data=...) -> Response`.

- `HttpClient`: a small HTTP/1.1 client over `http.client` for a server on the loopback interface, with a
  cookie jar and the CSRF token (gunicorn's sync workers close every connection, so it reconnects as
  needed);
- `InProcessClient`: Django's test `Client` in this process, which can also count the SQL queries of a
  request (`CaptureQueriesContext`). The benchmark uses it for the query counts, and `--in-process`
  runs every scenario through it (the smoke test does, on tiny data).
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


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


@dataclass
class Streamed:
    """A response read as it arrives (a CSV export): when its first bytes came, when its last did."""

    status: int
    first_byte: float = 0.0  # seconds
    first_row: float = 0.0  # when the second line began (a CSV's first row after its header)
    elapsed: float = 0.0
    size: int = 0
    lines: int = 0

    def take(self, chunk: bytes, started: float) -> None:
        if not self.size:
            self.first_byte = time.perf_counter() - started
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")
        if not self.first_row and self.lines >= 2:
            self.first_row = time.perf_counter() - started


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

    def stream(self, path: str) -> Streamed:
        """GET `path` and read the body piece by piece as the server sends it."""
        headers = {"Accept-Encoding": "identity"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.close()  # a fresh connection: nothing left over from a kept-alive one
        conn = self._connection()
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        raw = conn.getresponse()
        result = Streamed(raw.status)
        while chunk := raw.read1(65536):
            result.take(chunk, started)
        result.elapsed = time.perf_counter() - started
        self.close()
        return result

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
    """Django's test Client in this process, signed in as `user` (None: anonymous); counts queries on
    request."""

    def __init__(self, user):
        self.client = Client(HTTP_HOST="127.0.0.1")
        if user is not None:
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

    def stream(self, path: str) -> Streamed:
        started = time.perf_counter()
        response = self.client.get(path)
        result = Streamed(response.status_code)
        for chunk in response.streaming_content:
            result.take(chunk, started)
        result.elapsed = time.perf_counter() - started
        return result

    def count_queries(
        self, method: str, path: str, headers: dict | None = None, data=None
    ) -> tuple[int, int]:
        response = self.request(method, path, headers=headers, data=data, capture=True)
        return response.status, response.queries or 0
