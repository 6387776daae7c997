"""The scenarios of `python -m bench run`, in the order they run (`ALL`).

Each takes the run (`bench.run.Bench`), measures with its clients, records its results and keeps on the
run what the goals need (`bench/goals.py`).
"""

from __future__ import annotations

import random
import time
import urllib.parse

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import audit
from bench.clients import InProcessClient
from bench.loops import Limits, follow_next, post_step, run_alternating, run_loop, run_mixed_load
from bench.seed import identity_count
from bench.stats import Result
from iam_portal.access import catalogue
from iam_portal.access.models import RoleBinding
from iam_portal.access.resolver import AccessResolver
from iam_portal.identities.models import GroupMembership
from iam_portal.orgs.models import Environment, Project

HX = {"HX-Request": "true"}
ADMIN_EMAIL = "admin@acme.test"


def pages(b) -> None:
    c, q = b.company, b.o["search"]
    b.section(f"Pages of {c.slug} (unloaded, one client)")
    b.header()
    iam = b.url(c, "iam")
    b.iam_full = b.measure("IAM table · full page", iam)
    b.iam_partial = b.measure("IAM table · partial (HX)", iam, HX)
    # The partials the table goals are about besides the IAM partial: other tables, and the variants
    # (search, type filter, sort=role, deep page) of every table.
    b.other_partials, b.variant_partials = [], []
    variants = b.variant_partials
    variants.append(b.measure(f"IAM · search q={q} (partial)", b.url(c, "iam", q=q), HX))
    variants.append(b.measure("IAM · type=group (partial)", b.url(c, "iam", type="group"), HX))
    variants.append(b.measure("IAM · sort=role (partial)", b.url(c, "iam", sort="role"), HX))
    deep, hops = follow_next(b.client, iam, b.o["deep"], HX)
    b.deep_path = deep
    b.iam_deep = b.measure(f"IAM · deep page {hops + 1} (partial)", deep, HX, note=f"{hops} x Next")
    variants.append(b.iam_deep)
    b.cursor_paths = [follow_next(b.client, iam, n, HX)[0] for n in (1, 2, 3)]

    b.users_full = b.measure("Users · full page", b.url(c, "users"))
    b.other_partials.append(b.measure("Users · partial (HX)", b.url(c, "users"), HX))
    variants.append(b.measure(f"Users · search q={q} (partial)", b.url(c, "users", q=q), HX))
    variants.append(b.measure("Users · sort=role (partial)", b.url(c, "users", sort="role"), HX))
    users_deep, hops = follow_next(b.client, b.url(c, "users"), b.o["deep"], HX)
    variants.append(
        b.measure(f"Users · deep page {hops + 1} (partial)", users_deep, HX, note=f"{hops} x Next")
    )
    other_pages(b)
    small_company_queries(b)


def other_pages(b) -> None:
    """Groups, service accounts, a group and a project's IAM, each when the page answers."""
    c, q = b.company, b.o["search"]
    b.optional = {}
    candidates = [("Groups", b.url(c, "groups")), ("Service accounts", b.url(c, "sas"))]
    if b.group:
        candidates.append(("Group detail", f"/companies/{c.slug}/groups/{b.group.pk}/"))
    if b.project:
        candidates.append(("Project IAM", f"/companies/{c.slug}/projects/{b.project.slug}/iam/"))
    for label, path in candidates:
        if not b.available(path):
            b.out.write(f"{label}: {path} is not available yet, skipped")
            continue
        b.optional[label] = path
        b.measure(f"{label} · full page", path)
        b.other_partials.append(b.measure(f"{label} · partial (HX)", path, HX))
        if label != "Group detail":
            search = f"{path}?q={urllib.parse.quote(q)}"
            b.variant_partials.append(b.measure(f"{label} · search q={q} (partial)", search, HX))


def small_company_queries(b) -> None:
    """The same tables on a company of about ten identities: the query count must not change."""
    b.small_counts = {}
    if not (b.demo and b.demo_owner):
        return
    counter = InProcessClient(b.demo_owner)
    for name, page in (("IAM", "iam"), ("Users", "users")):
        counter.get(b.url(b.demo, page), HX)  # steady state: the first page after a change counts again
        _, n = counter.count_queries("GET", b.url(b.demo, page), HX)
        b.small_counts[name] = n
    b.out.write(
        f"Queries per table partial at {b.demo.slug} (about ten identities): "
        + ", ".join(f"{k} {v}" for k, v in b.small_counts.items())
    )


