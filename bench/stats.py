"""Latency statistics of the benchmark: nearest-rank percentiles, one result per scenario, a table."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field


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
