"""The goals `python -m bench run` checks, and the PASS / FAIL summary it ends with.

`GOALS` is the one place their thresholds live; docs/performance.md says in words what each one means.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

# Goal name → threshold. Times are milliseconds, measured on the large seed_scale company (10,000 users).
GOALS = {
    "table_partial_p95_ms": 40,  # the IAM table's htmx partial, one client, unloaded
    "full_page_p95_ms": 50,  # the IAM table as a full page
    "queries_per_table_partial": 5,  # the most SQL queries of any table partial
    "deep_page_p50_ratio": 1.5,  # page N after following "Next" vs page 1
    "admin_p50_ratio": 0.5,  # ours vs the Django admin answering the same question
    "growth_p50_ratio": 1.3,  # the same page on the 10k company vs the 1k company
    "check_p95_ms": 1,  # AccessResolver(user).can(...) in process, a new resolver each time
    "check_queries": 1,  # SQL queries of one such check
    "check_http_p50_ms": 2,  # a permission check over HTTP (the project overview stands in for it)
    "role_change_p95_ms": 25,  # POST a new role, then refresh the table partial
    "preview_p95_ms": 100,  # a dialog's what-if preview (one user's role, a group's role), one client
    "mixed_load_rps": 400,  # requests per second of the mixed load, with no errors
    # The audit log, measured at a million events (seed_scale --audit-events 1000000)
    "audit_page_p95_ms": 50,  # the audit log partial with no filter or any one filter
    "audit_deep_page_p50_ratio": 1.5,  # page 51 vs page 1
    "audit_event_inserts": 1,  # INSERTs a change spends on its event
    "audit_csv_first_row_ms": 500,  # the CSV of 100k events: its first event arrives
    "audit_csv_peak_mb": 25,  # Python memory while streaming it (tracemalloc peak)
}


@dataclass
class Goal:
    name: str
    measured: str
    ok: bool | None  # None: not measured


def _table_goals(b) -> list[Goal]:
    p, full = b.iam_partial, b.iam_full
    limit = GOALS["table_partial_p95_ms"]
    goals = [
        Goal(f"IAM table partial at 10k: p95 ≤ {limit:g} ms unloaded", f"{p.p95:.1f} ms", p.p95 <= limit)
    ]
    if b.small_counts:
        goals.append(
            Goal(
                "IAM partial: same queries at 10k as at ~10 identities",
                f"{p.queries} vs {b.small_counts['IAM']} ({b.demo.slug})",
                b.small_counts["IAM"] == p.queries,
            )
        )
    limit = GOALS["full_page_p95_ms"]
    goals.append(Goal(f"IAM full page p95 ≤ {limit:g} ms", f"{full.p95:.1f} ms", full.p95 <= limit))
    table_queries = [
        r.queries
        for r in b.results
        if r.queries is not None and "partial" in r.name and "admin" not in r.name
    ]
    if table_queries:
        limit = GOALS["queries_per_table_partial"]
        most = max(table_queries)
        goals.append(Goal(f"≤ {limit:g} SQL queries per table partial", f"max {most}", most <= limit))
    deep_ratio, limit = b.iam_deep.p50 / p.p50, GOALS["deep_page_p50_ratio"]
    goals.append(Goal(f"deep page p50 ≤ {limit:g} x first page", f"x{deep_ratio:.2f}", deep_ratio <= limit))
    return goals


def _comparison_goals(b) -> list[Goal]:
    limit = GOALS["admin_p50_ratio"]
    goals = [
        Goal(f"ours/admin ≤ {limit:g}: {label}", f"p50 {r50:.2f}, p95 {r95:.2f}", r50 <= limit)
        for label, r50, r95 in getattr(b, "ratios", [])
    ]
    limit = GOALS["growth_p50_ratio"]
    goals += [
        Goal(
            f"growth 1k→10k ≤ {limit:g}x: {label}",
            f"p50 x{g50:.2f}, p95 x{g95:.2f}, SQL {q_small}→{q_big}",
            g50 <= limit and q_small == q_big,
        )
        for label, g50, g95, q_small, q_big in getattr(b, "growths", [])
    ]
    if not getattr(b, "growths", None):
        goals.append(Goal(f"growth 1k→10k ≤ {limit:g}x", "not measured (no small company)", None))
    return goals


def _check_goals(b) -> list[Goal]:
    goals = []
    if hasattr(b, "perm"):
        limit, queries = GOALS["check_p95_ms"], GOALS["check_queries"]
        goals.append(
            Goal(
                f"permission check in process: p95 ≤ {limit:g} ms, {queries} query",
                f"p50 {b.perm.p50:.3f} ms, p95 {b.perm.p95:.3f} ms, {b.perm.queries} query",
                b.perm.p95 <= limit and b.perm_query_counts == {queries},
            )
        )
    if hasattr(b, "perm_http"):
        limit = GOALS["check_http_p50_ms"]
        goals.append(
            Goal(
                f"permission over HTTP p50 ≤ {limit:g} ms (proxy: project overview)",
                f"p50 {b.perm_http.p50:.1f} ms",
                b.perm_http.p50 <= limit,
            )
        )
    return goals


def _write_goals(b) -> list[Goal]:
    rt, load = b.round_trip, b.load
    limit = GOALS["role_change_p95_ms"]
    goals = [
        Goal("role change seen on the next request", "yes" if b.seen_next else "no", b.seen_next),
        Goal(
            f"role change round trip p95 ≤ {limit:g} ms",
            f"{rt.p95:.1f} ms (p50 {rt.p50:.1f})",
            rt.p95 <= limit,
        ),
    ]
    rps = GOALS["mixed_load_rps"]
    if b.base_url:
        goals.append(
            Goal(
                f"mixed load ≥ {rps:g} req/s, no errors ({b.o['clients']} clients, {b.o['workers']} workers)",
                f"{load.rps:.0f} req/s, {load.errors} errors",
                load.rps >= rps and load.errors == 0,
            )
        )
    else:
        goals.append(
            Goal(f"mixed load ≥ {rps:g} req/s, no errors", "not measured over HTTP (--in-process)", None)
        )
    return goals


def _preview_goals(b) -> list[Goal]:
    limit = GOALS["preview_p95_ms"]
    previews = getattr(b, "previews", [])
    if not previews:
        return [Goal(f"what-if preview p95 ≤ {limit:g} ms", "not measured", None)]
    return [
        Goal(
            f"what-if preview p95 ≤ {limit:g} ms: {result.name.removeprefix('preview · ')}",
            f"{result.p95:.1f} ms (p50 {result.p50:.1f}), {result.queries} queries",
            result.p95 <= limit and result.errors == 0,
        )
        for result in previews
    ]


def _audit_goals(b) -> list[Goal]:
    audit = getattr(b, "audit", None)
    limit = GOALS["audit_page_p95_ms"]
    if not audit:
        return [Goal(f"audit log p95 ≤ {limit:g} ms with any one filter", "not measured (no events)", None)]
    worst_label, worst = max(audit["filters"].items(), key=lambda item: item[1].p95)
    ratio, ratio_limit = audit["deep"].p50 / audit["first"].p50, GOALS["audit_deep_page_p50_ratio"]
    csv, inserts = audit["csv"], audit["event_statements"]["inserts"]
    return [
        Goal(
            f"audit log p95 ≤ {limit:g} ms at {audit['total']:,} events, any one filter",
            f"worst {worst.p95:.1f} ms ({worst_label})",
            worst.p95 <= limit,
        ),
        Goal(f"audit deep page p50 ≤ {ratio_limit:g} x first page", f"x{ratio:.2f}", ratio <= ratio_limit),
        Goal(
            f"writing an event adds ≤ {GOALS['audit_event_inserts']} INSERT to a change",
            f"{inserts:g} INSERT, {audit['event_statements']['statements']:g} statements",
            inserts <= GOALS["audit_event_inserts"],
        ),
        Goal(
            f"CSV of {csv['rows']:,} events: first row ≤ {GOALS['audit_csv_first_row_ms']} ms",
            f"{csv['first_row_ms']:.0f} ms (first byte {csv['first_byte_ms']:.0f} ms, all in {csv['total_s']:.1f} s)",
            csv["first_row_ms"] <= GOALS["audit_csv_first_row_ms"],
        ),
        Goal(
            f"CSV streams in ≤ {GOALS['audit_csv_peak_mb']} MB of Python memory",
            f"peak {csv['peak_mb']:.1f} MB",
            csv["peak_mb"] <= GOALS["audit_csv_peak_mb"],
        ),
    ]


def summary(b) -> None:
    """Print every goal with PASS, FAIL or - (not measured), then the counts."""
    ran = getattr(b, "ran", None)  # the scenarios run (`--only`); None: all of them

    def run(*scenarios) -> bool:
        return ran is None or set(scenarios) <= ran

    goals = _table_goals(b) if run("pages") else [Goal("table goals", "not run (--only)", None)]
    goals += _comparison_goals(b) + _check_goals(b)
    if run("role_change", "mixed_load"):
        goals += _write_goals(b)
    else:
        goals.append(Goal("role change and mixed load goals", "not run (--only)", None))
    goals += _preview_goals(b) + _audit_goals(b)
    b.section("Summary against the goals (docs/performance.md)")
    width = max(len(g.name) for g in goals)
    for goal in goals:
        verdict = "-" if goal.ok is None else "PASS" if goal.ok else "FAIL"
        b.out.write(f"{verdict:<5} {goal.name:<{width}}  {goal.measured}")
    passed = sum(1 for g in goals if g.ok)
    failed = sum(1 for g in goals if g.ok is False)
    b.out.write(f"{passed} passed, {failed} failed, {len(goals) - passed - failed} not measured.")
    sys.stdout.flush()