def admin_comparison(b) -> None:
    b.section("Ours vs the Django admin (same data, alternating request by request)")
    if b.admin_client is None:
        b.notes.append(f"No super user {ADMIN_EMAIL} (run seed_demo): admin comparison skipped.")
        b.out.write("skipped: no super user")
        return
    q, c = b.o["search"], b.company
    quoted = urllib.parse.quote(q)
    admin_counter = InProcessClient(b.admin)
    pairs = [
        (
            f"identities matching {q}",
            ("ours: IAM partial", b.url(c, "iam", q=q)),
            ("admin: RoleBinding changelist", f"/admin/access/rolebinding/?q={quoted}"),
        ),
        (
            f"users matching {q}",
            ("ours: Users partial", b.url(c, "users", q=q)),
            ("admin: User changelist", f"/admin/identities/user/?q={quoted}"),
        ),
        (
            "first page, no search",
            ("ours: IAM partial", b.url(c, "iam")),
            ("admin: RoleBinding changelist", "/admin/access/rolebinding/"),
        ),
    ]
    b.header()
    b.ratios = []
    for label, (ours_name, ours_path), (admin_name, admin_path) in pairs:
        ours, theirs = run_alternating(
            [
                (f"{ours_name} · {label}", b.client, ours_path, HX),
                (f"{admin_name} · {label}", b.admin_client, admin_path, None),
            ],
            b.limits,
        )
        b.record(ours, path=ours_path, headers=HX)
        b.record(theirs, path=admin_path, counter=admin_counter)
        ratio50, ratio95 = ours.p50 / theirs.p50, ours.p95 / theirs.p95
        b.ratios.append((label, ratio50, ratio95))
        b.out.write(f"  ratio ours/admin ({label}): p50 {ratio50:.2f}, p95 {ratio95:.2f}")


def floor(b) -> None:
    """Ours vs the floor view (bench/floor.py): the IAM partial's own SQL run with a plain cursor and its 50
    rows put in a minimal template, alternating request by request."""
    b.section("Ours vs the floor (the IAM partial's SQL, raw rows, minimal template), alternating")
    if b.floor_statements is None:
        b.floor_skipped = "--base-url: only the gunicorn the benchmark starts serves the floor view"
        b.out.write(f"not measured: {b.floor_skipped}")
        return
    ours_path = b.url(b.company, "iam")
    ours, floor_result = run_alternating(
        [
            ("ours: IAM partial", b.client, ours_path, HX),
            ("floor · IAM partial rows", b.floor_client, "/bench/floor/", None),
        ],
        b.limits,
    )
    floor_result.queries = len(b.floor_statements)
    floor_result.note = "same SQL and params, no session, raw rows"
    b.header()
    b.record(ours, path=ours_path, headers=HX)
    b.record(floor_result)
    b.floor_ratio = ours.p50 / floor_result.p50, ours.p95 / floor_result.p95
    b.out.write(f"  ratio ours/floor: p50 {b.floor_ratio[0]:.2f}, p95 {b.floor_ratio[1]:.2f}")


def role_change(b) -> None:
    b.section("Role change round trip (POST the edit dialog, then refresh the table partial)")
    target = b.edit_targets[0]
    c = b.company
    edit = f"/companies/{c.slug}/iam/user/{target.pk}/edit/"
    refresh = b.url(c, "iam", q=target.email)
    roles = [catalogue.REPORTER, catalogue.GUEST]
    dialog, post, pair = (
        Result("role edit · GET dialog"),
        Result("role edit · POST"),
        Result("role edit · POST + table refresh"),
    )
    b.seen_next = True
    started = time.perf_counter()
    deadline = started + b.limits.seconds
    for i in range(b.limits.max_requests):
        if time.perf_counter() >= deadline:
            break
        role = roles[i % 2]
        r1 = b.client.get(edit, HX)
        r2 = b.client.request("POST", edit, data={"role": role}, headers=HX)
        r3 = b.client.get(refresh, HX)
        dialog.latencies.append(r1.elapsed)
        post.latencies.append(r2.elapsed)
        pair.latencies.append(r2.elapsed + r3.elapsed)
        dialog.errors += r1.status != 200
        post.errors += r2.status != 204
        pair.errors += r2.status != 204 or r3.status != 200
        seen = f'role-{role}"' in r3.text
        if i % 10 == 0:  # the resolver, in this process, sees the new role at once too
            grants = AccessResolver(target).grants(c)
            seen = seen and any(g.role == role and g.group_name is None for g in grants)
        b.seen_next = b.seen_next and seen
        pair.size = len(r3.body)
    wall = time.perf_counter() - started
    for result in (dialog, post, pair):
        result.wall = wall
    dialog.queries = b.counter.count_queries("GET", edit, HX)[1]
    post.queries = b.counter.count_queries("POST", edit, HX, {"role": roles[0]})[1]
    pair.queries = post.queries + b.counter.count_queries("GET", refresh, HX)[1]
    pair.note = f"new role visible on the next request: {'yes' if b.seen_next else 'NO'}"
    b.header()
    for result in (dialog, post, pair):
        b.record(result)
    b.round_trip = pair


