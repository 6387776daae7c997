"""Timed loops of the benchmark: one client in turn, several in turn, or many at once in threads.

Every loop is bounded both in count and in time.
"""

from __future__ import annotations

import html
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import Result

_NEXT_LINK = re.compile(r'<a [^>]*href="([^"]+)"[^>]*rel="next"')


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


def post_step(client, path: str, data: dict, headers: dict | None = None, expect: int = 200):
    """A POST that changes nothing, such as a dialog's preview (preview=1): safe to repeat."""

    def step(_i: int) -> tuple[float, bool, int]:
        response = client.request("POST", path, data=data, headers=headers)
        return response.elapsed, response.status == expect, len(response.body)

    return step