def preview(b) -> None:
    """What-if before saving (issue 13): a dialog's preview (POST with preview=1, the save run dry and rolled
    back) for one user's company role and for a group's role (every member), and the access page."""
    c = b.company
    b.section(f"What-if previews and the access page of {c.slug}")
    b.header()
    target = b.edit_targets[0]
    role_edit = f"/companies/{c.slug}/iam/user/{target.pk}/edit/"
    asked = [("preview · company role of one user", role_edit, {"role": catalogue.MAINTAINER}, "")]
    if b.group:
        members = GroupMembership.objects.filter(group=b.group).count()
        group_edit = f"/companies/{c.slug}/groups/{b.group.pk}/edit/"
        data = {"name": b.group.name, "role": catalogue.MAINTAINER}
        asked.append(("preview · role of a group", group_edit, data, f"{members} members"))
    b.previews = []
    for name, path, data, note in asked:
        data = {**data, "preview": "1"}
        result = run_loop(name, post_step(b.client, path, data, HX), b.limits, note=note)
        result.queries = b.counter.count_queries("POST", path, HX, data)[1]
        b.previews.append(b.record(result))
    b.access_pages = [b.measure("access page · user", f"/companies/{c.slug}/access/user/{target.pk}/")]
    if b.group:
        path = f"/companies/{c.slug}/access/group/{b.group.pk}/"
        b.access_pages.append(b.measure("access page · group", path))


def permission_check(b) -> None:
    b.section("Permission check: AccessResolver(user).can('environment.deploy', env), new resolver each time")
    binding = (
        RoleBinding.objects.filter(environment__project__company=b.company, user__isnull=False)
        .order_by("pk")
        .first()
    )
    if binding is None:
        b.notes.append("No environment binding of a user: permission check skipped.")
        return
    user = binding.user
    env = Environment.objects.select_related("project__company").get(pk=binding.environment_id)
    for _ in range(200):  # warm-up
        AccessResolver(user).can("environment.deploy", env)
    counts = set()
    for _ in range(20):
        with CaptureQueriesContext(connection) as ctx:
            AccessResolver(user).can("environment.deploy", env)
        counts.add(len(ctx.captured_queries))
    result = Result("resolver.can (in process)")
    answer = None
    started = time.perf_counter()
    for _ in range(b.o["iterations"]):
        resolver = AccessResolver(user)
        t0 = time.perf_counter()
        answer = resolver.can("environment.deploy", env)
        result.latencies.append(time.perf_counter() - t0)
    result.wall = time.perf_counter() - started
    result.queries = max(counts)
    result.note = (
        f"{user.email} on {env.project.slug}/{env.env_id}: {answer}; queries per check {sorted(counts)}"
    )
    b.perm_query_counts = counts
    b.header()
    b.perm = b.record(result)
    if b.project:
        path = f"/companies/{b.company.slug}/projects/{b.project.slug}/"
        b.perm_http = b.measure(
            "permission over HTTP: project overview", path, note="proxy: no JSON check endpoint yet"
        )


def mixed_load(b) -> None:
    n = b.o["clients"] if b.base_url else 1
    b.section(
        f"Mixed load: {n} concurrent clients for {b.o['duration']:g} s "
        "(80% partials, 15% full pages, 5% role edits)"
    )
    clients = [b.client.copy() for _ in range(n)]
    report = run_mixed_load(clients, _mixed_pick(b, n), seconds=b.o["duration"])
    for client in clients:
        client.close()
    b.header()
    for result in report.results.values():
        result.name = f"mixed · {result.name}"
        b.record(result)
    total = Result("mixed · all requests")
    for result in report.results.values():
        total.latencies += result.latencies
        total.errors += result.errors
    total.wall = report.wall
    total.note = f"{n} clients"
    b.record(total)
    b.load = report
    b.out.write(
        f"  total {report.total} requests in {report.wall:.1f} s = {report.rps:.0f} req/s, {report.errors} errors"
    )
    for line in report.exceptions[:5]:
        b.out.write(f"  error: {line}")


def _mixed_pick(b, n: int):
    """pick(client index, i) for run_mixed_load: 80% table partials, 15% full pages, 5% role edits."""
    c, q = b.company, b.o["search"]
    partials = [
        b.url(c, "iam"),
        b.url(c, "iam", q=q),
        b.url(c, "iam", q="a"),
        b.url(c, "iam", type="user"),
        b.url(c, "iam", type="group"),
        b.url(c, "iam", type="service-account"),
        b.url(c, "iam", sort="role"),
        b.url(c, "users"),
        b.url(c, "users", q=q),
        *b.cursor_paths,
        b.deep_path,
        *b.optional.values(),
    ]
    fulls = [b.url(c, "iam"), b.url(c, "users"), b.url(c, "overview")]
    targets = b.edit_targets[1:] or b.edit_targets
    rngs = [random.Random(b.o["seed"] + i) for i in range(n)]  # noqa: S311
    roles = [catalogue.GUEST, catalogue.REPORTER]

    def pick(index: int, i: int):
        rng = rngs[index]
        r = rng.random()
        if r < 0.80:
            return "partial", "GET", rng.choice(partials), HX, None, 200
        if r < 0.95:
            return "full page", "GET", rng.choice(fulls), None, None, 200
        user = targets[index % len(targets)]
        edit = f"/companies/{c.slug}/iam/user/{user.pk}/edit/"
        return "role edit (POST)", "POST", edit, HX, {"role": roles[i % 2]}, 204

    return pick


def growth(b) -> None:
    b.growths = []
    if b.small is None or b.small_client is None:
        b.notes.append(
            f"No company {b.o['small_company']!r} (seed_scale --company {b.o['small_company']} --users 1000 "
            "--groups 100 --service-accounts 50 --bindings 5000): cost growth skipped."
        )
        return
    big, small = b.company, b.small
    b.section(f"Cost growth: {small.slug} (~{identity_count(small)} identities) vs {big.slug}, alternating")
    small_counter = InProcessClient(b.small_owner)
    limits = Limits(b.limits.max_requests, min(b.limits.seconds, 2.0), b.limits.warmup)
    b.header()
    for label, small_path, big_path in _growth_pages(b):
        r_small, r_big = run_alternating(
            [
                (f"growth · {label} · {small.slug}", b.small_client, small_path, HX),
                (f"growth · {label} · {big.slug}", b.client, big_path, HX),
            ],
            limits,
        )
        b.record(r_small, path=small_path, headers=HX, counter=small_counter)
        b.record(r_big, path=big_path, headers=HX)
        ratio50, ratio95 = r_big.p50 / r_small.p50, r_big.p95 / r_small.p95
        b.growths.append((label, ratio50, ratio95, r_small.queries, r_big.queries))
        b.out.write(
            f"  growth {label}: p50 x{ratio50:.2f}, p95 x{ratio95:.2f}, "
            f"queries {r_small.queries} → {r_big.queries}"
        )


def _growth_pages(b) -> list[tuple[str, str, str]]:
    """(label, path in the small company, path in the big one) of the same page."""
    big, small, q = b.company, b.small, b.o["search"]
    pages = [
        ("IAM partial", "iam", {}),
        (f"IAM search q={q}", "iam", {"q": q}),
        ("IAM type=group", "iam", {"type": "group"}),
        ("IAM sort=role", "iam", {"sort": "role"}),
        ("Users partial", "users", {}),
        (f"Users search q={q}", "users", {"q": q}),
    ]
    paths = [(label, b.url(small, page, **query), b.url(big, page, **query)) for label, page, query in pages]
    for label, path in b.optional.items():
        if label == "Group detail":
            continue  # different groups, not the same page
        if label == "Project IAM":
            small_project = Project.objects.filter(company=small).order_by("slug").first()
            if small_project is not None:
                paths.append((label, f"/companies/{small.slug}/projects/{small_project.slug}/iam/", path))
        else:
            paths.append((label, path.replace(f"/companies/{big.slug}/", f"/companies/{small.slug}/"), path))
    return paths


ALL = [
    pages,
    admin_comparison,
    floor,
    role_change,
    preview,
    permission_check,
    mixed_load,
    growth,
    audit.audit_log,
]
